package bal_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
	select {
	case <-proxy.reached: // 1 MiB of DATA has gone through
	case <-time.After(30 * time.Second):
		t.Fatal("the send never reached the middle of DATA")
	}
	pf.Crash()
	close(proxy.release)
	err := <-errc
	if err == nil {
		t.Fatal("a send cut in the middle of DATA reported success")
	}
	t.Logf("send cut by the crash: %v", err)
	if err := pf.Restart(); err != nil {
		t.Fatal(err)
	}
	snd.Server = endpoint(t, pf.SubmissionAddr, false)
	big.MessageID = ""
	if _, err := snd.Send(context.Background(), big); err != nil {
		t.Fatalf("retry after restart: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := e.dc.WaitMessages(ctx, baltest.CPSUser, 1); err != nil || n != 1 {
		t.Fatalf("%d messages after the retry: %v", n, err)
	}
	e.log.Close()
	okSends, failedSends := 0, 0
	trace.Scan(e.path, trace.Filter{Actions: []trace.Action{trace.Send}}, func(_ int64, ev trace.Event) error {
		switch {
		case ev.Response.OK:
			okSends++
		case ev.Response.Text != "pending":
			failedSends++
		}
		return nil
	})
	if okSends != 1 || failedSends != 1 {
		t.Errorf("traced sends: %d successful, %d failed; want 1 and 1 (the cut send is never 'sent')", okSends, failedSends)
	}
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	send := func() string {
		m := report(baltest.CPSUser)
		m.ReadReceipt = false
		if _, err := e.sender(t, pf, e.pki.ORG, baltest.ORGUser).Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		return m.MessageID
	}
	first := send()
	time.Sleep(2 * time.Second) // handled, loop back in IDLE
	if err := e.dc.Restart(); err != nil {
		t.Fatal(err)
	}
	second, third := send(), send()
	deadline := time.Now().Add(30 * time.Second)
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
		if !handled[id] {
			t.Errorf("message %s missed after the restart (handled: %v)", id, handled)
		}
	}
	if len(handled) != 3 {
		t.Errorf("%d messages handled, want 3", len(handled))
	}
}
