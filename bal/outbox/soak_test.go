// SPDX-License-Identifier: Apache-2.0

//go:build unix

package outbox_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/bal/outbox"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// The soak (issue 19): 1,000 messages sent through the outbox to a real
// Postfix relaying to a real Dovecot, while faults are injected: the
// network cut (every connection closed, at whatever point of the SMTP
// dialogue it is, mid-DATA included), replies swallowed (the server's
// answers never reach the client, so that a message whose final "." went
// out has an unknown fate), the Postfix master killed with SIGKILL and
// stopped with SIGTERM and restarted, Dovecot restarted, and the sending
// process itself killed with SIGKILL and started again on the same
// outbox. The sending process is this test binary run again
// (TestSoakChild), so that a SIGKILL really ends a process: nothing of it
// survives but its files (the journal, the trace).
//
// What the recipient's maildir holds is then compared, by Message-ID, with
// what the outbox says: no message lost, none delivered twice because of
// the client (a second copy whose Postfix queue id differs from the first
// is a second submission; one with the same queue id is Postfix's own
// redelivery over LMTP after its restart, counted and reported apart),
// each message's tracked state what the maildir and the DSNs say, and no
// "sent" trace for a message the server did not take.
//
// Faults are triggered by the number of messages in the recipient's
// maildir, never by time, so that a slow machine changes how long the
// soak takes, not what it tests.

const soakEnv = "MSS_SOAK_CHILD"

type soakConfig struct {
	Journal     string        `json:"journal"`
	TracePath   string        `json:"trace"`
	TraceSigner string        `json:"signer"`
	TraceVerify string        `json:"verifier"`
	Submit      string        `json:"submit"` // the fault proxy in front of Postfix
	IMAP        string        `json:"imap"`
	Roots       string        `json:"roots"`
	Cert        string        `json:"cert"`
	Key         string        `json:"key"`
	N           int           `json:"n"`
	Dump        string        `json:"dump"`
	UnknownWait time.Duration `json:"unknownWait"`
}

type soakDump struct {
	Statuses  []outbox.Status    `json:"statuses"`
	Unmatched []outbox.Unmatched `json:"unmatched"`
}

func soakRef(i int) string { return fmt.Sprintf("soak-%04d", i) }

// TestSoakChild is the sending process of TestSoak (skipped otherwise).
func TestSoakChild(t *testing.T) {
	raw := os.Getenv(soakEnv)
	if raw == "" {
		t.Skip("the sending process of TestSoak, run by it")
	}
	var cfg soakConfig
	require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}

	roots := readCerts(t, cfg.Roots)
	trust := &bal.Trust{Roots: roots, SkipRevocation: true}
	kp, err := tls.LoadX509KeyPair(cfg.Cert, cfg.Key)
	require.NoError(t, err)
	auth, err := bal.NewCertificate(kp)
	require.NoError(t, err)
	signer, err := note.NewSigner(cfg.TraceSigner)
	require.NoError(t, err)
	verifier, err := note.NewVerifier(cfg.TraceVerify)
	require.NoError(t, err)
	tl, err := trace.OpenFileLog(trace.FileLogConfig{Path: cfg.TracePath, Signer: signer, Verifier: verifier, Durable: true, Retention: -1})
	require.NoError(t, err, "the trace log, reopened after a SIGKILL")
	defer tl.Close()

	mbox := trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"}
	snd := &bal.Sender{Server: soakEndpoint(t, cfg.Submit), ServerName: "localhost", Trust: trust, Auth: auth,
		Mailbox: mbox, Trace: tl, Software: "gomss-soak", Timeout: 20 * time.Second}
	j, err := outbox.OpenJournal(cfg.Journal, nil)
	require.NoError(t, err, "the journal, reopened after a SIGKILL")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o, err := outbox.Open(ctx, outbox.Config{Store: j, Sender: snd,
		Retry:   outbox.Retry{MaxAttempts: 100, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, UnknownWait: cfg.UnknownWait},
		OnError: func(err error) { logf("outbox: %v", err) }})
	require.NoError(t, err)
	defer o.Close()
	logf("child started: %d messages in the outbox", len(o.List(outbox.Filter{})))

	runDone := make(chan error, 1)
	go func() { runDone <- o.Run(ctx) }()
	loop := &bal.Loop{
		Receiver: &bal.Receiver{Server: soakEndpoint(t, cfg.IMAP), ServerName: "localhost", Trust: trust, Auth: auth,
			Mailbox: mbox, Trace: tl, Software: "gomss-soak"},
		Sender:  snd,
		From:    mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "LPS de test"},
		Product: "DEV000000",
		Handler: func(context.Context, *mssante.Received) error { return nil },
		Reports: o,
		Backoff: 500 * time.Millisecond,
		OnError: func(err error) { logf("loop: %v", err) },
	}
	loopDone := make(chan error, 1)
	go func() { loopDone <- loop.Run(ctx) }()

	pdf := testdocs.PDF("CR", 2_000)
	for i := range cfg.N {
		m := &mssante.Message{
			From:    mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "LPS de test"},
			To:      []string{baltest.CPSUser},
			Subject: fmt.Sprintf("Compte rendu %d", i),
			Text:    "Compte rendu ci-joint.",
			Documents: []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Now()),
				PDF: mssante.BytesOpener(pdf)}},
			XDM:     xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
			Product: "DEV000000",
			DSN:     mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
		}
		// Enqueue again after a restart: the Ref makes it return the
		// message queued before, whatever point the kill came at.
		_, err := o.Enqueue(ctx, m, outbox.EnqueueOptions{Ref: soakRef(i)})
		require.NoError(t, err, soakRef(i))
		if i%20 == 19 {
			time.Sleep(50 * time.Millisecond) // keep the queue filling while sending goes on
		}
	}
	logf("all %d enqueued", cfg.N)

	done := func() bool {
		for i := range cfg.N {
			st, ok := o.ByRef(soakRef(i))
			if !ok || st.Phase != outbox.PhaseSent {
				return false
			}
			rc, ok := st.Recipient(baltest.CPSUser)
			if !ok || (rc.State != outbox.Delivered && rc.State != outbox.Relayed) {
				return false
			}
		}
		return true
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case err := <-runDone:
			t.Fatalf("outbox Run returned: %v", err)
		case err := <-loopDone:
			t.Fatalf("receive loop returned: %v", err)
		case <-tick.C:
		}
	}
	cancel()
	require.NoError(t, <-runDone)
	require.NoError(t, <-loopDone)
	d := soakDump{Statuses: o.List(outbox.Filter{}), Unmatched: o.Unmatched()}
	b, err := json.Marshal(d)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg.Dump+".tmp", b, 0o600))
	require.NoError(t, os.Rename(cfg.Dump+".tmp", cfg.Dump))
	logf("done")
}

func readCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		require.NoError(t, err)
		out = append(out, c)
	}
	require.NotEmpty(t, out, path)
	return out
}

func soakEndpoint(t *testing.T, addr string) bal.Endpoint {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return bal.Endpoint{Host: h, Port: n}
}

// faultProxy forwards TCP connections to Postfix's submission port and
// cuts them on demand.
type faultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[*proxyConn]struct{}
	// holeNext and cutNext arm a fault for the next connection when none
	// is open: a fault that hits nothing would test nothing.
	holeNext, cutNext bool
}

type proxyConn struct {
	client, server net.Conn
	mu             sync.Mutex
	hole           bool // swallow the server's next bytes and close
	cutAfter       int  // close once the client has sent this many bytes (0: never)
}

func (c *proxyConn) close() { c.client.Close(); c.server.Close() }

func startProxy(t *testing.T, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &faultProxy{ln: ln, target: target, conns: map[*proxyConn]struct{}{}}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			c.close()
		}
		p.mu.Unlock()
	})
	go func() {
		for {
			cl, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(cl)
		}
	}()
	return p
}

func (p *faultProxy) serve(cl net.Conn) {
	sv, err := net.Dial("tcp", p.target)
	if err != nil {
		cl.Close() // Postfix down: the client sees the connection end
		return
	}
	c := &proxyConn{client: cl, server: sv}
	p.mu.Lock()
	p.conns[c] = struct{}{}
	c.hole, p.holeNext = p.holeNext, false
	if p.cutNext {
		// Past the TLS handshake and the commands: inside DATA.
		c.cutAfter, p.cutNext = 6000, false
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.close()
	}()
	go func() {
		defer c.close()
		buf := make([]byte, 2048)
		sent := 0
		for {
			n, err := cl.Read(buf)
			if n > 0 {
				if _, werr := sv.Write(buf[:n]); werr != nil {
					return
				}
				sent += n
				if c.cutAfter > 0 && sent >= c.cutAfter {
					return // the network cut, in the middle of what the client sends
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := sv.Read(buf)
		if n > 0 {
			c.mu.Lock()
			hole := c.hole
			c.mu.Unlock()
			if hole {
				return // the reply is lost, and the connection with it
			}
			if _, werr := cl.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cutAll closes every connection, wherever its dialogue stands (or the
// next one, in the middle of what its client sends, when none is open).
func (p *faultProxy) cutAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.close()
	}
	if len(p.conns) == 0 {
		p.cutNext = true
	}
	return len(p.conns)
}

// blackhole makes every open connection (or the next one when none is
// open) lose the server's next reply and close: a client waiting for the
// answer to its final "." then cannot know whether the message was taken.
func (p *faultProxy) blackhole() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.mu.Lock()
		c.hole = true
		c.mu.Unlock()
	}
	if len(p.conns) == 0 {
		p.holeNext = true
	}
	return len(p.conns)
}

type soakFault struct {
	at   int // recipient maildir count that triggers it
	name string
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: -short")
	}
	n := 1000
	if s := os.Getenv("MSS_SOAK_N"); s != "" {
		v, err := strconv.Atoi(s)
		require.NoError(t, err)
		n = v
	}
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	dc := baltest.StartDovecot(t, baltest.DovecotConfig{PKI: pki, SkipCRL: true})
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: pki, Dovecot: dc})
	dir := t.TempDir()
	files, err := pki.WriteFiles(dir)
	require.NoError(t, err)
	skey, vkey, err := note.GenerateKey(rand.Reader, "soak")
	require.NoError(t, err)
	proxy := startProxy(t, pf.SubmissionAddr)
	cfg := soakConfig{Journal: filepath.Join(dir, "outbox"), TracePath: filepath.Join(dir, "trace.jsonl"),
		TraceSigner: skey, TraceVerify: vkey, Submit: proxy.ln.Addr().String(), IMAP: dc.IMAPAddr,
		Roots: files.Roots, Cert: files.ORG.Cert, Key: files.ORG.Key, N: n, Dump: filepath.Join(dir, "dump.json"),
		UnknownWait: 90 * time.Second}
	cfgJSON, err := json.Marshal(cfg)
	require.NoError(t, err)
	childLog, err := os.Create(filepath.Join(dir, "child.log"))
	require.NoError(t, err)
	defer childLog.Close()
	var child *exec.Cmd
	exited := make(chan error, 1)
	startChild := func() {
		child = exec.Command(os.Args[0], "-test.run=^TestSoakChild$", "-test.v", "-test.count=1")
		child.Env = append(os.Environ(), soakEnv+"="+string(cfgJSON))
		child.Stdout, child.Stderr = childLog, childLog
		require.NoError(t, child.Start())
		c := child
		go func() { exited <- c.Wait() }()
	}
	childTail := func() string {
		b, _ := os.ReadFile(childLog.Name())
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		return string(b)
	}
	startChild()
	t.Cleanup(func() {
		if child.ProcessState == nil {
			child.Process.Kill()
		}
	})

	scale := func(k int) int { return k * n / 1000 }
	faults := []soakFault{
		{scale(80), "cut"}, {scale(150), "postfix-sigkill"}, {scale(250), "blackhole"}, {scale(330), "client-sigkill"},
		{scale(420), "postfix-sigterm"}, {scale(500), "dovecot-restart"}, {scale(580), "cut"}, {scale(650), "client-sigkill"},
		{scale(720), "blackhole"}, {scale(800), "postfix-sigkill"}, {scale(880), "client-sigkill"},
	}
	var fired []string
	deadline := time.Now().Add(40 * time.Minute) // a hang, not a speed check
	if d, ok := t.Deadline(); ok && d.Add(-3*time.Minute).Before(deadline) {
		deadline = d.Add(-3 * time.Minute) // fail with the figures, before go test's own timeout
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for finished := false; !finished; {
		select {
		case err := <-exited:
			require.NoError(t, err, "the sending process failed:\n%s", childTail())
			finished = true
			continue
		case <-tick.C:
		}
		require.True(t, time.Now().Before(deadline), "soak not finished after 40 min; faults %v\n%s", fired, childTail())
		got, err := dc.CountMessages(baltest.CPSUser)
		require.NoError(t, err)
		for len(faults) > 0 && got >= faults[0].at {
			f := faults[0]
			faults = faults[1:]
			detail := ""
			switch f.name {
			case "cut":
				detail = fmt.Sprintf("%d connections", proxy.cutAll())
			case "blackhole":
				detail = fmt.Sprintf("%d connections", proxy.blackhole())
			case "postfix-sigkill":
				pf.Crash()
				require.NoError(t, pf.Restart())
			case "postfix-sigterm":
				pf.Terminate()
				require.NoError(t, pf.Restart())
			case "dovecot-restart":
				require.NoError(t, dc.Restart())
			case "client-sigkill":
				require.NoError(t, child.Process.Kill())
				err := <-exited
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, "the sending process ended before its SIGKILL:\n%s", childTail())
				fmt.Fprintf(childLog, "=== SIGKILL by the soak at %d delivered ===\n", got)
				startChild()
			}
			fired = append(fired, fmt.Sprintf("%s@%d(%s)", f.name, got, detail))
			t.Logf("fault %s at %d delivered %s", f.name, got, detail)
		}
	}
	require.Empty(t, faults, "the soak ended before every fault was injected")

	// Postfix may still deliver a redelivered copy or send a DSN:
	// wait for its queue to empty before counting.
	waitQueueEmpty(t, pf)

	b, err := os.ReadFile(cfg.Dump)
	require.NoError(t, err)
	var dump soakDump
	require.NoError(t, json.Unmarshal(b, &dump))
	total := checkSoak(t, n, dc, dump, cfg)
	receiveSoak(t, dc, cfg, n, total)
}

// receiveSoak reads the recipient's mailbox with a bal.Loop, as the
// receiving LPS would: each of the n messages is handled once, the other
// copies (total-n: Postfix's redeliveries, a client's duplicates) are
// recognised by their sender and Message-ID and filed without being
// handled (issue 19: "the receive loop ... must deduplicate on it").
func receiveSoak(t *testing.T, dc *baltest.Dovecot, cfg soakConfig, n, total int) {
	t.Helper()
	dc.AddToken("jeton-soak", baltest.CPSUser)
	psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-soak"}), Username: baltest.CPSUser,
		Identity: trace.Actor{ID: "810002813839", Name: "Jean DUPONT"}}
	handled := map[string]int{}
	onPass := make(chan bal.PassInfo, 1)
	loop := &bal.Loop{
		Receiver: &bal.Receiver{Server: soakEndpoint(t, cfg.IMAP), ServerName: "localhost",
			Trust: &bal.Trust{Roots: readCerts(t, cfg.Roots), SkipRevocation: true}, Auth: psc,
			Mailbox: trace.Mailbox{Address: baltest.CPSUser}, Software: "gomss-soak",
			Trace: trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })},
		From: mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Personal},
		Handler: func(_ context.Context, m *mssante.Received) error {
			handled[m.MessageID]++
			return nil
		},
		OnPass:  func(p bal.PassInfo) { onPass <- p },
		OnError: func(err error) { t.Errorf("receiving loop: %v", err) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a hang guard
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	var p bal.PassInfo
	select {
	case p = <-onPass:
	case err := <-done:
		t.Fatalf("the receiving loop stopped before its pass: %v", err)
	}
	cancel()
	<-done
	require.NoError(t, p.Err)
	twice := 0
	for _, k := range handled {
		if k > 1 {
			twice++
		}
	}
	assert.Len(t, handled, n, "messages handled")
	assert.Zero(t, twice, "messages handled more than once")
	assert.Equal(t, n, p.Handled)
	assert.Len(t, p.Duplicates, total-n, "copies filed without being handled")
	t.Logf("receiving loop: %d copies in the mailbox, %d messages handled once each, %d copies recognised and not handled", total, len(handled), len(p.Duplicates))
}

// waitQueueEmpty waits until Postfix's queue holds no message. A file of
// the incoming queue without its owner-execute bit is one cleanup(8) had
// not finished writing: Postfix sets that bit when the message is
// complete, and qmgr(8) leaves an incomplete file alone until it is old
// enough to delete (an hour). A SIGKILL of Postfix while a message was
// being received leaves such a file; the client had no 250 for it, so it
// is no message of the queue once it has stopped changing (10 s): such
// files are logged and not waited for.
func waitQueueEmpty(t *testing.T, pf *baltest.Postfix) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var left, abandoned []string
		for _, q := range []string{"incoming", "active", "deferred", "maildrop", "hold"} {
			filepath.WalkDir(filepath.Join(pf.Dir, "queue", q), func(path string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return nil
				}
				if q == "incoming" {
					if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o100 == 0 && time.Since(fi.ModTime()) > 10*time.Second {
						abandoned = append(abandoned, fmt.Sprintf("%s (%d bytes)", path, fi.Size()))
						return nil
					}
				}
				left = append(left, path)
				return nil
			})
		}
		if len(left) == 0 {
			if len(abandoned) > 0 {
				t.Logf("incomplete queue files left by a killed Postfix (never acknowledged): %v", abandoned)
			}
			return
		}
		require.True(t, time.Now().Before(deadline), "Postfix's queue still holds %v\n%s", left, tail(pf.LogPath, 4000))
		time.Sleep(200 * time.Millisecond)
	}
}

var postfixQueueID = regexp.MustCompile(`\(Postfix\) with \S+ id ([0-9A-Za-z]+)`)

// delivered is one copy in the recipient's maildir.
type delivered struct {
	queueID string
	path    string
}

// maildirCopies reads every message of the mailbox (all folders) and
// returns its copies by Message-ID.
func maildirCopies(t *testing.T, dc *baltest.Dovecot, address string, fn func(path string, h mail.Header, body io.Reader)) {
	t.Helper()
	root := filepath.Join(dc.Dir, "mail", strings.ToLower(address))
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if p := filepath.Base(filepath.Dir(path)); p != "new" && p != "cur" {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		m, err := mail.ReadMessage(bufio.NewReader(f))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fn(path, m.Header, m.Body)
		return nil
	})
	require.NoError(t, err)
}

// checkSoak counts and checks; it returns the number of copies in the
// recipient's maildir.
func checkSoak(t *testing.T, n int, dc *baltest.Dovecot, dump soakDump, cfg soakConfig) (total int) {
	// The recipient's maildir, by Message-ID.
	copies := map[string][]delivered{}
	maildirCopies(t, dc, baltest.CPSUser, func(path string, h mail.Header, _ io.Reader) {
		id := strings.TrimSpace(h.Get("Message-Id"))
		qid := ""
		for _, r := range h["Received"] {
			if m := postfixQueueID.FindStringSubmatch(r); m != nil {
				qid = m[1]
				break
			}
		}
		require.NotEmpty(t, qid, "%s: no Postfix queue id in its Received lines %q", path, h["Received"])
		copies[id] = append(copies[id], delivered{qid, path})
		total++
	})

	// The DSNs the sender got, by the message they answer and their own
	// Message-ID (read from the files, not through the SDK).
	dsns := map[string]map[string]bool{}
	dsnFiles := map[string][]string{}
	inboxLeft := 0
	maildirCopies(t, dc, baltest.ORGUser, func(path string, h mail.Header, body io.Reader) {
		if !strings.Contains(h.Get("Content-Type"), "delivery-status") {
			return
		}
		env := ""
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Original-Envelope-Id:"); ok {
				env = strings.TrimSpace(v)
				break
			}
		}
		require.NotEmpty(t, env, "%s: a DSN without Original-Envelope-Id", path)
		if !strings.Contains(path, string(filepath.Separator)+".") { // INBOX: not handled by the loop
			inboxLeft++
			return
		}
		id := "<" + env + ">"
		if dsns[id] == nil {
			dsns[id] = map[string]bool{}
		}
		dsns[id][h.Get("Message-Id")] = true
		dsnFiles[id] = append(dsnFiles[id], path)
	})

	// The "sent" traces: every successful send traced is in the maildir.
	sentTraced := map[string]int{}
	falseSent, sendsTraced := 0, 0
	_, err := trace.Scan(cfg.TracePath, trace.Filter{}, func(_ int64, e trace.Event) error {
		if e.Action == trace.Send {
			sendsTraced++
			if e.Response.OK {
				sentTraced[e.MessageID]++
				if len(copies[e.MessageID]) == 0 {
					falseSent++
				}
			}
		}
		return nil
	})
	require.NoError(t, err)

	byID := map[string]outbox.Status{}
	for _, st := range dump.Statuses {
		byID[st.MessageID] = st
	}
	require.Len(t, dump.Statuses, n, "messages in the outbox")
	var lost, clientDup, postfixDup, unknown, resent, attempts, provedByDSN, dsnTwice int
	for _, st := range dump.Statuses {
		cs := copies[st.MessageID]
		attempts += st.Attempts
		unknown += st.Unknown
		if st.Resent {
			resent++
		}
		if len(cs) == 0 {
			lost++
			t.Errorf("lost: %s (%s) %+v", st.MessageID, st.Ref, st)
			continue
		}
		qids := map[string]int{}
		for _, c := range cs {
			qids[c.queueID]++
		}
		for _, k := range qids {
			postfixDup += k - 1
		}
		if len(qids) > 1 {
			clientDup += len(qids) - 1
			t.Errorf("submitted more than once by the client: %s (%s): queue ids %v, resent=%v", st.MessageID, st.Ref, qids, st.Resent)
		}
		assert.Equal(t, outbox.PhaseSent, st.Phase, st.MessageID)
		rc, ok := st.Recipient(baltest.CPSUser)
		require.True(t, ok, st.MessageID)
		assert.Contains(t, []outbox.State{outbox.Relayed, outbox.Delivered}, rc.State, st.MessageID)
		// The tracker counted each DSN the loop filed, once.
		if !assert.Equal(t, len(dsns[st.MessageID]), rc.Reports, "%s: reports taken into account vs DSNs filed", st.MessageID) {
			for _, f := range dsnFiles[st.MessageID] {
				b, _ := os.ReadFile(f)
				t.Logf("DSN file %s:\n%s", f, b[:min(len(b), 6000)])
			}
			t.Logf("status: %+v", st)
		}
		assert.GreaterOrEqual(t, rc.Copies, 1, st.MessageID)
		if rc.Copies > len(cs) {
			// More success DSNs than copies: Postfix reports twice when
			// it is killed between queueing its report and updating the
			// message's queue file. Each of those DSNs must return the
			// header of a copy in the maildir (its queue id): a DSN about
			// a submission the maildir does not hold would be a copy lost.
			for _, f := range dsnFiles[st.MessageID] {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				qm := postfixQueueID.FindSubmatch(b)
				require.NotNil(t, qm, "%s: no queue id in the returned header", f)
				_, ok := qids[string(qm[1])]
				assert.True(t, ok, "%s: a DSN about queue id %s, not a copy in the maildir (%v)", f, qm[1], qids)
			}
			dsnTwice += rc.Copies - len(cs)
		}
		if sentTraced[st.MessageID] == 0 {
			// No 250 was seen: only a message whose acceptance was
			// unknown, then proved by its DSN, may be in the maildir
			// without a successful send traced.
			provedByDSN++
			assert.Positive(t, st.Unknown, "%s: delivered, no successful send traced, acceptance never unknown", st.MessageID)
		}
	}
	for id := range copies {
		_, ok := byID[id]
		assert.True(t, ok, "a message in the maildir that the outbox does not know: %s", id)
	}
	assert.Empty(t, dump.Unmatched, "reports that matched no message")
	assert.Zero(t, falseSent, "successful sends traced for messages not in the maildir")
	assert.Zero(t, lost)
	assert.Zero(t, clientDup)

	nd := 0
	for _, v := range dsns {
		nd += len(v)
	}
	keys := make([]string, 0, len(sentTraced))
	for k := range sentTraced {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tracedTwice := 0
	for _, k := range keys {
		if sentTraced[k] > 1 {
			tracedTwice++
		}
	}
	t.Logf("soak: %d messages; maildir: %d lost, %d duplicated by the client, %d copies redelivered by Postfix itself; "+
		"%d attempts counted, %d with acceptance unknown, %d messages resent after one; %d DSNs reconciled (%d left in INBOX), %d unmatched; "+
		"%d send traces, %d successful, %d messages traced sent twice, %d false \"sent\" traces, %d accepted without a 250 seen (proved by their DSN); "+
		"%d success DSNs sent twice by Postfix for one copy",
		n, lost, clientDup, postfixDup, attempts, unknown, resent, nd, inboxLeft, len(dump.Unmatched),
		sendsTraced, len(keys), tracedTwice, falseSent, provedByDSN, dsnTwice)
	if t.Failed() {
		t.Logf("child log tail:\n%s", tail(filepath.Join(filepath.Dir(cfg.Dump), "child.log"), 8000))
	}
	return total
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
