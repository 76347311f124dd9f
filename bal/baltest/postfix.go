// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"context"
	"crypto/x509"
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
)

// PostfixConfig configures [StartPostfix]. The zero value gives a Postfix
// relaying to a new Dovecot with a new PKI.
type PostfixConfig struct {
	// Dovecot receives the mail of the test domains over LMTP. Nil means
	// StartDovecot(t, DovecotConfig{PKI: PKI}).
	Dovecot *Dovecot

	// PKI provides the server certificate and the authorities client
	// certificates must chain to. Nil means the Dovecot's PKI (or a new one
	// when Dovecot is nil too).
	PKI *PKI

	// ServerLeaf is the certificate the server presents. Nil means
	// PKI.Server.
	ServerLeaf *Leaf

	// Domains are the mail domains relayed to Dovecot; mail to any other
	// domain is bounced with 5.1.2. Empty means the domains of the Dovecot
	// users.
	Domains []string

	// DeniedCerts are refused at RCPT by fingerprint (check_ccert_access),
	// in addition to the PKI's Revoked certificate: Postfix does not read
	// CRLs.
	DeniedCerts []*x509.Certificate

	// ClientCertOptional lets a client without a certificate submit after
	// SMTP AUTH (XOAUTH2 or OAUTHBEARER with a token given to
	// [Dovecot.AddToken], PLAIN or LOGIN with a password), as a personal
	// BAL does with a Pro Santé Connect token. By default a certificate of
	// the PKI is required even from clients that authenticate. A
	// certificate presented is checked either way (a revoked or expired
	// one is refused).
	//
	// The Dovecot must not have RequireClientCert: Postfix does not pass
	// client certificates on to Dovecot's authentication.
	ClientCertOptional bool

	// Binary is the postfix command. Empty means "postfix" on PATH, then
	// /usr/sbin/postfix.
	Binary string
}

// Postfix is a running Postfix 3 (Debian package postfix) on loopback,
// started by [StartPostfix]: a submission service that accepts mail only
// over TLS (STARTTLS on SubmissionAddr, implicit TLS on SubmissionsAddr)
// from clients presenting a certificate of the PKI (or,
// with PostfixConfig.ClientCertOptional, logged in with SMTP AUTH),
// advertises DSN (RFC 3461), and relays to Dovecot's LMTP.
//
// SMTP AUTH (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) is offered after
// STARTTLS and checked by Dovecot's authentication service
// ([Dovecot.AuthSocket]); a client logged in that way may only send from
// its own address (or with the null sender).
type Postfix struct {
	// SubmissionAddr is the SMTP submission listener (STARTTLS required),
	// as host:port.
	SubmissionAddr string
	// SubmissionsAddr is the same submission service with implicit TLS
	// (RFC 8314 "submissions", port 465 in production; Postfix's
	// smtpd_tls_wrappermode), as host:port.
	SubmissionsAddr string
	// Dir holds the configuration (Dir/etc), the queue and the log.
	Dir string
	// LogPath is Postfix's log file.
	LogPath string
	// PKI and Dovecot are the ones the server uses.
	PKI     *PKI
	Dovecot *Dovecot

	bin, confDir string
	stopOnce     sync.Once
}

// StartPostfix starts Postfix as root from a temporary directory (its own
// configuration directory, postfix -c) and stops it when the test ends. It
// skips the test (fails under MSS_REQUIRE=all) when Postfix or Dovecot is
// not installed or the process is not root, and fails it when Postfix does
// not start; the error then holds the end of its log. When the test fails,
// the end of Postfix's log is logged.
func StartPostfix(t testing.TB, cfg PostfixConfig) *Postfix {
	t.Helper()
	bin := cfg.Binary
	if bin == "" {
		bin = findBinary(t, "postfix", "postfix", "/usr/sbin/postfix")
	}
	requireRoot(t, "postfix")
	p := cfg.PKI
	if p == nil && cfg.Dovecot != nil {
		p = cfg.Dovecot.PKI
	}
	if p == nil {
		var err error
		if p, err = NewPKI(nil); err != nil {
			t.Fatal(err)
		}
	}
	dv := cfg.Dovecot
	if dv == nil {
		dv = StartDovecot(t, DovecotConfig{PKI: p})
	}
	if dv.AuthSocket == "" {
		t.Fatal("baltest: the Dovecot has no authentication socket for Postfix (started before the postfix user existed?)")
	}
	pf, err := startPostfix(t, bin, cfg, p, dv)
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

func startPostfix(t testing.TB, bin string, cfg PostfixConfig, p *PKI, dv *Dovecot) (*Postfix, error) {
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		return nil, fmt.Errorf("baltest: Postfix's user (created by the Debian package): %w", err)
	}
	uid, _ := strconv.Atoi(pfUser.Uid)
	gid, _ := strconv.Atoi(pfUser.Gid)

	dir := daemonDir(t, "postfix")
	if err := mkdirs(dir, "etc", "pki", "queue", "data", "log"); err != nil {
		return nil, err
	}
	if err := os.Chown(filepath.Join(dir, "data"), uid, gid); err != nil {
		return nil, fmt.Errorf("baltest: %w", err)
	}
	files, err := writeServerFiles(filepath.Join(dir, "pki"), p, cfg.ServerLeaf)
	if err != nil {
		return nil, err
	}
	doms := cfg.Domains
	if len(doms) == 0 {
		doms = domains(dv.Users)
	}
	pf := &Postfix{Dir: dir, LogPath: filepath.Join(dir, "log", "postfix.log"), PKI: p, Dovecot: dv, bin: bin, confDir: filepath.Join(dir, "etc")}
	params := postfixParams{
		Dir:      dir,
		Hostname: DefaultServerName,
		Domains:  strings.Join(doms, ", "),
		LMTPAddr: dv.LMTPAddr,
		Files:    files,

		AuthSocket:  dv.AuthSocket,
		RequireCert: "yes",
	}
	if cfg.ClientCertOptional {
		params.RequireCert = "no"
	}
	for _, u := range dv.Users {
		params.Logins = append(params.Logins, strings.ToLower(u.Address))
	}
	denied := append([]*x509.Certificate{p.Revoked.Cert}, cfg.DeniedCerts...)
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		pf.SubmissionAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		pf.SubmissionsAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
		params.SubmissionAddr, params.SubmissionsAddr = pf.SubmissionAddr, pf.SubmissionsAddr
		if err := writePostfixFiles(params, denied); err != nil {
			return nil, err
		}
		err = pf.start()
		if err == nil {
			t.Cleanup(pf.Stop)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("Postfix %s", logTail(pf.LogPath, 40))
				}
			})
			return pf, nil
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Address already in use") {
			return nil, err
		}
	}
}

// start checks the configuration (which also creates the queue tree),
// starts the master and waits until the submission port answers.
func (pf *Postfix) start() error {
	ctx := context.Background()
	if _, err := run(ctx, nil, pf.bin, "-c", pf.confDir, "start"); err != nil {
		pf.kill()
		return fmt.Errorf("baltest: starting Postfix: %w\n%s", err, logTail(pf.LogPath, 20))
	}
	alive := func() error {
		if pid := pf.masterPID(); pid != 0 && !processAlive(pid) {
			return fmt.Errorf("Postfix master %d exited", pid)
		}
		return nil
	}
	if err := waitListening([]string{pf.SubmissionAddr, pf.SubmissionsAddr}, alive, startTimeout); err != nil {
		pf.kill()
		return fmt.Errorf("baltest: Postfix did not start: %v\n%s", err, logTail(pf.LogPath, 30))
	}
	return nil
}

// masterPID reads the master's PID file (0 when absent).
func (pf *Postfix) masterPID() int {
	b, err := os.ReadFile(filepath.Join(pf.Dir, "queue", "pid", "master.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Stop stops Postfix ("postfix stop", then SIGTERM and SIGKILL to the
// master if it is still there after 5 seconds). It is called when the test
// ends; calling it earlier is allowed.
func (pf *Postfix) Stop() {
	pf.stopOnce.Do(pf.kill)
}

func (pf *Postfix) kill() {
	pid := pf.masterPID()
	exec.Command(pf.bin, "-c", pf.confDir, "stop").Run()
	deadline := time.Now().Add(5 * time.Second)
	for pid != 0 && processAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	killWait(pid, time.Second)
}

// Crash kills the Postfix master and every process it started
// (SIGKILL, no clean shutdown): connections in progress are cut, as when
// the server machine fails. Start it again with Restart.
func (pf *Postfix) Crash() {
	master := pf.masterPID()
	if master == 0 {
		return
	}
	for _, pid := range descendants(master) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	syscall.Kill(master, syscall.SIGKILL)
	killWait(master, time.Second)
	os.Remove(filepath.Join(pf.Dir, "queue", "pid", "master.pid"))
}

// Restart starts Postfix again (after Crash or Stop) on the same port
// with the same queue.
func (pf *Postfix) Restart() error {
	pf.kill()
	return pf.start()
}

// descendants lists the processes whose parent chain leads to pid
// (/proc/<pid>/stat field 4).
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces; cut after ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Log returns Postfix's log so far.
func (pf *Postfix) Log() string {
	b, _ := os.ReadFile(pf.LogPath)
	return string(b)
}
