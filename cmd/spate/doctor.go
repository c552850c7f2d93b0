package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
)

// doctorCommand checks the configuration and the Hadoop setup that a
// command would use: one line per check, with what to change; exit 0 only
// when every check passes.
func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the Hadoop configuration, Kerberos login, HDFS and YARN that jobs would use; exit 0 only when all pass",
		Description: "Checks, one line each: the Hadoop configuration directory (HADOOP_CONF_DIR, YARN_CONF_DIR, $HADOOP_HOME/etc/hadoop), " +
			"the NameNodes of fs.defaultFS, krb5.conf and the realm, the keytab and its principal (security.kerberos.login.*) or the ticket cache, " +
			"the ticket's lifetime, the clock skew with the KDC, the HDFS home directory and state.checkpoints.dir (by writing a file), " +
			"and the YARN ResourceManager (a TCP connection).",
		Flags:           []cli.Flag{dynamicFlag},
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("spate doctor: unexpected argument %q", c.Args().First())
			}
			cfg, err := conf.Load(c.StringSlice("D"))
			if err != nil {
				return usageErrorf("spate doctor: %v", err)
			}
			checks := hdfs.Diagnose(hdfs.DiagnoseOptions{
				Hadoop: hdfs.HadoopOptions{Login: hdfs.KerberosLogin{
					Principal:     conf.KerberosLoginPrincipal.Get(cfg),
					Keytab:        conf.KerberosLoginKeytab.Get(cfg),
					NoTicketCache: !conf.KerberosLoginUseTicketCache.Get(cfg),
				}},
				CheckpointsDir: conf.CheckpointsDirectory.Get(cfg),
			})
			tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
			failed := 0
			for _, ch := range checks {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", ch.Status, ch.Name, ch.Detail)
				if ch.Status == hdfs.CheckFail {
					failed++
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				return failuref("spate doctor: %d of %d checks failed", failed, len(checks))
			}
			return nil
		},
	}
}
