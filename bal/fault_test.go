// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// pauseProxy forwards TCP between a client and addr; once the client has
// sent more than after bytes it signals reached and holds the rest until
// release is closed.
type pauseProxy struct {
	ln      net.Listener
	addr    string
	after   int64
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func newPauseProxy(t *testing.T, addr string, after int64) *pauseProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &pauseProxy{ln: ln, addr: addr, after: after, reached: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *pauseProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.addr)
	if err != nil {
		return
	}
	defer s.Close()
	go io.Copy(c, s)
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := c.Read(buf)
		if k > 0 {
			if n+int64(k) > p.after {
				p.once.Do(func() { close(p.reached) })
				<-p.release
			}
			if _, werr := s.Write(buf[:k]); werr != nil {
				return
			}
			n += int64(k)
		}
		if err != nil {
			return
		}
	}
}

// Postfix killed in the middle of a send: the send fails with an error,
// no successful "send" is traced, and a retry after the restart succeeds.
func TestPostfixKilledDuringSend(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	proxy := newPauseProxy(t, pf.SubmissionAddr, 1<<20)
	snd := e.sender(t, pf, e.pki.ORG, baltest.ORGUser)
	snd.Server = endpoint(t, proxy.ln.Addr().String(), false)
	big := report(baltest.CPSUser)
	big.ReadReceipt = false
	big.Documents[0].PDF = mssante.BytesOpener(testdocs.PDF("gros compte rendu", 3<<20))
	errc := make(chan error, 1)
	go func() {
		_, err := snd.Send(context.Background(), big)
		errc <- err
	}()
	// No clock: building the 3 MiB message and the handshake take what
	// they take on this machine, and a send that fails first says so.
	select {
	case <-proxy.reached: // 1 MiB of DATA has gone through
	case err := <-errc:
		t.Fatalf("the send ended before the middle of DATA: %v", err)
	}
	pf.Crash()
	close(proxy.release)
	err := <-errc
	require.Error(t, err, "a send cut in the middle of DATA reported success")
	t.Logf("send cut by the crash: %v", err)
	require.NoError(t, pf.Restart())
	snd.Server = endpoint(t, pf.SubmissionAddr, false)
	big.MessageID = ""
	_, err = snd.Send(context.Background(), big)
	require.NoError(t, err, "retry after restart")
	n, err := e.dc.WaitMessages(guard(t), baltest.CPSUser, 1)
	require.NoError(t, err, "messages after the retry")
	require.Equal(t, 1, n, "messages after the retry")
	e.log.Close()
	okSends, failedSends := 0, 0
	_, err = trace.Scan(e.path, trace.Filter{Actions: []trace.Action{trace.Send}}, func(_ int64, ev trace.Event) error {
		switch {
		case ev.Response.OK:
			okSends++
		case ev.Response.Text != "pending":
			failedSends++
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, okSends, "traced successful sends (the cut send is never 'sent')")
	assert.Equal(t, 1, failedSends, "traced failed sends (the cut send)")
}

// Dovecot restarted while the loop waits in IDLE: the loop reconnects and
// handles the messages delivered after the restart, none missed.
func TestDovecotRestartDuringIdle(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	cps, _ := bal.NewCertificate(e.pki.CPS.TLSCertificate())
	var mu sync.Mutex
	handled := map[string]bool{}
	loop := &bal.Loop{
		Receiver: e.receiver(t, cps, baltest.CPSUser),
		Sender:   e.sender(t, pf, e.pki.CPS, baltest.CPSUser),
		From:     mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Applicative, Entity: "PFI de test"},
		Product:  "DEV000000",
		Handler: func(_ context.Context, m *mssante.Received) error {
			mu.Lock()
			handled[m.MessageID] = true
			mu.Unlock()
			return nil
		},
		Backoff: 200 * time.Millisecond,
	}
	onPass, passed := passes()
	loop.OnPass = onPass
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	send := func() string {
		m := report(baltest.CPSUser)
		m.ReadReceipt = false
		_, err := e.sender(t, pf, e.pki.ORG, baltest.ORGUser).Send(context.Background(), m)
		require.NoError(t, err)
		return m.MessageID
	}
	first := send()
	// The pass that handled it is over: the loop is back waiting in IDLE.
	for p := nextPass(t, passed); p.Handled == 0; p = nextPass(t, passed) {
	}
	require.NoError(t, e.dc.Restart())
	second, third := send(), send()
	// From the deliveries on; a hang guard, not a speed limit.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		mu.Lock()
		all := handled[first] && handled[second] && handled[third]
		mu.Unlock()
		if all {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, id := range []string{first, second, third} {
		assert.True(t, handled[id], "message %s missed after the restart (handled: %v)", id, handled)
	}
	assert.Len(t, handled, 3, "messages handled")
}

// The session lost between the handler and the move, in the middle of a
// batch of three: nothing is skipped. The next pass starts again at the
// first message not filed. The interrupted one had been handled and
// recorded in Loop.Seen: the same Loop files it without handling it
// again (PassInfo.Duplicates). A Loop that lost its Seen (its process
// restarted without a SeenFile: a new Loop, the State kept) handles it a
// second time (at least once, documented on Loop). Either way the two
// after it are handled, at the end the INBOX is empty and the State is
// past the last one.
func TestLoopSessionLostMidBatch(t *testing.T) {
	for _, restarted := range []bool{false, true} {
		t.Run(fmt.Sprint("restarted=", restarted), func(t *testing.T) { sessionLostMidBatch(t, restarted) })
	}
}

func sessionLostMidBatch(t *testing.T, restarted bool) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	var ids []string
	for range 3 {
		m := report(baltest.CPSUser)
		m.ReadReceipt = false
		_, err := e.sender(t, pf, e.pki.ORG, baltest.ORGUser).Send(guard(t), m)
		require.NoError(t, err)
		ids = append(ids, m.MessageID)
	}
	_, err := e.dc.WaitMessages(guard(t), baltest.CPSUser, 3)
	require.NoError(t, err)
	cps, _ := bal.NewCertificate(e.pki.CPS.TLSCertificate())
	proxy := newNetProxy(t, e.dc.IMAPAddr)
	rcv := e.receiver(t, cps, baltest.CPSUser)
	rcv.Server = endpoint(t, proxy.ln.Addr().String(), false)
	handled := map[string]int{}
	var order []string
	newLoop := func() *bal.Loop {
		return &bal.Loop{
			Receiver: rcv,
			Sender:   e.sender(t, pf, e.pki.CPS, baltest.CPSUser),
			From:     mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Applicative, Entity: "PFI de test"},
			Product:  "DEV000000",
			Handler: func(_ context.Context, m *mssante.Received) error {
				handled[m.MessageID]++
				order = append(order, m.MessageID)
				if len(order) == 1 {
					// The connection drops while the first message is
					// being integrated: its move cannot happen.
					proxy.Cut()
				}
				return nil
			},
			OnError: func(err error) { t.Logf("loop: %v", err) },
		}
	}
	loop := newLoop()
	n, err := loop.ProcessOnce(guard(t))
	require.Error(t, err, "first pass: want the move to fail")
	require.Zero(t, n, "first pass: filed")
	require.NotEmpty(t, order, "first pass: nothing handled")
	first := order[0]
	if restarted {
		state := loop.State
		loop = newLoop()
		loop.State = state
	}
	n, err = loop.ProcessOnce(guard(t))
	require.NoError(t, err, "second pass")
	require.Equal(t, 3, n, "second pass: want the 3 messages filed")
	for _, id := range ids {
		want := 1
		if id == first && restarted {
			want = 2
		}
		assert.Equal(t, want, handled[id], "times message %s was handled (handled: %v)", id, handled)
	}
	left, err := e.dc.CountMessages(baltest.CPSUser)
	require.NoError(t, err)
	assert.Zero(t, left, "messages left in the INBOX")
	n, err = loop.ProcessOnce(guard(t))
	assert.NoError(t, err, "third pass")
	assert.Zero(t, n, "third pass: handled")
}

// ctxRecorder records as a FileLog does (refusing once ctx has ended) and
// keeps the responses traced for action.
func ctxRecorder(action trace.Action) (trace.Recorder, func() []trace.Response) {
	var mu sync.Mutex
	var got []trace.Response
	rec := trace.RecorderFunc(func(ctx context.Context, e trace.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.Action == action {
			mu.Lock()
			got = append(got, e.Response)
			mu.Unlock()
		}
		return nil
	})
	return rec, func() []trace.Response {
		mu.Lock()
		defer mu.Unlock()
		return append([]trace.Response(nil), got...)
	}
}

// A send stuck in the middle of DATA (the network stalls) ends when its
// context does, not minutes later: the error wraps the context's, nothing
// is delivered, and the trace says the send failed — recorded although
// the context had ended. The context is cancelled once the send has
// reached the stall (so building the 2 MB message and the TLS handshake,
// slow under -race on a busy machine, are outside any time budget); the
// only wall-clock bound left is a hang guard from the cancellation on,
// far below what go-smtp's own timeouts would take (Timeout is 10 min).
func TestSendHonoursContext(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	proxy := newPauseProxy(t, op.SMTPAddr, 256<<10)
	defer close(proxy.release)
	auth, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	rec, responses := ctxRecorder(trace.Send)
	snd := &bal.Sender{Server: endpoint(t, proxy.ln.Addr().String(), false), ServerName: "localhost",
		Trust: &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true},
		Auth:  auth, Mailbox: trace.Mailbox{Address: baltest.ORGUser}, Trace: rec, Timeout: 10 * time.Minute}
	big := report(baltest.CPSUser)
	big.Documents[0].PDF = mssante.BytesOpener(testdocs.PDF("gros compte rendu", 2<<20))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := snd.Send(ctx, big)
		done <- err
	}()
	select {
	case <-proxy.reached:
	case err := <-done:
		t.Fatalf("the send ended before it reached the stall: %v", err)
	}
	cancel()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the send stalled in DATA did not end when its context was cancelled")
	}
	require.ErrorIs(t, err, context.Canceled, "send stalled in DATA: want the context's cancellation")
	assert.Empty(t, op.Messages(baltest.CPSUser, "INBOX"), "message(s) delivered")
	// Pending, then a failure whose trace line names the cancellation.
	sends := responses()
	if assert.Len(t, sends, 2, "traced sends %+v", sends) {
		assert.Equal(t, "pending", sends[0].Text, "traced sends")
		assert.False(t, sends[1].OK, "traced sends: %+v", sends[1])
		assert.Contains(t, sends[1].Text, "canceled", "traced sends")
	}
}

// A send, a login and an IMAP command whose context has ended before they
// start are not attempted (no connection, no command) but are traced as
// failed — by a recorder that, like trace.FileLog, refuses to write once
// ctx has ended — and their errors wrap the context's, not
// trace.ErrNotRecorded. The send's failure names the message.
func TestContextEndedBeforeActionTraced(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	var mu sync.Mutex
	var events []trace.Event
	rec := trace.RecorderFunc(func(ctx context.Context, e trace.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		return nil
	})
	take := func() []trace.Event {
		mu.Lock()
		defer mu.Unlock()
		out := events
		events = nil
		return out
	}
	smtpProxy, imapProxy := newNetProxy(t, op.SMTPAddr), newNetProxy(t, op.IMAPAddr)
	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true}
	auth, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	box := trace.Mailbox{Address: baltest.ORGUser}
	snd := &bal.Sender{Server: endpoint(t, smtpProxy.ln.Addr().String(), false), ServerName: "localhost", Trust: trust, Auth: auth, Mailbox: box, Trace: rec}
	rcv := &bal.Receiver{Server: endpoint(t, imapProxy.ln.Addr().String(), false), ServerName: "localhost", Trust: trust, Auth: auth, Mailbox: box, Trace: rec}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	failed := func(t *testing.T, evs []trace.Event, action trace.Action, msgID string) {
		t.Helper()
		for _, ev := range evs {
			if ev.Action == action && ev.MessageID == msgID {
				// A failure whose trace line names the cancellation.
				assert.False(t, ev.Response.OK, "%s traced as %+v", action, ev.Response)
				assert.Contains(t, ev.Response.Text, "context canceled", "%s traced", action)
				return
			}
		}
		t.Errorf("no %s event for %q in %+v", action, msgID, evs)
	}

	t.Run("send", func(t *testing.T) {
		m := report(baltest.CPSUser)
		_, err := snd.Send(ended, m)
		require.ErrorIs(t, err, context.Canceled, "send with an ended context")
		require.NotErrorIs(t, err, trace.ErrNotRecorded, "send with an ended context: not a trace failure")
		evs := take()
		failed(t, evs, trace.Login, "")
		failed(t, evs, trace.Send, m.MessageID)
		assert.Zero(t, smtpProxy.accepted(), "connection(s) made")
	})
	t.Run("login", func(t *testing.T) {
		_, err := rcv.Open(ended)
		require.ErrorIs(t, err, context.Canceled, "open with an ended context")
		require.NotErrorIs(t, err, trace.ErrNotRecorded, "open with an ended context: not a trace failure")
		failed(t, take(), trace.Login, "")
		assert.Zero(t, imapProxy.accepted(), "connection(s) made")
	})
	t.Run("command", func(t *testing.T) {
		s, err := rcv.Open(context.Background())
		require.NoError(t, err)
		defer s.Close()
		take()
		_, _, err = s.FetchNew(ended, "INBOX", bal.State{})
		require.ErrorIs(t, err, context.Canceled, "FetchNew with an ended context")
		require.NotErrorIs(t, err, trace.ErrNotRecorded, "FetchNew with an ended context: not a trace failure")
		evs := take()
		failed(t, evs, trace.Fetch, "")
		assert.Len(t, evs, 1, "traced: want the one failed SELECT")
		// The session is still usable: nothing was sent.
		_, err = s.Folders(context.Background())
		assert.NoError(t, err, "the session after the command not attempted")
	})
}

// netProxy forwards TCP to addr, as the network between the client and
// the server: Cut closes every connection open through it (a drop), Stall
// lets nothing more through in either direction (a network that stops
// answering).
type netProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	conns   []net.Conn
	count   int // connections made
	stalled chan struct{}
	once    sync.Once
	// held is closed when, once stalled, the proxy holds back what the
	// client sent.
	held     chan struct{}
	heldOnce sync.Once
}

func newNetProxy(t *testing.T, addr string) *netProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &netProxy{ln: ln, stalled: make(chan struct{}), held: make(chan struct{})}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close(); p.Cut() })
	pipe := func(dst, src net.Conn, fromClient bool) {
		defer dst.Close()
		defer src.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			select {
			case <-p.stalled:
				if n > 0 && fromClient {
					p.heldOnce.Do(func() { close(p.held) })
				}
				<-done
				return
			default:
			}
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.count++
			p.mu.Unlock()
			go pipe(s, c, true)
			go pipe(c, s, false)
		}
	}()
	return p
}

// Cut closes every connection open through the proxy.
func (p *netProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// accepted is how many connections were made through the proxy.
func (p *netProxy) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Stall stops all traffic through the proxy for good.
func (p *netProxy) Stall() { p.once.Do(func() { close(p.stalled) }) }

// An IMAP operation on a server that stops answering ends with its
// context; the logout is bounded by Receiver.Timeout; a server that never
// greets fails Open within Receiver.Timeout. The failures are traced even
// though the context had ended.
func TestIMAPHonoursContext(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	proxy := newNetProxy(t, op.IMAPAddr)
	auth, _ := bal.NewCertificate(pki.CPS.TLSCertificate())
	rec, responses := ctxRecorder(trace.Fetch)
	rcv := &bal.Receiver{Server: endpoint(t, proxy.ln.Addr().String(), false), ServerName: "localhost",
		Trust: &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true},
		Auth:  auth, Mailbox: trace.Mailbox{Address: baltest.CPSUser}, Trace: rec, Timeout: 2 * time.Second}
	s, err := rcv.Open(context.Background())
	require.NoError(t, err)
	proxy.Stall()
	// The context ends once the proxy holds the SELECT back, FetchNew then
	// waiting for an answer that never comes (a deadline set before the
	// call could end before the command is even sent on a busy machine).
	// The clocks below are hang guards, far above what the mechanisms take.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-proxy.held; cancel() }()
	fetched := make(chan error, 1)
	go func() {
		_, _, err := s.FetchNew(ctx, "INBOX", bal.State{})
		fetched <- err
	}()
	select {
	case err = <-fetched:
	case <-time.After(time.Minute):
		t.Fatal("FetchNew on a stalled server did not end with its context")
	}
	assert.ErrorIs(t, err, context.Canceled, "FetchNew on a stalled server: want the context's cancellation")
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close on a stalled server is not bounded by Receiver.Timeout (2s)")
	}
	// Pending, then a failure whose trace line names the cancellation.
	if fetches := responses(); assert.Len(t, fetches, 2, "traced fetches %+v", fetches) {
		assert.False(t, fetches[1].OK, "traced fetches: %+v", fetches[1])
		assert.Contains(t, fetches[1].Text, "canceled", "traced fetches")
	}

	// A server that accepts the connection and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	mute := *rcv
	mute.Server = endpoint(t, ln.Addr().String(), false)
	mute.Timeout = time.Second
	// Were Timeout not applied, the guard's end would be the error.
	_, err = mute.Open(guard(t))
	assert.ErrorIs(t, err, bal.ErrTimeout, "Open on a mute server: no answer within Receiver.Timeout")
}
