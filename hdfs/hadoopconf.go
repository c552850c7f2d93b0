package hdfs

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// HadoopConf is a Hadoop client configuration: the properties of
// core-site.xml, then hdfs-site.xml, from one directory, as Hadoop's own
// HdfsConfiguration reads them. It is immutable once loaded.
//
// Our own parser rather than colinmarc/hdfs/hadoopconf, which merges every
// dfs.namenode.rpc-address.* of every nameservice into one list of NameNodes,
// ignores <final>, ${...} substitution and YARN_CONF_DIR, and looks in
// $HADOOP_HOME/conf instead of $HADOOP_HOME/etc/hadoop.
type HadoopConf struct {
	// Dir is the directory the files came from; "" when none was found.
	Dir string
	// Files are the files read, in order.
	Files []string

	props map[string]string
	final map[string]bool
}

// hadoopConfFiles are read in this order; a later file overrides an earlier
// one unless the earlier marked the property <final>.
var hadoopConfFiles = []string{"core-site.xml", "hdfs-site.xml"}

// deprecatedKeys maps the old names Hadoop still honours to the new ones.
var deprecatedKeys = map[string]string{
	"fs.default.name": "fs.defaultFS",
	"dfs.block.size":  "dfs.blocksize",
	"dfs.umaskmode":   "fs.permissions.umask-mode",
}

// HadoopConfDir returns the directory a Hadoop client would read: the first
// of $HADOOP_CONF_DIR, $YARN_CONF_DIR and $HADOOP_HOME/etc/hadoop that is set,
// and which variable named it. It returns "", "" when none is set.
func HadoopConfDir(getenv func(string) string) (dir, from string) {
	if d := getenv("HADOOP_CONF_DIR"); d != "" {
		return d, "HADOOP_CONF_DIR"
	}
	if d := getenv("YARN_CONF_DIR"); d != "" {
		return d, "YARN_CONF_DIR"
	}
	if h := getenv("HADOOP_HOME"); h != "" {
		return filepath.Join(h, "etc", "hadoop"), "HADOOP_HOME"
	}
	return "", ""
}

// LoadHadoopConfFromEnv loads the configuration from HadoopConfDir(os.Getenv).
// With no variable set it returns an empty configuration (hdfs:// URIs that
// name their NameNode still work, without Kerberos). A directory that a
// variable names but that does not exist is an error naming the variable.
func LoadHadoopConfFromEnv() (*HadoopConf, error) {
	dir, from := HadoopConfDir(os.Getenv)
	if dir == "" {
		return &HadoopConf{}, nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return nil, fmt.Errorf("hadoop configuration directory %s (from %s): %w", dir, from, err)
	}
	return LoadHadoopConf(dir)
}

// LoadHadoopConf reads core-site.xml and hdfs-site.xml from dir; a missing
// file is skipped.
func LoadHadoopConf(dir string) (*HadoopConf, error) {
	c := &HadoopConf{Dir: dir}
	for _, name := range hadoopConfFiles {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := c.add(p, b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ParseHadoopConf reads one *-site.xml document; name is used in errors.
func ParseHadoopConf(name string, b []byte) (*HadoopConf, error) {
	c := &HadoopConf{}
	if err := c.add(name, b); err != nil {
		return nil, err
	}
	return c, nil
}

// siteXML is the layout of a Hadoop *-site.xml. Hadoop also accepts the
// property's fields as attributes (<property name="k" value="v"/>).
type siteXML struct {
	XMLName    xml.Name `xml:"configuration"`
	Properties []struct {
		Name      string `xml:"name"`
		Value     string `xml:"value"`
		Final     string `xml:"final"`
		NameAttr  string `xml:"name,attr"`
		ValueAttr string `xml:"value,attr"`
		FinalAttr string `xml:"final,attr"`
	} `xml:"property"`
	Includes []struct {
		Href string `xml:"href,attr"`
	} `xml:"http://www.w3.org/2001/XInclude include"`
}

// add merges one file's properties into c.
func (c *HadoopConf) add(name string, b []byte) error {
	var doc siteXML
	d := xml.NewDecoder(bytes.NewReader(b))
	// Hadoop's files are UTF-8 (or ASCII) in practice; accept a declared
	// Latin-1 or similar as bytes rather than failing.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := d.Decode(&doc); err != nil {
		return fmt.Errorf("parse hadoop configuration %s: %w", name, err)
	}
	if len(doc.Includes) > 0 {
		return fmt.Errorf("parse hadoop configuration %s: <xi:include href=%q> is not supported: inline the included properties",
			name, doc.Includes[0].Href)
	}
	if c.props == nil {
		c.props, c.final = map[string]string{}, map[string]bool{}
	}
	for i, p := range doc.Properties {
		k := strings.TrimSpace(firstNonEmpty(p.Name, p.NameAttr))
		if k == "" {
			return fmt.Errorf("parse hadoop configuration %s: property %d has no <name>", name, i+1)
		}
		if n, ok := deprecatedKeys[k]; ok {
			k = n
		}
		if c.final[k] {
			continue
		}
		// Hadoop trims values, as it does names.
		c.props[k] = strings.TrimSpace(firstNonEmpty(p.Value, p.ValueAttr))
		if strings.TrimSpace(firstNonEmpty(p.Final, p.FinalAttr)) == "true" {
			c.final[k] = true
		}
	}
	c.Files = append(c.Files, name)
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxSubstitutions bounds ${...} expansion, as Hadoop's MAX_SUBST does, so a
// property that refers to itself does not loop.
const maxSubstitutions = 20

// Get returns a property's value with ${key} and ${env.NAME} expanded, or ""
// when it is not set. An unknown ${...} is left as it is, as Hadoop does.
func (c *HadoopConf) Get(key string) string {
	v, _ := c.Lookup(key)
	return v
}

// Lookup is Get that also says whether the property is set.
func (c *HadoopConf) Lookup(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	v, ok := c.props[key]
	if !ok {
		return "", false
	}
	return c.expand(v), true
}

// expand replaces ${name} in v by the property name or, for env.NAME, the
// environment variable NAME, innermost first. Like Hadoop, it stops at the
// first reference it cannot resolve and leaves the rest as it is.
func (c *HadoopConf) expand(v string) string {
	pos := 0 // v[:pos] holds no reference
	for n := 0; n < maxSubstitutions; {
		end := strings.IndexByte(v[pos:], '}')
		if end < 0 {
			return v
		}
		end += pos
		start := strings.LastIndex(v[pos:end], "${")
		if start < 0 {
			pos = end + 1
			continue
		}
		start += pos
		name := v[start+2 : end]
		var repl string
		var ok bool
		if env, isEnv := strings.CutPrefix(name, "env."); isEnv {
			repl, ok = os.LookupEnv(env)
		} else {
			repl, ok = c.props[name]
		}
		if !ok {
			return v
		}
		v = v[:start] + repl + v[end+1:]
		n++
	}
	return v
}

// Keys returns the names of every property set, in no particular order.
func (c *HadoopConf) Keys() []string {
	if c == nil {
		return nil
	}
	keys := make([]string, 0, len(c.props))
	for k := range c.props {
		keys = append(keys, k)
	}
	return keys
}

// where says where a key would come from, for error messages.
func (c *HadoopConf) where() string {
	if c == nil || c.Dir == "" {
		return "the Hadoop configuration (no HADOOP_CONF_DIR, YARN_CONF_DIR or HADOOP_HOME is set)"
	}
	return c.Dir
}

// Bool returns a boolean property; Hadoop accepts only "true" and "false",
// case-insensitively, and treats anything else as the default.
func (c *HadoopConf) Bool(key string, def bool) bool {
	switch strings.ToLower(c.Get(key)) {
	case "true":
		return true
	case "false":
		return false
	}
	return def
}

// Bytes returns a size property in bytes, with Hadoop's binary suffixes
// (k, m, g, t, p, e, case-insensitive), or def when it is not set.
func (c *HadoopConf) Bytes(key string, def int64) (int64, error) {
	v := strings.TrimSpace(c.Get(key))
	if v == "" {
		return def, nil
	}
	n, err := parseHadoopBytes(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q in %s: %w", key, v, c.where(), err)
	}
	return n, nil
}

// Int returns an integer property, or def when it is not set.
func (c *HadoopConf) Int(key string, def int) (int, error) {
	v := strings.TrimSpace(c.Get(key))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q in %s: not an integer", key, v, c.where())
	}
	return n, nil
}

// parseHadoopBytes parses "128m", "1g", "134217728".
func parseHadoopBytes(v string) (int64, error) {
	shift := 0
	switch strings.ToLower(v[len(v)-1:]) {
	case "k":
		shift = 10
	case "m":
		shift = 20
	case "g":
		shift = 30
	case "t":
		shift = 40
	case "p":
		shift = 50
	case "e":
		shift = 60
	}
	num := v
	if shift > 0 {
		num = v[:len(v)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || (shift > 0 && n > (1<<63-1)>>shift) {
		return 0, errors.New("not a size: use bytes or a number with k, m, g, t, p or e")
	}
	return n << shift, nil
}
