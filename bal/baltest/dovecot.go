// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/internal/testenv"
)

// DovecotConfig configures [StartDovecot]. The zero value gives a Dovecot
// with a new PKI and the [DefaultUsers].
type DovecotConfig struct {
	// PKI provides the server certificate and the authorities and CRLs that
	// client certificates are checked against. Nil means NewPKI(nil).
	PKI *PKI

	// Users are the mailboxes. Empty means DefaultUsers(PKI).
	Users []MailUser

	// ServerLeaf is the certificate the server presents. Nil means
	// PKI.Server; PKI.WrongHost or PKI.Expired let a test check that a
	// client refuses the operator.
	ServerLeaf *Leaf

	// RequireClientCert makes every authentication need a valid client
	// certificate, whatever the mechanism (Dovecot's
	// auth_ssl_require_client_cert). By default only EXTERNAL needs one, so
	// that passwords and bearer tokens can be tested on the same server.
	// Note that with a valid certificate Dovecot always takes the user name
	// from it, whatever name the client gives.
	//
	// This concerns IMAP only: Postfix checks the certificates of its
	// clients itself and does not pass them on to Dovecot's authentication
	// (see [Dovecot.AuthSocket]), so with RequireClientCert every SMTP
	// AUTH through Postfix is refused.
	RequireClientCert bool

	// SkipCRL turns CRL checking off (ssl_require_crl = no); by default a
	// revoked client certificate is refused.
	SkipCRL bool

	// IntrospectionURL is the OAuth2 token introspection endpoint Dovecot
	// POSTs bearer tokens to (RFC 7662 form, answers with "active" and
	// "username"). Empty means an endpoint served by the test that accepts
	// the tokens given to [Dovecot.AddToken].
	IntrospectionURL string

	// Debug turns on Dovecot's auth_debug and mail_debug.
	Debug bool

	// ExtraConfig is appended to the generated dovecot.conf, for a
	// setting this configuration has no field for. For instance
	// "imap_capability = IMAP4rev1 ... UIDPLUS" (a list without MOVE)
	// makes the server advertise no MOVE extension after login.
	ExtraConfig string

	// Binary is the dovecot executable. Empty means "dovecot" on PATH, then
	// /usr/sbin/dovecot.
	Binary string
}

// Dovecot is a running Dovecot 2.3 (Debian package dovecot-imapd and
// dovecot-lmtpd) on loopback, started by [StartDovecot].
type Dovecot struct {
	// IMAPAddr is the IMAP listener (STARTTLS), IMAPSAddr the implicit TLS
	// one and LMTPAddr the LMTP listener (no TLS), as host:port.
	IMAPAddr, IMAPSAddr, LMTPAddr string
	// Dir holds the configuration, the mailboxes (Dir/mail/<address>) and
	// the log.
	Dir string
	// LogPath is Dovecot's log file.
	LogPath string
	// AuthSocket is the path of the unix socket of Dovecot's
	// authentication service for an SMTP server (Postfix's
	// smtpd_sasl_type = dovecot), owned by the postfix user; empty when
	// that user does not exist. A request on it names the mechanism and
	// says whether the SMTP connection is secured, but carries no client
	// certificate: the user name is the one in the SASL exchange.
	AuthSocket string
	// PKI is the PKI the server certificate comes from.
	PKI *PKI
	// Users are the mailboxes.
	Users []MailUser

	cmd       *exec.Cmd
	exited    chan struct{}
	stderr    bytes.Buffer
	introspec *introspection
	stopOnce  sync.Once
	bin       string
}

// Restart stops Dovecot (SIGTERM, as an operator restart does: open
// sessions are cut) and starts it again on the same ports with the same
// mailboxes, for fault tests.
func (d *Dovecot) Restart() error {
	d.kill()
	return d.start(d.bin)
}

// StartDovecot starts Dovecot as root from a temporary directory and stops
// it when the test ends. It skips the test (fails under MSS_REQUIRE=all)
// when Dovecot is not installed or the process is not root, and fails it
// when Dovecot does not start; the error then holds the end of its log.
// When the test fails, the end of Dovecot's log is logged.
func StartDovecot(t testing.TB, cfg DovecotConfig) *Dovecot {
	t.Helper()
	bin := cfg.Binary
	if bin == "" {
		bin = findBinary(t, "dovecot", "dovecot", "/usr/sbin/dovecot")
	}
	requireRoot(t, "dovecot")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		testenv.Missing(t, "dovecot", fmt.Sprintf("%s --version: %v", bin, err))
	}
	if !strings.HasPrefix(string(out), "2.3.") {
		t.Fatalf("baltest: %s is Dovecot %s; the configuration is written for 2.3 (2.4 changed the oauth2 passdb)", bin, strings.TrimSpace(string(out)))
	}
	d, err := startDovecot(t, bin, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func startDovecot(t testing.TB, bin string, cfg DovecotConfig) (*Dovecot, error) {
	p := cfg.PKI
	if p == nil {
		var err error
		if p, err = NewPKI(nil); err != nil {
			return nil, err
		}
	}
	users := cfg.Users
	if len(users) == 0 {
		users = DefaultUsers(p)
	}
	for _, u := range users {
		if i := strings.LastIndexByte(u.Address, '@'); i <= 0 || i == len(u.Address)-1 {
			return nil, fmt.Errorf("baltest: Dovecot user %q is not an address", u.Address)
		}
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("baltest: mailboxes belong to nobody: %w", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)

	dir := daemonDir(t, "dovecot")
	if err := mkdirs(dir, "pki", "run", "state", "mail"); err != nil {
		return nil, err
	}
	if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
		return nil, fmt.Errorf("baltest: %w", err)
	}
	files, err := writeServerFiles(filepath.Join(dir, "pki"), p, cfg.ServerLeaf)
	if err != nil {
		return nil, err
	}
	d := &Dovecot{Dir: dir, LogPath: filepath.Join(dir, "dovecot.log"), PKI: p, Users: users, bin: bin}
	introspectionURL := cfg.IntrospectionURL
	if introspectionURL == "" {
		if d.introspec, err = startIntrospection(); err != nil {
			return nil, err
		}
		t.Cleanup(d.introspec.close)
		introspectionURL = d.introspec.url
	}

	params := dovecotParams{
		Dir:               dir,
		Files:             files,
		Domain:            domains(users)[0],
		Debug:             yesNo(cfg.Debug),
		RequireCRL:        yesNo(!cfg.SkipCRL),
		RequireClientCert: yesNo(cfg.RequireClientCert),
		IntrospectionURL:  introspectionURL,
	}
	// Postfix's smtpd runs as the postfix user and opens the socket
	// itself (no chroot, see postfixMaster).
	if pf, err := user.Lookup("postfix"); err == nil {
		// Relative to base_dir (Dir/run).
		params.AuthSocket, params.AuthSocketUser = "auth-postfix", pf.Username
		d.AuthSocket = filepath.Join(dir, "run", params.AuthSocket)
	}
	// A port chosen free may be taken before Dovecot binds it: try again
	// with new ports when that happens.
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(3)
		if err != nil {
			return nil, err
		}
		params.IMAPPort, params.IMAPSPort, params.LMTPPort = ports[0], ports[1], ports[2]
		if err := writeDovecotFiles(params, users, uid, gid); err != nil {
			return nil, err
		}
		if cfg.ExtraConfig != "" {
			if err := appendFile(filepath.Join(dir, "dovecot.conf"), "\n# DovecotConfig.ExtraConfig\n"+cfg.ExtraConfig+"\n"); err != nil {
				return nil, err
			}
		}
		d.IMAPAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		d.IMAPSAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
		d.LMTPAddr = fmt.Sprintf("127.0.0.1:%d", ports[2])
		err = d.start(bin)
		if err == nil {
			t.Cleanup(d.Stop)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("Dovecot %s", logTail(d.LogPath, 40))
				}
			})
			return d, nil
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Address already in use") {
			return nil, err
		}
	}
}

// appendFile appends text to the file at path.
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("baltest: %w", err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("baltest: %w", err)
	}
	return nil
}

// start runs the Dovecot master in the foreground (-F) and waits until it
// listens on its three ports.
func (d *Dovecot) start(bin string) error {
	conf := filepath.Join(d.Dir, "dovecot.conf")
	if _, err := run(context.Background(), nil, bin, "-c", conf, "-n"); err != nil {
		return fmt.Errorf("baltest: Dovecot configuration refused: %w", err)
	}
	d.stderr.Reset()
	d.cmd = exec.Command(bin, "-F", "-c", conf)
	d.cmd.Stdout, d.cmd.Stderr = &d.stderr, &d.stderr
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("baltest: starting Dovecot: %w", err)
	}
	d.exited = make(chan struct{})
	go func() {
		d.cmd.Wait()
		close(d.exited)
	}()
	alive := func() error {
		select {
		case <-d.exited:
			return fmt.Errorf("Dovecot exited: %v", d.cmd.ProcessState)
		default:
			return nil
		}
	}
	err := waitListening([]string{d.IMAPAddr, d.IMAPSAddr, d.LMTPAddr}, alive, startTimeout)
	if err != nil {
		d.kill()
		return fmt.Errorf("baltest: Dovecot did not start: %v\nstderr: %s\n%s", err, strings.TrimSpace(d.stderr.String()), logTail(d.LogPath, 30))
	}
	return nil
}

// Stop stops Dovecot (SIGTERM to the master, which stops its children;
// SIGKILL after 5 seconds). It is called when the test ends; calling it
// earlier is allowed.
func (d *Dovecot) Stop() {
	d.stopOnce.Do(d.kill)
}

func (d *Dovecot) kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}

// Log returns Dovecot's log so far.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(d.LogPath)
	return string(b)
}

// AddToken makes the test's introspection endpoint accept token as a bearer
// token of the mailbox address, for XOAUTH2 and OAUTHBEARER. It panics when
// DovecotConfig.IntrospectionURL was set: the endpoint is then not ours.
func (d *Dovecot) AddToken(token, address string) {
	if d.introspec == nil {
		panic("baltest: Dovecot.AddToken with an IntrospectionURL of your own")
	}
	d.introspec.add(token, strings.ToLower(address))
}

// IntrospectionRequests returns how many token introspection requests the
// test's endpoint has answered.
func (d *Dovecot) IntrospectionRequests() int64 {
	if d.introspec == nil {
		return 0
	}
	return d.introspec.hits.Load()
}
