// Package graph is the JobGraph: the logical plan a job's main() builds through the
// sdk, before anything runs.
//
// A JobGraph is a DAG of Nodes (sources, operators, sinks) joined by Edges that
// carry a partitioner (forward, rebalance, rescale, hash, broadcast, global).
// Finalize resolves default parallelism and partitioners, validates the graph,
// assigns every node its operator id and decides chaining. After Finalize the
// graph is read-only.
//
// Invariants the rest of Spate relies on:
//   - Node indices are the creation order, which is topological: a node's inputs
//     always have smaller indices.
//   - Operator ids are deterministic: derived from the uid when one is set, else
//     from the node's position, kind, name and inputs. The same program with the
//     same arguments yields the same ids and the same Fingerprint in every process,
//     which is how a TaskManager checks that it runs the same job binary.
//   - Two nodes are chained when the edge between them is forward, their
//     parallelism is equal, the downstream node has exactly one input and neither
//     disables chaining. A chain is a tree rooted at its head; it runs as one task.
//
// The package does no I/O. Node.Factory is opaque here: the runtime (worker/task)
// knows what it is.
package graph
