package hdfs

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// CheckStatus is the outcome of one Check.
type CheckStatus string

// The outcomes of a check.
const (
	CheckOK   CheckStatus = "ok"
	CheckFail CheckStatus = "FAIL"
	CheckSkip CheckStatus = "skip" // does not apply, or an earlier failure prevents it
)

// Check is one line of a Diagnose report: what was checked, and what was
// found or what to change.
type Check struct {
	Name   string
	Status CheckStatus
	Detail string
}

// DiagnoseOptions say what Diagnose checks: the Hadoop configuration and
// login a command would use (HadoopOptions), and Spate's directories.
type DiagnoseOptions struct {
	Hadoop HadoopOptions
	// CheckpointsDir is state.checkpoints.dir; "" skips its check.
	CheckpointsDir string
	// MinTicketLifetime is the least remaining ticket lifetime that passes
	// without a keytab to renew it; 0 is 10 minutes.
	MinTicketLifetime time.Duration
	// MaxClockSkew is the most the KDC's clock may differ from this one's;
	// 0 is Kerberos's default of 5 minutes.
	MaxClockSkew time.Duration
}

// Diagnose checks, in order, what a command needs to use HDFS and YARN:
// the Hadoop configuration directory, the NameNodes of fs.defaultFS, the
// Kerberos configuration and realm, the keytab, the ticket and its lifetime,
// the clock skew with the KDC, the HDFS home directory and the checkpoint
// directory (by writing and removing a file), and the ResourceManager (a TCP
// connection). It never fails itself: every problem is a Check with status
// CheckFail whose Detail says what to change. Checks that a failure makes
// meaningless are skipped.
func Diagnose(opts DiagnoseOptions) []Check {
	d := &diagnosis{opts: opts}
	if d.opts.Hadoop.Getenv == nil {
		d.opts.Hadoop.Getenv = os.Getenv
	}
	if d.opts.MinTicketLifetime == 0 {
		d.opts.MinTicketLifetime = 10 * time.Minute
	}
	if d.opts.MaxClockSkew == 0 {
		d.opts.MaxClockSkew = 5 * time.Minute
	}
	d.run()
	return d.checks
}

type diagnosis struct {
	opts   DiagnoseOptions
	checks []Check
}

func (d *diagnosis) add(name string, status CheckStatus, format string, args ...any) {
	d.checks = append(d.checks, Check{Name: name, Status: status, Detail: fmt.Sprintf(format, args...)})
}

func (d *diagnosis) run() {
	getenv := d.opts.Hadoop.Getenv
	conf := d.opts.Hadoop.Conf
	if conf == nil {
		dir, from := HadoopConfDir(getenv)
		if dir == "" {
			d.add("hadoop configuration", CheckFail, "none found: set HADOOP_CONF_DIR to the directory of the cluster's core-site.xml and hdfs-site.xml")
			return
		}
		c, err := LoadHadoopConf(dir)
		if err == nil && len(c.Files) == 0 {
			err = fmt.Errorf("%s (from %s) holds no core-site.xml or hdfs-site.xml", dir, from)
		}
		if err != nil {
			d.add("hadoop configuration", CheckFail, "%s: set HADOOP_CONF_DIR to the cluster's configuration directory", oneLine(err))
			return
		}
		conf = c
		d.add("hadoop configuration", CheckOK, "%s (from %s): %s", dir, from, strings.Join(baseNames(c.Files), ", "))
	}
	d.opts.Hadoop.Conf = conf

	reachable := d.namenodes(conf)
	secure := strings.EqualFold(conf.Get("hadoop.security.authentication"), "kerberos")
	loggedIn := true
	if secure {
		loggedIn = d.kerberos()
	} else {
		d.add("kerberos", CheckSkip, "hadoop.security.authentication is %q in %s", cmpOr(conf.Get("hadoop.security.authentication"), "simple"), conf.where())
	}
	if reachable && loggedIn {
		d.hdfs()
	} else {
		d.add("hdfs home", CheckSkip, "the NameNode cannot be reached or the login failed (above)")
	}
	d.resourceManager(conf)
}

func baseNames(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Base(f)
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// namenodes dials every NameNode of fs.defaultFS once.
func (d *diagnosis) namenodes(conf *HadoopConf) bool {
	addrs, err := conf.NameNodes("")
	if err != nil {
		d.add("fs.defaultFS", CheckFail, "%s", oneLine(err))
		return false
	}
	var up, down []string
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, 5*time.Second)
		if err != nil {
			down = append(down, fmt.Sprintf("%s (%v)", a, oneLine(err)))
			continue
		}
		c.Close()
		up = append(up, a)
	}
	if len(up) == 0 {
		d.add("fs.defaultFS", CheckFail, "%s: no NameNode answers: %s: check fs.defaultFS in %s and that the NameNode runs",
			conf.Get("fs.defaultFS"), strings.Join(down, ", "), conf.where())
		return false
	}
	d.add("fs.defaultFS", CheckOK, "%s: NameNode %s answers", conf.Get("fs.defaultFS"), strings.Join(up, ", "))
	return true
}

// kerberos checks krb5.conf and the realm, the keytab or ticket cache, the
// ticket's lifetime and the clock skew; it reports whether a login works.
func (d *diagnosis) kerberos() bool {
	o := d.opts.Hadoop
	krb5Path, from := krb5ConfPath(o.Getenv)
	cfg, err := loadKrb5Conf(krb5Path, from)
	if err != nil {
		d.add("kerberos configuration", CheckFail, "%v", err)
		return false
	}
	d.add("kerberos configuration", CheckOK, "%s (%s), default realm %s", krb5Path, from, cmpOr(cfg.LibDefaults.DefaultRealm, "none"))
	hostname := o.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	kc, err := kerberosClient(o.Login, cfg, krb5Path, hostname, o.Getenv)
	if err != nil {
		name := "kerberos login"
		if o.Login.Keytab != "" {
			name = "keytab"
		}
		d.add(name, CheckFail, "%v", err)
		return false
	}
	defer kc.Destroy()
	principal := kc.Credentials.UserName() + "@" + kc.Credentials.Realm()
	if o.Login.Keytab != "" {
		d.add("keytab", CheckOK, "%s holds %s, and the KDC accepted its key", o.Login.Keytab, principal)
		d.keytabTicket(kc, principal)
		return true
	}
	// A ticket cache: its TGT's lifetime is all there is, with nothing to renew it.
	path, _ := ticketCachePath(o.Getenv)
	cc, err := loadCCache(path)
	if err != nil {
		d.add("ticket", CheckFail, "%s: %v", path, err)
		return false
	}
	tgt := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", cc.GetClientRealm()}}
	cred, ok := cc.GetEntry(tgt)
	if !ok {
		d.add("ticket", CheckFail, "%s holds no ticket-granting ticket: kinit again", path)
		return false
	}
	left := time.Until(cred.EndTime)
	if left < d.opts.MinTicketLifetime {
		d.add("ticket", CheckFail, "the ticket of %s in %s expires in %v: kinit again, or set security.kerberos.login.keytab for a long-running job",
			principal, path, left.Round(time.Second))
		return true
	}
	d.add("ticket", CheckOK, "%s in %s, valid for %v more (no keytab: a job cannot run longer)", principal, path, left.Round(time.Second))
	d.add("clock skew", CheckSkip, "measured with a keytab login only")
	return true
}

// keytabTicket asks the KDC for a ticket-granting ticket, which says how
// long tickets last and what time the KDC thinks it is.
func (d *diagnosis) keytabTicket(kc *krbclient.Client, principal string) {
	realm := kc.Credentials.Realm()
	req, err := messages.NewASReqForTGT(realm, kc.Config, kc.Credentials.CName())
	var rep messages.ASRep
	sent := time.Now()
	if err == nil {
		rep, err = kc.ASExchange(realm, req, 0)
	}
	if err != nil {
		d.add("ticket", CheckFail, "%v", classifyKDCError(err, principal, d.opts.Hadoop.Login.Keytab, "krb5.conf", realm))
		return
	}
	enc := rep.DecryptedEncPart
	d.add("ticket", CheckOK, "%s gets tickets for %v, renewed from the keytab before they expire", principal, enc.EndTime.Sub(enc.AuthTime).Round(time.Second))
	skew := enc.AuthTime.Sub(sent.Add(time.Since(sent) / 2))
	if skew < 0 {
		skew = -skew
	}
	// The KDC's time has a resolution of a second.
	if skew > d.opts.MaxClockSkew {
		d.add("clock skew", CheckFail, "this clock and the KDC's differ by %v, more than Kerberos allows (%v): synchronise this machine's clock (NTP)",
			skew.Round(time.Second), d.opts.MaxClockSkew)
		return
	}
	d.add("clock skew", CheckOK, "%v with the KDC", skew.Round(time.Second))
}

// hdfs connects as a command would, and writes and removes a file in the
// user's home directory and in the checkpoint directory.
func (d *diagnosis) hdfs() {
	h := NewHadoop(d.opts.Hadoop)
	defer h.Close()
	fsys, err := h.FileSystem("")
	if err != nil {
		d.add("hdfs home", CheckFail, "%s", oneLine(err))
		return
	}
	home := "/user/" + shortName(fsys.User())
	if err := probe(fsys, home); err != nil {
		d.add("hdfs home", CheckFail, "%s is not writable by %s: %s: ask the cluster's administrator for a home directory", home, fsys.User(), oneLine(err))
	} else {
		d.add("hdfs home", CheckOK, "%s%s is writable by %s", fsys.URI(), home, fsys.User())
	}
	dir := d.opts.CheckpointsDir
	if dir == "" {
		d.add("checkpoint directory", CheckSkip, "state.checkpoints.dir is not set")
		return
	}
	var target FileSystem = Local{}
	p := dir
	if scheme, _, ok := splitScheme(dir); ok && strings.EqualFold(scheme, "hdfs") {
		if target, p, err = h.Resolve(dir); err != nil {
			d.add("checkpoint directory", CheckFail, "state.checkpoints.dir=%s: %s", dir, oneLine(err))
			return
		}
	} else if _, p, err = Resolve(dir); err != nil {
		d.add("checkpoint directory", CheckFail, "state.checkpoints.dir=%s: %s", dir, oneLine(err))
		return
	}
	if err := target.MkdirAll(p); err != nil {
		d.add("checkpoint directory", CheckFail, "state.checkpoints.dir=%s cannot be created: %s: choose a directory this user may write", dir, oneLine(err))
		return
	}
	if err := probe(target, p); err != nil {
		d.add("checkpoint directory", CheckFail, "state.checkpoints.dir=%s is not writable: %s: choose a directory this user may write", dir, oneLine(err))
		return
	}
	d.add("checkpoint directory", CheckOK, "state.checkpoints.dir=%s is writable", dir)
}

// shortName is Hadoop's short name of a principal: "spate" of "spate@R",
// "nn" of "nn/host@R".
func shortName(user string) string {
	user, _, _ = strings.Cut(user, "@")
	user, _, _ = strings.Cut(user, "/")
	return user
}

// probe writes, reads back the size of and removes a hidden file in dir.
func probe(fsys FileSystem, dir string) error {
	p := path.Join(dir, fmt.Sprintf(".spate-doctor-%d", time.Now().UnixNano()))
	w, err := fsys.Create(p)
	if err != nil {
		return err
	}
	_, err = w.Write([]byte("spate doctor\n"))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		var fi FileInfo
		if fi, err = fsys.Stat(p); err == nil && fi.Size != 13 {
			err = fmt.Errorf("wrote 13 bytes to %s, it holds %d", p, fi.Size)
		}
	}
	if rerr := fsys.Remove(p); err == nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	return err
}

// resourceManager checks that yarn.resourcemanager.address of yarn-site.xml
// (beside the Hadoop configuration) accepts a TCP connection.
func (d *diagnosis) resourceManager(conf *HadoopConf) {
	if conf.Dir == "" {
		d.add("yarn resourcemanager", CheckSkip, "no Hadoop configuration directory")
		return
	}
	p := filepath.Join(conf.Dir, "yarn-site.xml")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		d.add("yarn resourcemanager", CheckSkip, "no yarn-site.xml in %s", conf.Dir)
		return
	}
	var yarn *HadoopConf
	if err == nil {
		yarn, err = ParseHadoopConf(p, b)
	}
	if err != nil {
		d.add("yarn resourcemanager", CheckFail, "%s", oneLine(err))
		return
	}
	addr := yarn.Get("yarn.resourcemanager.address")
	if addr == "" {
		host := cmpOr(yarn.Get("yarn.resourcemanager.hostname"), "0.0.0.0")
		addr = net.JoinHostPort(host, "8032")
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		d.add("yarn resourcemanager", CheckFail, "%s (yarn.resourcemanager.address in %s): %s: check the address and that the ResourceManager runs", addr, p, oneLine(err))
		return
	}
	c.Close()
	d.add("yarn resourcemanager", CheckOK, "%s answers (a TCP check)", addr)
}
