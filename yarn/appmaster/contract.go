package appmaster

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spate-io/spate/yarn"
	"github.com/spate-io/spate/yarn/security"
)

// What spate yarn-submit and the ApplicationMaster agree on: the files in
// every container's working directory, the environment, the credentials.
const (
	// EnvResources holds the containers' local resources as base64 JSON
	// (name → yarn.LocalResource), so that the AM gives its TaskManagers
	// the files it was given. Base64: the NodeManager's launch script puts
	// values in double quotes without escaping them. Its presence means: this process runs in a YARN
	// container that Spate launched.
	EnvResources = "SPATE_YARN_RESOURCES"
	// EnvStaging is the staging directory's URI, which the AM removes when
	// the application ends.
	EnvStaging = "SPATE_YARN_STAGING"
	// SecretAlias names the per-application cluster secret in the
	// credentials (container_tokens), with which JobManager and
	// TaskManagers authenticate each other.
	SecretAlias = "spate.cluster.secret"
	// ConfFile, Keytab and Krb5Conf are the names of the staged
	// configuration, keytab and krb5.conf in the working directory.
	ConfFile = "spate.yaml"
	Keytab   = "krb5.keytab"
	Krb5Conf = "krb5.conf"
)

// HadoopConfFiles are the client's Hadoop configuration files, shipped so
// that containers (which get no HADOOP_CONF_DIR) reach HDFS and the
// scheduler as the client did.
var HadoopConfFiles = []string{"core-site.xml", "hdfs-site.xml", "yarn-site.xml"}

// InYARN reports whether this process runs in a container Spate launched.
func InYARN() bool { return os.Getenv(EnvResources) != "" }

// Resources reads EnvResources.
func Resources() (map[string]yarn.LocalResource, error) {
	var r map[string]yarn.LocalResource
	b, err := base64.StdEncoding.DecodeString(os.Getenv(EnvResources))
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvResources, err)
	}
	return r, nil
}

// ContainerEnv is the environment of a container with these resources, less
// the role: configuration, Hadoop configuration and krb5.conf from the
// working directory ({{PWD}}, which the NodeManager expands).
func ContainerEnv(resources map[string]yarn.LocalResource) (map[string]string, error) {
	b, err := json.Marshal(resources)
	if err != nil {
		return nil, err
	}
	env := map[string]string{EnvResources: base64.StdEncoding.EncodeToString(b), "SPATE_CONF_DIR": "{{PWD}}", "HADOOP_CONF_DIR": "{{PWD}}"}
	if _, ok := resources[Krb5Conf]; ok {
		env["KRB5_CONFIG"] = "{{PWD}}/" + Krb5Conf
	}
	return env, nil
}

// LaunchCommand is the launch command of the job binary name with args, its
// output kept by the NodeManager as the container's stdout and stderr.
func LaunchCommand(name string, args []string) []string {
	parts := []string{"./" + shellQuote(name)}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return []string{strings.Join(parts, " ") + " 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr"}
}

// shellQuote quotes s for the launch script (bash).
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ClusterSecret reads the cluster secret from this container's credentials.
func ClusterSecret() ([]byte, error) {
	creds, err := containerCredentials()
	if err != nil {
		return nil, err
	}
	s := creds.Secrets[SecretAlias]
	if len(s) == 0 {
		return nil, fmt.Errorf("the container's credentials (HADOOP_TOKEN_FILE_LOCATION) hold no %s: start the job with spate yarn-submit", SecretAlias)
	}
	return s, nil
}

func containerCredentials() (*security.Credentials, error) {
	p := os.Getenv("HADOOP_TOKEN_FILE_LOCATION")
	if p == "" {
		return nil, fmt.Errorf("HADOOP_TOKEN_FILE_LOCATION is not set: %s is only for YARN containers", EnvResources)
	}
	return security.ReadCredentialsFile(p)
}

// binaryName is the name this process was started as in its container.
func binaryName() string { return filepath.Base(os.Args[0]) }

// ParseMemorySize parses a memory size as Flink writes them (512m, 2g,
// 1024mb, 1073741824 bytes) into MiB, for the configuration key key.
func ParseMemorySize(key, s string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	digits := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if digits < 0 {
		digits = len(v)
	}
	unit := strings.TrimSpace(v[digits:])
	n, err := strconv.ParseInt(v[:digits], 10, 64)
	mult := map[string]int64{"": 1, "b": 1, "bytes": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}[unit]
	if err != nil || n <= 0 || mult == 0 {
		return 0, fmt.Errorf("%s=%q: want a memory size such as 512m or 2g", key, s)
	}
	mib := n * mult >> 20
	if mib < 1 {
		return 0, fmt.Errorf("%s=%q: a container needs at least 1m", key, s)
	}
	return mib, nil
}

// MemoryLimit is GOMEMLIMIT for a container of memMiB: nine tenths, so that
// the Go runtime collects harder before YARN kills the container for
// exceeding its memory (the rest is for stacks, cgo and the page cache).
func MemoryLimit(memMiB int64) string {
	return strconv.FormatInt(max(1, memMiB*9/10), 10) + "MiB"
}
