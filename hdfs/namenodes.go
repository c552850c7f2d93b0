package hdfs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// defaultNameNodePort is the NameNode's RPC port when a URI names a host
// without one (Hadoop's dfs.namenode.rpc-address default).
const defaultNameNodePort = "8020"

// NameNodes returns the RPC addresses (host:port) of the NameNodes that serve
// an hdfs:// authority, in failover order:
//
//   - "" (hdfs:///path): the authority of fs.defaultFS, which must be hdfs://;
//   - a nameservice listed in dfs.nameservices (or with dfs.ha.namenodes.NS):
//     dfs.namenode.rpc-address.NS.NN for each NN of dfs.ha.namenodes.NS, or
//     dfs.namenode.rpc-address.NS for a nameservice without HA;
//   - host:port: itself;
//   - host: host:8020.
//
// It reads the configuration only; it does not connect.
func (c *HadoopConf) NameNodes(authority string) ([]string, error) {
	if authority == "" {
		def := c.Get("fs.defaultFS")
		u, err := url.Parse(def)
		if def == "" && c.Dir == "" {
			return nil, errors.New("an hdfs:/// path names no NameNode, and there is no Hadoop configuration to take fs.defaultFS from: " +
				"write hdfs://namenode:8020/path, or set HADOOP_CONF_DIR to the cluster's configuration")
		}
		if def == "" || err != nil || !strings.EqualFold(u.Scheme, "hdfs") || u.Host == "" {
			return nil, fmt.Errorf("an hdfs:/// path names no NameNode, and fs.defaultFS in %s is %q, not hdfs://host: "+
				"write hdfs://namenode:8020/path, or set HADOOP_CONF_DIR to the cluster's configuration", c.where(), def)
		}
		authority = u.Host
	}
	if strings.ContainsAny(authority, "@/?#") {
		return nil, fmt.Errorf("hdfs authority %q: want host, host:port or a nameservice", authority)
	}
	if _, ok := c.nameservices()[authority]; ok {
		return c.haNameNodes(authority)
	}
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		// No port (or an unbracketed IPv6 address, which SplitHostPort rejects too).
		if strings.Contains(authority, ":") && !strings.HasPrefix(authority, "[") {
			return nil, fmt.Errorf("hdfs authority %q: want host, host:port or a nameservice", authority)
		}
		return []string{net.JoinHostPort(strings.Trim(authority, "[]"), defaultNameNodePort)}, nil
	}
	if host == "" || port == "" {
		return nil, fmt.Errorf("hdfs authority %q: want host, host:port or a nameservice", authority)
	}
	return []string{authority}, nil
}

// nameservices returns the logical names of dfs.nameservices and of every
// dfs.ha.namenodes.NS key.
func (c *HadoopConf) nameservices() map[string]struct{} {
	ns := map[string]struct{}{}
	for _, n := range splitList(c.Get("dfs.nameservices")) {
		ns[n] = struct{}{}
	}
	for _, k := range c.Keys() {
		if n, ok := strings.CutPrefix(k, "dfs.ha.namenodes."); ok && n != "" {
			ns[n] = struct{}{}
		}
	}
	return ns
}

func (c *HadoopConf) haNameNodes(ns string) ([]string, error) {
	ids := splitList(c.Get("dfs.ha.namenodes." + ns))
	if len(ids) == 0 {
		// A nameservice without HA names its one NameNode directly.
		if a := c.Get("dfs.namenode.rpc-address." + ns); a != "" {
			return []string{a}, nil
		}
		return nil, fmt.Errorf("nameservice %q in %s has no dfs.ha.namenodes.%s and no dfs.namenode.rpc-address.%s: "+
			"add them, or name the NameNode as host:port", ns, c.where(), ns, ns)
	}
	addrs := make([]string, 0, len(ids))
	for _, id := range ids {
		key := "dfs.namenode.rpc-address." + ns + "." + id
		a := c.Get(key)
		if a == "" {
			return nil, fmt.Errorf("nameservice %q in %s: %s is not set (dfs.ha.namenodes.%s lists %q)", ns, c.where(), key, ns, id)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// splitList splits a Hadoop comma-separated list, trimming white space and
// dropping empty elements.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
