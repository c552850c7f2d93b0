package hdfs

import (
	"os"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// KerberosClient logs in as login says (keytab, else the ticket cache), with
// krb5.conf from KRB5_CONFIG (default /etc/krb5.conf), for other Hadoop
// clients than HDFS's own (the YARN client of spate yarn-submit). getenv nil
// is os.Getenv. Errors are *KerberosError, naming what to change.
func KerberosClient(login KerberosLogin, getenv func(string) string) (*krbclient.Client, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	path, from := krb5ConfPath(getenv)
	cfg, err := loadKrb5Conf(path, from)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return kerberosClient(login, cfg, path, host, getenv)
}

// LoadKeytab reads a keytab file, bounded in size, with malformed bytes an
// error rather than a panic: for the servers that decrypt tickets with it
// (worker/transport's GSSAPI).
func LoadKeytab(path string) (*keytab.Keytab, error) { return loadKeytab(path) }
