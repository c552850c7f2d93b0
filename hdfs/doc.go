// Package hdfs is the one filesystem interface through which Spate reads and
// writes files: job inputs and outputs today, checkpoints and savepoints later.
//
// # Model
//
// A FileSystem serves paths of one kind. Resolve maps a user-supplied URI or
// path to the FileSystem that serves it and the path to hand that FileSystem:
//
//	fsys, p, err := hdfs.Resolve("file:///data/in")
//	// fsys == hdfs.Local{}, p == "/data/in"
//	f, err := fsys.Open(p)
//
// The schemes understood are:
//
//	/abs/path, rel/path     a path on the local filesystem (relative to the working directory)
//	file:///abs/path        the same, as a URI (file://localhost/abs/path is accepted too)
//	file:/abs/path          the same, in Hadoop's short form
//	hdfs://host:port/path   HDFS, the NameNode at host:port (8020 if no port)
//	hdfs://nameservice/path HDFS, an HA nameservice of the Hadoop configuration
//	hdfs:///path, hdfs:/path HDFS, the NameNodes of fs.defaultFS
//
// Any other scheme is an error wrapping ErrUnsupportedScheme. As with Hadoop's
// Path, a URI is taken literally: no percent-decoding, and '?' and '#' are
// part of the file name. A path without a scheme is local unless
// fs.default-scheme (SetDefaultScheme, Flink's key) says otherwise:
// hdfs:/// resolves it against fs.defaultFS, as Hadoop does, an absolute path
// as it is and a relative one under the user's home, /user/NAME. Local is the
// default, as in Flink: taking fs.defaultFS whenever HADOOP_CONF_DIR is set
// would silently move every local path (and the default checkpoint
// directory, and paths handed between processes as bare local paths) to
// HDFS.
//
// # HDFS
//
// hdfs:// goes through github.com/colinmarc/hdfs/v2 (type HDFS; see its
// documentation for where HDFS differs from a local disk). The clients live
// in a Hadoop: one per authority, made on first use and cached. Resolve uses
// a process-wide one, configured from the environment:
//
//   - the Hadoop configuration: core-site.xml then hdfs-site.xml from
//     $HADOOP_CONF_DIR, else $YARN_CONF_DIR, else $HADOOP_HOME/etc/hadoop,
//     read by this package's own parser (HadoopConf: <final>, ${var} and
//     ${env.VAR}, deprecated names). fs.defaultFS, dfs.nameservices,
//     dfs.ha.namenodes.NS and dfs.namenode.rpc-address.NS.NN give the
//     NameNodes, tried in order (the library fails over between them);
//     dfs.replication, dfs.blocksize and fs.permissions.umask-mode shape new
//     files, as in Hadoop's client.
//   - hadoop.security.authentication=kerberos: a gokrb5 client from the
//     keytab of SetKerberosLogin (security.kerberos.login.keytab and
//     .principal, _HOST replaced by the host name), else from the ticket
//     cache ($KRB5CCNAME, FILE: only; default /tmp/krb5cc_UID); krb5.conf
//     from $KRB5_CONFIG (default /etc/krb5.conf); the NameNode's principal
//     from dfs.namenode.kerberos.principal. The login and a ticket for each
//     NameNode are fetched before connecting, so a bad credential fails with
//     a *KerberosError whose one line says what to change.
//   - dfs.data.transfer.protection: authentication is used when offered;
//     integrity or privacy alone (or dfs.encrypt.data.transfer) is refused
//     with ErrDataTransferProtection, because colinmarc/hdfs v2.4.0 writes
//     under them but cannot read back.
//   - simple authentication: the user is $HADOOP_USER_NAME, else the OS user.
//
// A NameNode that refuses or times out the first connection is tried again,
// as Hadoop's IPC client does: ipc.client.connect.max.retries more times
// (default 10), ipc.client.connect.retry.interval ms apart (default 1000);
// then the error wraps ErrNameNodeUnreachable and says how often it tried.
//
// Publication without replacement (RenameNoReplace) follows Hadoop's rename:
// an existing target is an error. Checkpoint _metadata and committed part
// files are published this way, so nothing published is ever overwritten.
//
// A write, sync or close that fails in the DataNode pipeline wraps
// ErrWritePipeline: the library cannot rebuild a pipeline, so the writer
// keeps that error and the file must be written again (a checkpoint is
// declined; the exactly-once sink fails over to its last checkpoint).
//
// Keytabs and ticket caches are read bounded (1 MiB), and a ticket cache's
// lengths and counts are checked before gokrb5 parses it, whose parser
// would allocate whatever a crafted count asks for.
//
// Diagnose (spate doctor) checks the configuration, the login, HDFS and
// the ResourceManager a command would use, one Check per line.
//
// Not yet: re-login before a ticket expires (gokrb5 renews a keytab login's
// TGT itself; a ticket-cache login lasts as long as its ticket) and
// delegation tokens (containers log in with a shipped keytab).
//
// Paths handed back by a FileSystem (FileInfo.Path) can be passed to the same
// FileSystem again; they are not URIs.
//
// # Invariants
//
//   - Errors wrap the underlying cause, so errors.Is(err, fs.ErrNotExist) and
//     errors.Is(err, fs.ErrPermission) keep working, and they name the path.
//   - Rename is atomic on the local filesystem and replaces the target: write to
//     a hidden temporary name, then Rename, and a reader never sees half a file.
//   - ReadDir is sorted by name.
//
// # What this package must never do
//
// It knows nothing of jobs, records or checkpoints: it moves bytes. Code that
// reads or writes durable data must go through a FileSystem, never through
// package os, so that tests can inject faults with package hdfs/faultfs.
package hdfs
