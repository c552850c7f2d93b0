package yarn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spate-io/spate/hdfs"
)

// Conf is a YARN client's Hadoop configuration: core-site.xml and
// hdfs-site.xml as package hdfs reads them, overridden by yarn-site.xml, as
// Java's YarnConfiguration layers them.
type Conf struct {
	// Dir is the directory the files came from.
	Dir  string
	core *hdfs.HadoopConf
	yarn *hdfs.HadoopConf // nil when there is no yarn-site.xml
}

// LoadConf reads the configuration from dir; a missing file is skipped.
func LoadConf(dir string) (*Conf, error) {
	core, err := hdfs.LoadHadoopConf(dir)
	if err != nil {
		return nil, err
	}
	c := &Conf{Dir: dir, core: core}
	p := filepath.Join(dir, "yarn-site.xml")
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if c.yarn, err = hdfs.ParseHadoopConf(p, b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// LoadConfFromEnv reads the configuration from $HADOOP_CONF_DIR,
// $YARN_CONF_DIR or $HADOOP_HOME/etc/hadoop, the first one set.
func LoadConfFromEnv(getenv func(string) string) (*Conf, error) {
	dir, from := hdfs.HadoopConfDir(getenv)
	if dir == "" {
		return nil, errors.New("yarn: no Hadoop configuration: set HADOOP_CONF_DIR (or YARN_CONF_DIR) to the directory with yarn-site.xml")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return nil, fmt.Errorf("yarn: Hadoop configuration directory %s (from %s): %w", dir, from, err)
	}
	return LoadConf(dir)
}

// Get returns a property, yarn-site.xml first. (${var} references across
// files are not resolved: each file expands its own.)
func (c *Conf) Get(key string) string {
	if v, ok := c.yarn.Lookup(key); ok {
		return v
	}
	return c.core.Get(key)
}

// Secure reports whether hadoop.security.authentication is kerberos.
func (c *Conf) Secure() (bool, error) {
	switch v := strings.ToLower(c.Get("hadoop.security.authentication")); v {
	case "", "simple":
		return false, nil
	case "kerberos":
		return true, nil
	default:
		return false, fmt.Errorf("yarn: hadoop.security.authentication=%q in %s: want simple or kerberos", v, c.Dir)
	}
}

// ResourceManagerAddress returns yarn.resourcemanager.address (with HA, the
// address of the first of yarn.resourcemanager.ha.rm-ids).
func (c *Conf) ResourceManagerAddress() (string, error) {
	return c.rmAddress("yarn.resourcemanager.address", "8032")
}

// SchedulerAddress returns yarn.resourcemanager.scheduler.address, where
// ApplicationMasterProtocol is served.
func (c *Conf) SchedulerAddress() (string, error) {
	return c.rmAddress("yarn.resourcemanager.scheduler.address", "8030")
}

func (c *Conf) rmAddress(key, port string) (string, error) {
	if strings.EqualFold(c.Get("yarn.resourcemanager.ha.enabled"), "true") {
		ids := strings.Split(c.Get("yarn.resourcemanager.ha.rm-ids"), ",")
		if id := strings.TrimSpace(ids[0]); id != "" {
			if a := c.Get(key + "." + id); a != "" {
				return a, nil
			}
			if h := c.Get("yarn.resourcemanager.hostname." + id); h != "" {
				return h + ":" + port, nil
			}
		}
	}
	if a := c.Get(key); a != "" {
		return a, nil
	}
	if h := c.Get("yarn.resourcemanager.hostname"); h != "" {
		return h + ":" + port, nil
	}
	return "", fmt.Errorf("yarn: %s is not set in %s: set it (or yarn.resourcemanager.hostname) to the ResourceManager's host:port", key, c.Dir)
}

// RPCProtection returns hadoop.rpc.protection's levels ("authentication",
// "integrity", "privacy"), authentication when unset.
func (c *Conf) RPCProtection() []string {
	var out []string
	for _, l := range strings.Split(c.Get("hadoop.rpc.protection"), ",") {
		if l = strings.ToLower(strings.TrimSpace(l)); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = []string{"authentication"}
	}
	return out
}
