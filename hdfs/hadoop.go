package hdfs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	gohdfs "github.com/colinmarc/hdfs/v2"
)

// HadoopOptions say where a Hadoop takes its configuration and credentials
// from. The zero value reads everything from the environment.
type HadoopOptions struct {
	// Conf is the Hadoop configuration; nil loads it from HADOOP_CONF_DIR,
	// YARN_CONF_DIR or $HADOOP_HOME/etc/hadoop when first needed.
	Conf *HadoopConf
	// Login is Spate's security.kerberos.login.* settings; used only when the
	// configuration says hadoop.security.authentication=kerberos.
	Login KerberosLogin
	// Getenv reads KRB5_CONFIG, KRB5CCNAME and HADOOP_USER_NAME (and the
	// configuration directories when Conf is nil); nil is os.Getenv.
	Getenv func(string) string
	// Hostname replaces _HOST in Login.Principal; "" is os.Hostname().
	Hostname string
	// DialTimeout bounds each connection to a NameNode or DataNode; 0 is
	// 20 s, Hadoop's ipc.client.connect.timeout.
	DialTimeout time.Duration
}

// Hadoop is the set of HDFS clients of one process: one per authority
// (hdfs://authority/...), made on first use from one Hadoop configuration and
// one Kerberos login, and kept until Close. It is safe for concurrent use.
type Hadoop struct {
	opts HadoopOptions

	mu      sync.Mutex
	conf    *HadoopConf
	clients map[string]*HDFS
}

// NewHadoop returns a Hadoop; it connects to nothing until a FileSystem is
// asked for.
func NewHadoop(opts HadoopOptions) *Hadoop {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 20 * time.Second
	}
	return &Hadoop{opts: opts, conf: opts.Conf, clients: map[string]*HDFS{}}
}

var (
	defaultMu     sync.Mutex
	defaultHadoop = NewHadoop(HadoopOptions{})
)

// SetKerberosLogin sets the login that Resolve's hdfs:// clients use. The
// command that loaded Spate's configuration calls it once at start-up, before
// the first hdfs:// path is resolved; clients made before keep their login.
// Until it is called, a secure cluster is reached with the ticket cache.
// Setting the login in use again changes nothing (its clients are kept).
func SetKerberosLogin(login KerberosLogin) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultHadoop.opts.Login == login {
		return
	}
	defaultHadoop = NewHadoop(HadoopOptions{Login: login})
}

func defaultHadoopClients() *Hadoop {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	return defaultHadoop
}

// Conf returns the Hadoop configuration, loading it on first use.
func (h *Hadoop) Conf() (*HadoopConf, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.loadConfLocked()
}

func (h *Hadoop) loadConfLocked() (*HadoopConf, error) {
	if h.conf != nil {
		return h.conf, nil
	}
	dir, from := HadoopConfDir(h.opts.Getenv)
	conf := &HadoopConf{}
	if dir != "" {
		fi, err := os.Stat(dir)
		if err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
		if err != nil {
			return nil, fmt.Errorf("hadoop configuration directory %s (from %s): %w", dir, from, err)
		}
		if conf, err = LoadHadoopConf(dir); err != nil {
			return nil, err
		}
	}
	h.conf = conf
	return conf, nil
}

// Resolve maps an hdfs: URI to its FileSystem and the path in it:
// hdfs://authority/path, hdfs:///path (the NameNodes of fs.defaultFS) and
// Hadoop's short form hdfs:/path. The path is taken literally, as file:
// paths are, and cleaned; none means "/".
func (h *Hadoop) Resolve(uri string) (FileSystem, string, error) {
	authority, p, err := splitHDFSURI(uri)
	if err != nil {
		return nil, "", err
	}
	fsys, err := h.FileSystem(authority)
	if err != nil {
		return nil, "", fmt.Errorf("cannot use %q: %w", uri, err)
	}
	return fsys, p, nil
}

// splitHDFSURI returns the authority and the clean absolute path of an hdfs: URI.
func splitHDFSURI(uri string) (authority, p string, err error) {
	scheme, rest, ok := splitScheme(uri)
	if !ok || !strings.EqualFold(scheme, "hdfs") {
		return "", "", fmt.Errorf("%q is not an hdfs: URI", uri)
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		authority, p, _ = strings.Cut(after, "/")
		p = "/" + p
	} else {
		p = rest
	}
	if !strings.HasPrefix(p, "/") {
		return "", "", fmt.Errorf("hdfs URI %q is not absolute: use hdfs://namenode/absolute/path or hdfs:///absolute/path", uri)
	}
	return strings.ToLower(authority), path.Clean(p), nil
}

// FileSystem returns the client for an hdfs:// authority ("" for
// fs.defaultFS), connecting on first use. A failed connection is not cached.
func (h *Hadoop) FileSystem(authority string) (*HDFS, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.clients[authority]; ok {
		return c, nil
	}
	conf, err := h.loadConfLocked()
	if err != nil {
		return nil, err
	}
	c, err := h.connect(conf, authority)
	if err != nil {
		return nil, err
	}
	h.clients[authority] = c
	return c, nil
}

// Close closes every client; files still open on them fail.
func (h *Hadoop) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for k, c := range h.clients {
		errs = append(errs, c.client.Close())
		if c.krb != nil {
			c.krb.Destroy() // stops its TGT renewal
		}
		delete(h.clients, k)
	}
	return errors.Join(errs...)
}

// connect makes the client for authority.
func (h *Hadoop) connect(conf *HadoopConf, authority string) (*HDFS, error) {
	addrs, err := conf.NameNodes(authority)
	if err != nil {
		return nil, err
	}
	name := authority
	if name == "" {
		name = strings.ToLower(strings.TrimPrefix(conf.Get("fs.defaultFS"), "hdfs://"))
		name = strings.TrimSuffix(name, "/")
	}
	fsys := &HDFS{uri: "hdfs://" + name}
	if err := fsys.readWriteSettings(conf); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: h.opts.DialTimeout, KeepAlive: 30 * time.Second}
	nn := &dialRecorder{dialer: dialer}
	opts := gohdfs.ClientOptions{
		Addresses:           addrs,
		UseDatanodeHostname: conf.Bool("dfs.client.use.datanode.hostname", false),
		NamenodeDialFunc:    nn.DialContext,
		DatanodeDialFunc:    dialer.DialContext,
	}
	switch auth := strings.ToLower(conf.Get("hadoop.security.authentication")); auth {
	case "", "simple":
		opts.User = h.opts.Getenv("HADOOP_USER_NAME")
		if opts.User == "" {
			u, err := user.Current()
			if err != nil {
				return nil, fmt.Errorf("find the HDFS user: %w; set HADOOP_USER_NAME", err)
			}
			opts.User = u.Username
		}
	case "kerberos":
		if err := h.kerberos(conf, addrs, &opts); err != nil {
			return nil, err
		}
		fsys.secure = true
	default:
		return nil, fmt.Errorf("hadoop.security.authentication=%q in %s: want simple or kerberos", auth, conf.where())
	}
	retries, err := conf.Int("ipc.client.connect.max.retries", 10)
	if err != nil {
		return nil, err
	}
	interval, err := conf.Int("ipc.client.connect.retry.interval", 1000)
	if err != nil {
		return nil, err
	}
	var client *gohdfs.Client
	start := time.Now()
	for attempt := 0; ; attempt++ {
		client, err = gohdfs.NewClient(opts)
		if err == nil {
			// The library connects without a call: make one, so that a NameNode
			// that refuses this client is reported here, with what to change,
			// rather than by the first operation as a protocol error.
			if _, err = client.Stat("/"); err != nil {
				client.Close()
			}
		}
		dialErr := nn.lastError()
		if err == nil || dialErr == nil || attempt >= retries {
			if err != nil {
				if opts.KerberosClient != nil {
					opts.KerberosClient.Destroy()
				}
				if dialErr != nil {
					dialErr = fmt.Errorf("%w (%d attempts in %v, ipc.client.connect.max.retries=%d)",
						dialErr, attempt+1, time.Since(start).Round(100*time.Millisecond), retries)
				}
				return nil, connectError(fsys, conf, addrs, dialErr, err)
			}
			break
		}
		// As Hadoop's IPC client: a NameNode that refuses or times out the
		// connection may be restarting or failing over; try again, bounded.
		time.Sleep(time.Duration(max(0, interval)) * time.Millisecond)
	}
	fsys.client, fsys.krb = client, opts.KerberosClient
	return fsys, nil
}

// ErrNameNodeUnreachable is wrapped by the error of a FileSystem whose
// NameNodes all refused or timed out the connection; the dial error is
// wrapped too.
var ErrNameNodeUnreachable = errors.New("cannot reach the NameNode")

// connectError says why the first contact with a cluster failed.
func connectError(fsys *HDFS, conf *HadoopConf, addrs []string, dialErr, err error) error {
	nns := strings.Join(addrs, ", ")
	var remote gohdfs.Error
	switch {
	case dialErr != nil:
		return fmt.Errorf("%s: %w %s: %w: check the URI or fs.defaultFS in %s, and that the NameNode runs",
			fsys.uri, ErrNameNodeUnreachable, nns, dialErr, conf.where())
	case errors.As(err, &remote):
		return fsys.wrap(err)
	case !fsys.secure:
		return fmt.Errorf("%s: the NameNode %s did not accept this client (%v): if the cluster is secure, set hadoop.security.authentication=kerberos in %s, with dfs.namenode.kerberos.principal and a Kerberos login",
			fsys.uri, nns, oneLine(err), conf.where())
	default:
		return fmt.Errorf("%s: the NameNode %s did not accept this client after the Kerberos handshake: %w", fsys.uri, nns, err)
	}
}

// dialRecorder keeps the error of the last dial, which the library reports
// only as text.
type dialRecorder struct {
	dialer *net.Dialer
	mu     sync.Mutex
	last   error
}

func (d *dialRecorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dialer.DialContext(ctx, network, addr)
	d.mu.Lock()
	d.last = err
	d.mu.Unlock()
	return c, err
}

func (d *dialRecorder) lastError() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// kerberos logs in, checks that the KDC knows every NameNode's service
// principal (so that a wrong dfs.namenode.kerberos.principal is reported as
// such rather than as a failed connection) and sets the data-transfer
// protection.
func (h *Hadoop) kerberos(conf *HadoopConf, addrs []string, opts *gohdfs.ClientOptions) error {
	protection, err := dataTransferProtection(conf)
	if err != nil {
		return err
	}
	opts.DataTransferProtection = protection
	spn := conf.Get("dfs.namenode.kerberos.principal")
	if spn == "" {
		return fmt.Errorf("hadoop.security.authentication is kerberos but dfs.namenode.kerberos.principal is not set in %s: set it to the NameNode's principal (e.g. nn/_HOST@REALM)", conf.where())
	}
	// As colinmarc/hdfs does: the realm is the client's (or krb5.conf's
	// domain_realm mapping), _HOST is the host of each NameNode address.
	opts.KerberosServicePrincipleName, _, _ = strings.Cut(spn, "@")

	krb5Path, from := krb5ConfPath(h.opts.Getenv)
	cfg, err := loadKrb5Conf(krb5Path, from)
	if err != nil {
		return err
	}
	hostname := h.opts.Hostname
	if hostname == "" {
		if hostname, err = os.Hostname(); err != nil {
			return fmt.Errorf("find the host name for _HOST: %w", err)
		}
	}
	kc, err := kerberosClient(h.opts.Login, cfg, krb5Path, hostname, h.opts.Getenv)
	if err != nil {
		return err
	}
	client := kc.Credentials.UserName() + "@" + kc.Credentials.Realm()
	for _, a := range addrs {
		host, _, _ := net.SplitHostPort(a)
		s := namenodeSPN(opts.KerberosServicePrincipleName, host)
		if _, _, err := kc.GetServiceTicket(s); err != nil {
			kc.Destroy()
			return classifyServiceTicketError(err, client, s, conf.where())
		}
	}
	opts.KerberosClient = kc
	return nil
}

// spnHost matches what colinmarc/hdfs replaces in a NameNode principal.
var spnHost = regexp.MustCompile(`\A[^/]+/(_HOST)([@/]|\z)`)

// namenodeSPN is the NameNode principal for host, replaced exactly as
// colinmarc/hdfs does, so the ticket fetched here is the one it uses.
func namenodeSPN(spn, host string) string {
	m := spnHost.FindStringSubmatchIndex(spn)
	if m == nil {
		return spn
	}
	return spn[:m[2]] + host + spn[m[3]:]
}

// ErrDataTransferProtection is wrapped by the error for a cluster whose
// DataNodes require integrity or privacy on block transfers, which
// colinmarc/hdfs v2.4.0 writes but cannot read back.
var ErrDataTransferProtection = errors.New("unsupported data transfer protection")

// dataTransferProtection picks the protection for DataNode streams: the
// lowest that dfs.data.transfer.protection offers, which must be
// authentication (or none: no SASL on block transfers).
func dataTransferProtection(conf *HadoopConf) (string, error) {
	if conf.Bool("dfs.encrypt.data.transfer", false) {
		return "", fmt.Errorf("%w: dfs.encrypt.data.transfer=true in %s: Spate's HDFS client (colinmarc/hdfs v2.4.0) cannot read encrypted block transfers back; the cluster must allow dfs.data.transfer.protection=authentication",
			ErrDataTransferProtection, conf.where())
	}
	v := conf.Get("dfs.data.transfer.protection")
	levels := splitList(strings.ToLower(v))
	if len(levels) == 0 {
		return "", nil
	}
	for _, l := range levels {
		switch l {
		case gohdfs.DataTransferProtectionAuthentication:
			return l, nil
		case gohdfs.DataTransferProtectionIntegrity, gohdfs.DataTransferProtectionPrivacy:
		default:
			return "", fmt.Errorf("dfs.data.transfer.protection=%q in %s: want authentication, integrity or privacy", v, conf.where())
		}
	}
	return "", fmt.Errorf("%w: dfs.data.transfer.protection=%s in %s: Spate's HDFS client (colinmarc/hdfs v2.4.0) cannot read blocks back under integrity or privacy; the cluster must offer authentication (e.g. dfs.data.transfer.protection=authentication,privacy on the DataNodes)",
		ErrDataTransferProtection, v, conf.where())
}

// readWriteSettings takes the client-side settings of new files from conf, as
// Hadoop's own client does: dfs.replication, dfs.blocksize and
// fs.permissions.umask-mode.
func (f *HDFS) readWriteSettings(conf *HadoopConf) error {
	var err error
	if f.replication, err = conf.Int("dfs.replication", 3); err != nil {
		return err
	}
	if f.replication < 1 {
		return fmt.Errorf("dfs.replication=%d in %s: want 1 or more", f.replication, conf.where())
	}
	if f.blockSize, err = conf.Bytes("dfs.blocksize", 128<<20); err != nil {
		return err
	}
	if f.blockSize < 1<<20 {
		// The NameNode refuses blocks below dfs.namenode.fs-limits.min-block-size (1 MiB).
		return fmt.Errorf("dfs.blocksize=%d in %s: want at least 1m", f.blockSize, conf.where())
	}
	umask := uint64(0o022)
	if v := strings.TrimSpace(conf.Get("fs.permissions.umask-mode")); v != "" {
		if umask, err = strconv.ParseUint(v, 8, 32); err != nil || umask > 0o777 {
			return fmt.Errorf("fs.permissions.umask-mode=%q in %s: only an octal umask such as 022 is supported", v, conf.where())
		}
	}
	f.fileMode = os.FileMode(0o666 &^ umask)
	f.dirMode = os.FileMode(0o777 &^ umask)
	return nil
}
