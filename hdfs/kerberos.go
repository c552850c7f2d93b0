package hdfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"
)

// KerberosLogin is how a process logs in to a secure Hadoop cluster: Spate's
// security.kerberos.login.* settings, which the command that loaded the
// configuration passes on (SetKerberosLogin, or HadoopOptions.Login).
type KerberosLogin struct {
	// Principal is security.kerberos.login.principal: "user@REALM",
	// "service/host@REALM" or, without a realm, the default_realm of
	// krb5.conf. "_HOST" is replaced by this machine's host name.
	Principal string
	// Keytab is security.kerberos.login.keytab. With it, the login is from the
	// keytab; without it, from the ticket cache.
	Keytab string
	// NoTicketCache is security.kerberos.login.use-ticket-cache=false: refuse
	// to use the ticket cache when there is no keytab.
	NoTicketCache bool
}

// KerberosProblem says what is wrong with a Kerberos login, and so what the
// user must change.
type KerberosProblem int

// The problems a KerberosError reports.
const (
	// KerberosConfigMissing: krb5.conf cannot be read (KRB5_CONFIG, default /etc/krb5.conf).
	KerberosConfigMissing KerberosProblem = iota + 1
	// KerberosConfigInvalid: krb5.conf cannot be parsed.
	KerberosConfigInvalid
	// KerberosNoLogin: the cluster is secure but there is neither a keytab nor a ticket cache.
	KerberosNoLogin
	// KerberosRealmUnknown: krb5.conf defines no KDC for the principal's realm.
	KerberosRealmUnknown
	// KerberosKeytabUnreadable: the keytab file cannot be read or parsed.
	KerberosKeytabUnreadable
	// KerberosKeytabNoPrincipal: the keytab holds no key for the principal.
	KerberosKeytabNoPrincipal
	// KerberosKeyRejected: the KDC rejected the keytab's key (another KDC's keytab, or a changed password).
	KerberosKeyRejected
	// KerberosClientUnknown: the KDC does not know the principal.
	KerberosClientUnknown
	// KerberosServiceUnknown: the KDC does not know the NameNode's service principal.
	KerberosServiceUnknown
	// KerberosTicketCacheUnusable: the ticket cache is missing, unreadable or of an unsupported type.
	KerberosTicketCacheUnusable
	// KerberosTicketExpired: the ticket cache's ticket has expired and there is no keytab.
	KerberosTicketExpired
	// KerberosKDCUnreachable: no KDC of the realm answered.
	KerberosKDCUnreachable
	// KerberosOther: anything else the Kerberos library reported.
	KerberosOther
)

// KerberosError is returned (wrapped) by the hdfs:// FileSystem when a
// Kerberos login or ticket request fails. Its message is one line that says
// what to change; Err holds the library's own error.
type KerberosError struct {
	Problem   KerberosProblem
	Principal string // the principal concerned, if known
	Message   string // what is wrong and what to change
	Err       error  // the cause, if any
}

func (e *KerberosError) Error() string { return "kerberos: " + e.Message }

func (e *KerberosError) Unwrap() error { return e.Err }

// krb5ConfPath returns the krb5.conf to read: the first existing file of
// KRB5_CONFIG (a colon-separated list, as MIT Kerberos allows), else the first
// element, else /etc/krb5.conf.
func krb5ConfPath(getenv func(string) string) (string, string) {
	v := getenv("KRB5_CONFIG")
	if v == "" {
		return "/etc/krb5.conf", "the default"
	}
	paths := filepath.SplitList(v)
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, "KRB5_CONFIG"
		}
	}
	return paths[0], "KRB5_CONFIG"
}

// loadKrb5Conf reads krb5.conf with errors that say what to change.
func loadKrb5Conf(path, from string) (*krbconfig.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		what := "cannot read"
		if errors.Is(err, fs.ErrNotExist) {
			what = "no such file"
		}
		return nil, &KerberosError{
			Problem: KerberosConfigMissing,
			Message: fmt.Sprintf("Kerberos configuration %s (%s): %s: set KRB5_CONFIG to the cluster's krb5.conf", path, from, what),
			Err:     err,
		}
	}
	cfg, err := krbconfig.NewFromString(string(b))
	if err != nil {
		return nil, &KerberosError{
			Problem: KerberosConfigInvalid,
			Message: fmt.Sprintf("Kerberos configuration %s (%s) does not parse: %v", path, from, oneLine(err)),
			Err:     err,
		}
	}
	return cfg, nil
}

// splitPrincipal splits "a/b@R" into its name "a/b" and realm "R"; a missing
// realm is defaultRealm.
func splitPrincipal(p, defaultRealm string) (name, realm string) {
	if i := strings.LastIndexByte(p, '@'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, defaultRealm
}

// hostPattern finds "_HOST" as a whole component of a principal name.
var hostPattern = regexp.MustCompile(`(^|/)_HOST($|[/@])`)

// replaceHost replaces the _HOST component of a principal by host, lower-cased
// as Hadoop's SecurityUtil does.
func replaceHost(principal, host string) string {
	return hostPattern.ReplaceAllString(principal, "${1}"+strings.ToLower(host)+"${2}")
}

// kerberosClient logs in as login says, with krb5.conf from path.
func kerberosClient(login KerberosLogin, cfg *krbconfig.Config, krb5Path, hostname string, getenv func(string) string) (*krbclient.Client, error) {
	settings := []func(*krbclient.Settings){krbclient.DisablePAFXFAST(true)}
	if login.Keytab == "" {
		if login.NoTicketCache {
			return nil, &KerberosError{
				Problem: KerberosNoLogin,
				Message: "the cluster is secure (hadoop.security.authentication=kerberos) but there is no keytab and " +
					"security.kerberos.login.use-ticket-cache is false: set security.kerberos.login.keytab and security.kerberos.login.principal",
			}
		}
		return ticketCacheClient(login, cfg, krb5Path, getenv, settings)
	}
	principal := replaceHost(login.Principal, hostname)
	if principal == "" {
		return nil, &KerberosError{
			Problem: KerberosNoLogin,
			Message: fmt.Sprintf("security.kerberos.login.keytab is %s but security.kerberos.login.principal is not set: set it to the keytab's principal", login.Keytab),
		}
	}
	name, realm := splitPrincipal(principal, cfg.LibDefaults.DefaultRealm)
	full := name + "@" + realm
	if realm == "" {
		return nil, &KerberosError{
			Problem: KerberosRealmUnknown, Principal: principal,
			Message: fmt.Sprintf("principal %q has no realm and %s sets no default_realm: write the principal as %s@REALM", principal, krb5Path, name),
		}
	}
	if err := checkRealm(cfg, realm, full, krb5Path); err != nil {
		return nil, err
	}
	kt, err := loadKeytab(login.Keytab)
	if err != nil {
		return nil, &KerberosError{
			Problem: KerberosKeytabUnreadable, Principal: full,
			Message: fmt.Sprintf("cannot read keytab %s (security.kerberos.login.keytab): %v", login.Keytab, oneLine(err)),
			Err:     err,
		}
	}
	if held := keytabPrincipals(kt); !slices.Contains(held, full) {
		return nil, &KerberosError{
			Problem: KerberosKeytabNoPrincipal, Principal: full,
			Message: fmt.Sprintf("keytab %s has no key for %s (it holds %s): set security.kerberos.login.principal to the keytab's principal, or use that principal's keytab",
				login.Keytab, full, strings.Join(held, ", ")),
		}
	}
	cl := krbclient.NewWithKeytab(name, realm, kt, cfg, settings...)
	if err := cl.Login(); err != nil {
		return nil, classifyKDCError(err, full, login.Keytab, krb5Path, realm)
	}
	return cl, nil
}

// ticketCacheClient logs in from KRB5CCNAME or /tmp/krb5cc_UID.
func ticketCacheClient(login KerberosLogin, cfg *krbconfig.Config, krb5Path string, getenv func(string) string, settings []func(*krbclient.Settings)) (*krbclient.Client, error) {
	path, err := ticketCachePath(getenv)
	if err != nil {
		return nil, err
	}
	cc, err := loadCCache(path)
	if err != nil {
		what := fmt.Sprintf("cannot read the Kerberos ticket cache %s: %v", path, oneLine(err))
		if errors.Is(err, fs.ErrNotExist) {
			what = fmt.Sprintf("no Kerberos ticket: the ticket cache %s does not exist", path)
		}
		return nil, &KerberosError{
			Problem: KerberosTicketCacheUnusable, Principal: login.Principal,
			Message: what + ": run kinit, or set security.kerberos.login.keytab and security.kerberos.login.principal",
			Err:     err,
		}
	}
	client := cc.GetClientPrincipalName().PrincipalNameString() + "@" + cc.GetClientRealm()
	tgt := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", cc.GetClientRealm()}}
	cred, ok := cc.GetEntry(tgt)
	if !ok {
		return nil, &KerberosError{
			Problem: KerberosTicketCacheUnusable, Principal: client,
			Message: fmt.Sprintf("the ticket cache %s holds no ticket-granting ticket for %s: run kinit, or set security.kerberos.login.keytab", path, client),
		}
	}
	if !cred.EndTime.After(time.Now()) {
		return nil, &KerberosError{
			Problem: KerberosTicketExpired, Principal: client,
			Message: fmt.Sprintf("the ticket of %s in %s expired at %s: run kinit again, or set security.kerberos.login.keytab to renew from a keytab",
				client, path, cred.EndTime.UTC().Format(time.RFC3339)),
		}
	}
	if login.Principal != "" {
		if want := login.Principal; want != client && !strings.HasPrefix(client, want+"@") {
			return nil, &KerberosError{
				Problem: KerberosNoLogin, Principal: client,
				Message: fmt.Sprintf("the ticket cache %s holds %s, not security.kerberos.login.principal %s: kinit as %s, or change the principal",
					path, client, want, want),
			}
		}
	}
	if err := checkRealm(cfg, cc.GetClientRealm(), client, krb5Path); err != nil {
		return nil, err
	}
	cl, err := krbclient.NewFromCCache(cc, cfg, settings...)
	if err != nil {
		return nil, &KerberosError{
			Problem: KerberosTicketCacheUnusable, Principal: client,
			Message: fmt.Sprintf("the ticket cache %s is unusable: %v: run kinit again", path, oneLine(err)),
			Err:     err,
		}
	}
	return cl, nil
}

// ticketCachePath returns the file of KRB5CCNAME ("FILE:" prefix or none), or
// MIT's default /tmp/krb5cc_UID.
func ticketCachePath(getenv func(string) string) (string, error) {
	v := getenv("KRB5CCNAME")
	if v == "" {
		u, err := user.Current()
		if err != nil {
			return "", fmt.Errorf("find the default ticket cache: %w", err)
		}
		return "/tmp/krb5cc_" + u.Uid, nil
	}
	if p, ok := strings.CutPrefix(v, "FILE:"); ok {
		return p, nil
	}
	if i := strings.IndexByte(v, ':'); i > 0 && !strings.Contains(v[:i], "/") {
		return "", &KerberosError{
			Problem: KerberosTicketCacheUnusable,
			Message: fmt.Sprintf("KRB5CCNAME=%s: only FILE: ticket caches are supported, not %s: set KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u) and kinit again, or use a keytab", v, v[:i+1]),
		}
	}
	return v, nil
}

// checkRealm fails when krb5.conf cannot locate a KDC for realm.
func checkRealm(cfg *krbconfig.Config, realm, principal, krb5Path string) error {
	if cfg.LibDefaults.DNSLookupKDC {
		return nil
	}
	for _, r := range cfg.Realms {
		if r.Realm == realm && len(r.KDC) > 0 {
			return nil
		}
	}
	return &KerberosError{
		Problem: KerberosRealmUnknown, Principal: principal,
		Message: fmt.Sprintf("no KDC for realm %s in %s: correct the realm of %s, or add %s to [realms] there",
			realm, krb5Path, principal, realm),
	}
}

func keytabPrincipals(kt *keytab.Keytab) []string {
	var out []string
	for _, e := range kt.Entries {
		p := strings.Join(e.Principal.Components, "/") + "@" + e.Principal.Realm
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// classifyKDCError turns an error of an AS exchange (a login) into a
// KerberosError. gokrb5 flattens the KDC's KRB-ERROR into text, so the
// protocol's error-code names are matched in it: they are the only stable
// handle the library gives.
func classifyKDCError(err error, principal, keytabPath, krb5Path, realm string) error {
	s := err.Error()
	e := &KerberosError{Principal: principal, Err: err}
	switch {
	case strings.Contains(s, "KDC_ERR_C_PRINCIPAL_UNKNOWN"):
		e.Problem = KerberosClientUnknown
		e.Message = fmt.Sprintf("the KDC of %s does not know the principal %s (KDC_ERR_C_PRINCIPAL_UNKNOWN): correct security.kerberos.login.principal", realm, principal)
	case strings.Contains(s, "KDC_ERR_PREAUTH_FAILED"), strings.Contains(s, "KRB_AP_ERR_BAD_INTEGRITY"),
		strings.Contains(s, "client password/keytab incorrect"):
		e.Problem = KerberosKeyRejected
		e.Message = fmt.Sprintf("the KDC rejected the key of %s in keytab %s (KDC_ERR_PREAUTH_FAILED): the keytab is from another KDC or the principal's key changed since: export a fresh keytab", principal, keytabPath)
	case strings.Contains(s, "no KDCs defined"):
		e.Problem = KerberosRealmUnknown
		e.Message = fmt.Sprintf("no KDC for realm %s in %s: correct the realm of %s, or add %s to [realms] there", realm, krb5Path, principal, realm)
	case strings.Contains(s, "Networking_Error"):
		e.Problem = KerberosKDCUnreachable
		e.Message = fmt.Sprintf("no KDC of realm %s answered (kdc in %s): check that the KDC runs and the kdc entries of %s", realm, krb5Path, krb5Path)
	default:
		e.Problem = KerberosOther
		e.Message = fmt.Sprintf("login as %s failed: %s", principal, oneLine(err))
	}
	return e
}

// classifyServiceTicketError is classifyKDCError for a TGS exchange: the
// request for the NameNode's service ticket.
func classifyServiceTicketError(err error, client, spn, confDir string) error {
	s := err.Error()
	e := &KerberosError{Principal: client, Err: err}
	switch {
	case strings.Contains(s, "KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		e.Problem = KerberosServiceUnknown
		e.Message = fmt.Sprintf("the KDC does not know the NameNode's principal %s (KDC_ERR_S_PRINCIPAL_UNKNOWN): set dfs.namenode.kerberos.principal in %s to the NameNode's principal (nn/_HOST@REALM takes the host from the hdfs:// URI, so use the NameNode's host name there)", spn, confDir)
	case strings.Contains(s, "Networking_Error"):
		e.Problem = KerberosKDCUnreachable
		e.Message = fmt.Sprintf("no KDC answered the request for a ticket to %s: check that the KDC runs", spn)
	default:
		e.Problem = KerberosOther
		e.Message = fmt.Sprintf("ticket for %s as %s failed: %s", spn, client, oneLine(err))
	}
	return e
}

// maxCredentialFile bounds what is read of a keytab or ticket cache: real
// ones hold a few keys or tickets, a few kilobytes.
const maxCredentialFile = 1 << 20

// readCredentialFile reads a keytab or ticket cache, refusing a file larger
// than maxCredentialFile.
func readCredentialFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCredentialFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCredentialFile {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a keytab or ticket cache", path, maxCredentialFile)
	}
	return b, nil
}

// loadKeytab reads a keytab (parseKeytab).
func loadKeytab(path string) (*keytab.Keytab, error) {
	b, err := readCredentialFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeytab(b)
}

// parseKeytab is keytab's Unmarshal, with a panic on malformed bytes turned
// into an error.
func parseKeytab(b []byte) (kt *keytab.Keytab, err error) {
	defer func() {
		if r := recover(); r != nil {
			kt, err = nil, fmt.Errorf("malformed keytab: %v", r)
		}
	}()
	kt = new(keytab.Keytab)
	if err := kt.Unmarshal(b); err != nil {
		return nil, err
	}
	return kt, nil
}

// loadCCache reads a ticket cache (parseCCache).
func loadCCache(path string) (*credentials.CCache, error) {
	b, err := readCredentialFile(path)
	if err != nil {
		return nil, err
	}
	return parseCCache(b)
}

// parseCCache is the ticket cache's Unmarshal, whose parser does not check
// bounds: a panic on malformed bytes becomes an error.
func parseCCache(b []byte) (cc *credentials.CCache, err error) {
	defer func() {
		if r := recover(); r != nil {
			cc, err = nil, fmt.Errorf("malformed ticket cache: %v", r)
		}
	}()
	if err := checkCCache(b); err != nil {
		return nil, fmt.Errorf("malformed ticket cache: %w", err)
	}
	cc = new(credentials.CCache)
	if err := cc.Unmarshal(b); err != nil {
		return nil, err
	}
	return cc, nil
}

// checkCCache walks the structure of a ticket cache (MIT's file format,
// versions 3 and 4, big-endian) and checks every length and count against
// the bytes left, before gokrb5's parser, which allocates what a count says
// (a crafted file could ask for gigabytes) and indexes without checks.
func checkCCache(b []byte) error {
	p := 0
	need := func(n int) error {
		if n < 0 || len(b)-p < n {
			return fmt.Errorf("truncated at byte %d", p)
		}
		return nil
	}
	u16 := func() (int, error) {
		if err := need(2); err != nil {
			return 0, err
		}
		p += 2
		return int(b[p-2])<<8 | int(b[p-1]), nil
	}
	u32 := func() (int, error) {
		if err := need(4); err != nil {
			return 0, err
		}
		p += 4
		v := uint32(b[p-4])<<24 | uint32(b[p-3])<<16 | uint32(b[p-2])<<8 | uint32(b[p-1])
		if v > maxCredentialFile {
			return 0, fmt.Errorf("length or count %d at byte %d is larger than the file", v, p-4)
		}
		return int(v), nil
	}
	skip := func(n int) error {
		if err := need(n); err != nil {
			return err
		}
		p += n
		return nil
	}
	data := func() error {
		n, err := u32()
		if err != nil {
			return err
		}
		return skip(n)
	}
	principal := func() error {
		if err := skip(4); err != nil { // name type
			return err
		}
		n, err := u32()
		if err != nil {
			return err
		}
		if err := data(); err != nil { // realm
			return err
		}
		for range n {
			if err := data(); err != nil {
				return err
			}
		}
		return nil
	}
	// list is a count of (u16 type, data) items, each at least 6 bytes.
	list := func() error {
		n, err := u32()
		if err != nil {
			return err
		}
		if err := need(6 * n); err != nil {
			return err
		}
		for range n {
			if err := skip(2); err != nil {
				return err
			}
			if err := data(); err != nil {
				return err
			}
		}
		return nil
	}
	if len(b) < 2 || b[0] != 5 {
		return errors.New("not a ticket cache (it must start with byte 5)")
	}
	version := b[1]
	if version != 3 && version != 4 {
		return fmt.Errorf("ticket cache version %d is not supported (want 3 or 4, as MIT Kerberos writes)", version)
	}
	p = 2
	if version == 4 {
		n, err := u16()
		if err != nil {
			return err
		}
		if err := skip(n); err != nil {
			return err
		}
	}
	if err := principal(); err != nil {
		return err
	}
	for p < len(b) {
		for _, step := range []func() error{
			principal, principal, // client, server
			func() error { return skip(2) }, // key type
			func() error {
				if version == 3 {
					return skip(2) // the key type again
				}
				return nil
			},
			data,                             // key
			func() error { return skip(17) }, // four times, is-skey
			func() error { return skip(4) },  // flags
			list, list,                       // addresses, authorization data
			data, data, // ticket, second ticket
		} {
			if err := step(); err != nil {
				return err
			}
		}
	}
	return nil
}

// oneLine returns err's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
