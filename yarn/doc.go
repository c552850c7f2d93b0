// Package yarn is Spate's client of Apache Hadoop YARN, in Go: the
// ResourceManager's ApplicationClientProtocol for submitting, watching and
// killing applications (Client), over Hadoop RPC (package yarn/ipc), with
// the protocol buffers of package yarn/proto and the SASL mechanisms of
// package yarn/security.
//
// # Model
//
// A Client is made from the cluster's configuration (Conf: core-site.xml,
// hdfs-site.xml and yarn-site.xml from HADOOP_CONF_DIR or YARN_CONF_DIR):
//
//	conf, _ := yarn.LoadConfFromEnv(os.Getenv)
//	c, _ := yarn.NewClient(yarn.ClientOptions{Conf: conf})   // insecure: HADOOP_USER_NAME
//	id, max, _ := c.GetNewApplication(ctx)
//	_ = c.SubmitApplication(ctx, submission)
//	r, _ := c.WaitForApplication(ctx, id, 100*time.Millisecond, yarn.Final)
//
// On a secure cluster (hadoop.security.authentication=kerberos) the client
// authenticates with SASL GSSAPI from a Kerberos login; the RM's principal
// comes from yarn.resourcemanager.principal (_HOST is the RM's host).
//
// Requests and reports are the protocol buffers themselves (yarnpb): they are
// already typed, and Hadoop adds fields faster than a wrapper could follow.
// Application and container ids have Go types with Hadoop's string forms.
//
// # ApplicationMasters and containers
//
// An AM inside YARN reads its container_tokens (security.ReadCredentialsFile
// of HADOOP_TOKEN_FILE_LOCATION), takes the AMRMToken and makes an
// AMRMClient for the scheduler address: Register, Allocate as the heartbeat
// (asks are totals per priority; allocated containers come with NMTokens),
// Finish. It starts each container with an NMClient for the container's
// NodeManager and that node's NMToken. Delegation tokens (Client.GetDelegationToken,
// NameNodeTokens) give containers credentials without a keytab.
//
// README.md has the protocol diagrams and the traps found on the real
// cluster.
//
// # Errors
//
// A ResourceManager exception is an *ipc.RemoteError with its Java class
// (e.g. ApplicationNotFoundException); configuration that is missing or
// wrong is an error naming the key and the file to change.
package yarn
