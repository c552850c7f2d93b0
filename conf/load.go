package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Environment variables read by Load.
const (
	// EnvConfDir names the directory holding spate.yaml.
	EnvConfDir = "SPATE_CONF_DIR"
	// EnvProperties holds key=value lines; see EncodeProperties.
	EnvProperties = "SPATE_PROPERTIES"
)

// FileName is the name of the configuration file in $SPATE_CONF_DIR.
const FileName = "spate.yaml"

// ParseDynamic splits a -D argument "key=value" at its first '='. Spaces
// around the key and the value are trimmed; the key is not checked here.
func ParseDynamic(kv string) (key, value string, err error) {
	k, v, ok := strings.Cut(kv, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("-D %s: want key=value, e.g. -D parallelism.default=4", kv)
	}
	return k, strings.TrimSpace(v), nil
}

// LoadFile reads a spate.yaml. Keys may be flat ("parallelism.default: 4")
// or nested ("parallelism: {default: 4}"); both flatten to dotted keys, and
// scalar values become strings. Every key and value is validated. Errors
// name the file (and the line, where there is one); a missing file is an
// error that wraps fs.ErrNotExist.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return parseYAML(path, data)
}

// parseYAML is LoadFile after the read; path only names the source in errors.
func parseYAML(path string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return New(), nil
		}
		root = root.Content[0]
	}
	if root.Kind == 0 || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		return New(), nil // only comments
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: want a mapping of keys to values", path, root.Line)
	}
	var kvs []fileValue
	if err := flatten(root, "", &kvs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := New()
	seen := map[string]int{}
	for _, kv := range kvs {
		if line, dup := seen[kv.key]; dup {
			return nil, fmt.Errorf("%s: line %d: %s is set twice (also on line %d)", path, kv.line, kv.key, line)
		}
		seen[kv.key] = kv.line
		if err := c.Set(kv.key, kv.value); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, kv.line, err)
		}
	}
	return c, nil
}

// fileValue is one flattened key of a spate.yaml.
type fileValue struct {
	key, value string
	line       int
}

// flatten appends the scalars under the mapping n to out, with their keys
// joined by dots under prefix.
func flatten(n *yaml.Node, prefix string, out *[]fileValue) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode || strings.TrimSpace(kn.Value) == "" {
			return fmt.Errorf("line %d: want a key name", kn.Line)
		}
		key := strings.TrimSpace(kn.Value)
		if prefix != "" {
			key = prefix + "." + key
		}
		for vn.Kind == yaml.AliasNode && vn.Alias != nil {
			vn = vn.Alias
		}
		switch {
		case vn.Kind == yaml.MappingNode:
			if err := flatten(vn, key, out); err != nil {
				return err
			}
		case vn.Kind == yaml.ScalarNode && vn.Tag == "!!null":
			return fmt.Errorf("line %d: %s has no value (give it one or remove it)", kn.Line, key)
		case vn.Kind == yaml.ScalarNode:
			*out = append(*out, fileValue{key: key, value: vn.Value, line: kn.Line})
		default:
			return fmt.Errorf("line %d: %s: want a single value, not a list", kn.Line, key)
		}
	}
	return nil
}

// parseProperties reads SPATE_PROPERTIES text: one "key=value" or
// "key: value" per line, whichever separator comes first; blank lines and
// lines starting with # are ignored.
func parseProperties(text string) (*Config, error) {
	c := New()
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sep := strings.IndexAny(line, "=:")
		if sep <= 0 {
			return nil, fmt.Errorf("line %d: %q: want key=value", i+1, line)
		}
		if err := c.Set(strings.TrimSpace(line[:sep]), line[sep+1:]); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return c, nil
}

// EncodeProperties renders c as SPATE_PROPERTIES text: its explicitly set
// values as key=value lines, sorted by key, with no trailing newline. Load
// (through parseProperties) reads it back to the same Config.
func EncodeProperties(c *Config) string {
	var b strings.Builder
	for i, k := range c.Keys() {
		if i > 0 {
			b.WriteByte('\n')
		}
		v, _ := c.Get(k)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	return b.String()
}

// Load builds the effective configuration. From lowest precedence to
// highest: the defaults; $SPATE_CONF_DIR/spate.yaml when SPATE_CONF_DIR is
// set and not empty (a missing file is then an error); the SPATE_PROPERTIES
// lines; the dynamic "key=value" strings from -D flags, in order. Errors name
// where the offending value came from.
func Load(dynamic []string) (*Config, error) {
	c := New()
	if dir := os.Getenv(EnvConfDir); dir != "" {
		path := filepath.Join(dir, FileName)
		fc, err := LoadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &wrapError{
				msg: fmt.Sprintf("%s is %q but %s does not exist (create it or unset %s)", EnvConfDir, dir, path, EnvConfDir),
				err: err,
			}
		}
		if err != nil {
			return nil, err
		}
		c.Merge(fc)
	}
	if text := os.Getenv(EnvProperties); text != "" {
		pc, err := parseProperties(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvProperties, err)
		}
		c.Merge(pc)
	}
	for _, kv := range dynamic {
		k, v, err := ParseDynamic(kv)
		if err != nil {
			return nil, err
		}
		if err := c.Set(k, v); err != nil {
			return nil, fmt.Errorf("-D %s: %w", kv, err)
		}
	}
	return c, nil
}

// wrapError replaces the message of err, which it still wraps.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }
