// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// replyProxy forwards TCP between a client and addr, as the network
// between them, with the faults of a send in progress (netProxy's Stall
// stops both directions; these need one): once the client has sent more
// than After bytes on a connection, Hook runs before those bytes are
// passed on; Hold lets the client's bytes through but no more of the
// server's; Cut resets every connection (RST, SO_LINGER 0).
type replyProxy struct {
	ln    net.Listener
	after atomic.Int64
	hook  atomic.Pointer[func()]
	held  atomic.Bool
	mu    sync.Mutex
	conns []*net.TCPConn
}

func newReplyProxy(t *testing.T, addr string) *replyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &replyProxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.Cut() })
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
			p.conns = append(p.conns, c.(*net.TCPConn), s.(*net.TCPConn))
			p.mu.Unlock()
			go p.fromClient(c, s)
			go p.fromServer(s, c)
		}
	}()
	return p
}

// On sets the hook that runs once the client has sent more than after
// bytes on its connection.
func (p *replyProxy) On(after int64, hook func()) {
	p.hook.Store(&hook)
	p.after.Store(after)
}

func (p *replyProxy) fromClient(c, s net.Conn) {
	defer s.Close()
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := c.Read(buf)
		if k > 0 {
			if after := p.after.Load(); after > 0 && n+int64(k) > after {
				if h := p.hook.Swap(nil); h != nil {
					(*h)()
				}
			}
			n += int64(k)
			if _, werr := s.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *replyProxy) fromServer(s, c net.Conn) {
	defer c.Close()
	buf := make([]byte, 32<<10)
	for {
		k, err := s.Read(buf)
		if k > 0 && !p.held.Load() {
			if _, werr := c.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Hold stops passing the server's bytes to the client (they are dropped).
func (p *replyProxy) Hold() { p.held.Store(true) }

// Cut resets every connection open through the proxy.
func (p *replyProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.SetLinger(0)
		c.Close()
	}
	p.conns = nil
}

// rawMessage is an RFC 5322 message of about size bytes with its envelope.
func rawMessage(id string, size int) (mssante.Envelope, string, []byte) {
	msgID := "<" + id + "@test.mssante.fr>"
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: %s\r\nDate: %s\r\n\r\n",
		baltest.ORGUser, baltest.CPSUser, id, msgID, time.Now().Format(time.RFC1123Z))
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return mssante.Envelope{From: baltest.ORGUser, Recipients: []string{baltest.CPSUser}}, msgID, b.Bytes()
}

// delivered lists the Message-IDs of the messages in the mailbox.
func delivered(t *testing.T, dc *baltest.Dovecot, address string) []string {
	paths, err := dc.Messages(address)
	require.NoError(t, err)
	var ids []string
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		m, err := mail.ReadMessage(f)
		require.NoError(t, err)
		ids = append(ids, m.Header.Get("Message-ID"))
		f.Close()
	}
	return ids
}

// A connection reset in the middle of a batch on real Postfix, at the
// three places that matter to whoever keeps an outbox: before DATA
// (between two messages), during DATA, and after the final "." before the
// reply. Each error wraps ErrConnectionLost, is temporary, names the
// server and the step, and says whether the message may have been
// accepted: not before or during DATA (and it was not delivered); after
// the "." it may have been (and it was: Postfix had queued it). The batch
// then refuses further sends with ErrBatchClosed, temporary; each failure
// is traced.
func TestBatchConnectionReset(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := &eventLog{}
	open := func(t *testing.T) (*replyProxy, *bal.Batch) {
		proxy := newReplyProxy(t, pf.SubmissionAddr)
		snd := e.sender(t, pf, e.pki.ORG, baltest.ORGUser)
		snd.Server = endpoint(t, proxy.ln.Addr().String(), false)
		snd.Trace = log
		b, err := snd.Batch(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { b.Close() })
		return proxy, b
	}
	// check asserts what the error of a cut send says.
	check := func(t *testing.T, proxy *replyProxy, err error, op string, dataSent bool) {
		t.Helper()
		require.Error(t, err)
		t.Logf("%v", err)
		assert.ErrorIs(t, err, bal.ErrConnectionLost)
		var se *bal.SendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, op, se.Op)
		assert.Equal(t, dataSent, se.DataSent, "DataSent")
		assert.True(t, se.Temporary())
		assert.True(t, temporary(err))
		assert.Contains(t, err.Error(), proxy.ln.Addr().String())
		sends := log.take()
		var last trace.Event
		for _, ev := range sends {
			if ev.Action == trace.Send {
				last = ev
			}
		}
		assert.False(t, last.Response.OK)
		assert.False(t, last.Response.Pending(), "the failure is traced: %+v", sends)
		assert.Contains(t, last.Response.Text, "connection lost")
	}
	closed := func(t *testing.T, b *bal.Batch) {
		t.Helper()
		env, id, raw := rawMessage("apres-coupure", 1000)
		_, err := b.SendRaw(ctx, env, id, raw)
		assert.ErrorIs(t, err, bal.ErrBatchClosed)
		assert.True(t, temporary(err))
		var se *bal.SendError
		if assert.ErrorAs(t, err, &se) {
			assert.False(t, se.DataSent)
		}
	}
	var want []string // Message-IDs that must reach the mailbox

	t.Run("before DATA", func(t *testing.T) {
		proxy, b := open(t)
		env, id, raw := rawMessage("premier", 2000)
		_, err := b.SendRaw(ctx, env, id, raw)
		require.NoError(t, err)
		want = append(want, id)
		log.take()
		proxy.Cut()
		env, id, raw = rawMessage("second", 2000)
		_, err = b.SendRaw(ctx, env, id, raw)
		check(t, proxy, err, "MAIL", false)
		closed(t, b)
	})

	t.Run("during DATA", func(t *testing.T) {
		proxy, b := open(t)
		log.take()
		// 4 MB: the reset comes after 512 KB of it, long before its end.
		env, id, raw := rawMessage("coupe-pendant-data", 4<<20)
		proxy.On(512<<10, proxy.Cut)
		_, err := b.SendRaw(ctx, env, id, raw)
		check(t, proxy, err, "DATA", false)
		closed(t, b)
	})

	t.Run("after the final dot", func(t *testing.T) {
		proxy, b := open(t)
		log.take()
		env, id, raw := rawMessage("accepte-sans-reponse", 256<<10)
		// From the middle of the message on, the server's answers are
		// dropped: the "." goes through, the 250 does not come back.
		proxy.On(128<<10, proxy.Hold)
		errc := make(chan error, 1)
		go func() {
			_, err := b.SendRaw(ctx, env, id, raw)
			errc <- err
		}()
		// Postfix has the whole message when Dovecot has it; only then
		// is the connection reset.
		_, err := e.dc.WaitMessages(ctx, baltest.CPSUser, len(want)+1)
		require.NoError(t, err)
		want = append(want, id)
		proxy.Cut()
		check(t, proxy, <-errc, "end of DATA", true)
		closed(t, b)
	})

	got := delivered(t, e.dc, baltest.CPSUser)
	assert.ElementsMatch(t, want, got, "only the messages sent whole reach the mailbox")
}

// The other failures of a send without a reply from the server: nothing
// listening (ErrConnect, temporary, and no "refused: 0" as if the server
// had answered), a server that never greets (ErrTimeout, which is also
// os.ErrDeadlineExceeded), the context ended during the login
// (ErrInterrupted and the context's error), a message that cannot be
// written (ErrMessage, not temporary) and no recipient (ErrNoRecipient).
// Each wraps its sentinel and is a *SendError naming the server.
func TestSendErrorsWithoutReply(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	auth, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(t, err)
	sender := func(addr string) (*bal.Sender, *eventLog) {
		log := &eventLog{}
		return &bal.Sender{Server: endpoint(t, addr, false), ServerName: "localhost",
			Trust: &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true},
			Auth:  auth, Mailbox: trace.Mailbox{Address: baltest.ORGUser}, Trace: log, Timeout: time.Second}, log
	}
	failedLogin := func(t *testing.T, log *eventLog, cause string) {
		t.Helper()
		ev := log.take()
		// The pending login, its failure, and the send that never reached
		// MAIL, traced as not sent.
		require.Len(t, ev, 3)
		assert.Equal(t, trace.Login, ev[1].Action)
		assert.False(t, ev[1].Response.OK)
		assert.Contains(t, ev[1].Response.Text, cause)
		assertNotSent(t, ev[2])
	}

	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		snd, log := sender(addr)
		_, err = snd.Send(context.Background(), report(baltest.CPSUser))
		require.ErrorIs(t, err, bal.ErrConnect)
		assert.True(t, temporary(err))
		var se *bal.SendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "connect", se.Op)
		assert.NotErrorAs(t, err, new(*bal.SMTPError), "no reply from a server that is not there")
		assert.Equal(t, "bal: SMTP connect with "+addr+": cannot connect: dial tcp "+addr+": connect: connection refused", err.Error())
		failedLogin(t, log, "cannot connect")
	})

	t.Run("server never greets", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		}()
		snd, log := sender(ln.Addr().String())
		_, err = snd.Send(context.Background(), report(baltest.CPSUser))
		require.ErrorIs(t, err, bal.ErrTimeout)
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		assert.True(t, temporary(err))
		assert.Contains(t, err.Error(), "no answer within 1s")
		assert.Contains(t, err.Error(), ln.Addr().String())
		failedLogin(t, log, "no answer within 1s")
	})

	t.Run("context ends during the login", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c
			}
		}()
		snd, log := sender(ln.Addr().String())
		snd.Timeout = time.Minute
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := snd.Send(ctx, report(baltest.CPSUser))
			errc <- err
		}()
		c := <-accepted // the client waits for the greeting
		defer c.Close()
		cancel()
		err = <-errc
		require.ErrorIs(t, err, bal.ErrInterrupted)
		assert.ErrorIs(t, err, context.Canceled)
		assert.True(t, temporary(err))
		failedLogin(t, log, "context canceled")
	})

	t.Run("message cannot be written", func(t *testing.T) {
		snd, log := sender("127.0.0.1:1")
		m := report(baltest.CPSUser)
		m.From.Address = "" // a message without a sender cannot be written
		_, err := snd.Send(context.Background(), m)
		require.ErrorIs(t, err, bal.ErrMessage)
		assert.False(t, temporary(err))
		var se *bal.SendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "spool", se.Op)
		assert.Empty(t, log.take(), "nothing traced: nothing was attempted")
	})

	t.Run("no recipient", func(t *testing.T) {
		op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
		snd, _ := sender(op.SMTPAddr)
		b, err := snd.Batch(context.Background())
		require.NoError(t, err)
		defer b.Close()
		_, err = b.SendRaw(context.Background(), mssante.Envelope{From: baltest.ORGUser}, "<x@y>", []byte("x"))
		require.ErrorIs(t, err, bal.ErrNoRecipient)
		assert.False(t, temporary(err))
		// The batch is still usable, and refuses sends once closed.
		env, id, raw := rawMessage("apres-refus", 500)
		_, err = b.SendRaw(context.Background(), env, id, raw)
		require.NoError(t, err)
		b.Close()
		_, err = b.SendRaw(context.Background(), env, id, raw)
		require.ErrorIs(t, err, bal.ErrBatchClosed)
		assert.Equal(t, "bal: SMTP MAIL with "+op.SMTPAddr+": batch closed: open another", err.Error())
	})
}

// A refusal by the server is a *SMTPError wrapping ErrRefused, and the
// batch goes on after it: the next message is sent (after RSET) on the
// same connection.
func TestBatchGoesOnAfterRefusal(t *testing.T) {
	e := newEnv(t)
	pf := baltest.StartPostfix(t, baltest.PostfixConfig{PKI: e.pki, Dovecot: e.dc})
	ctx := context.Background()
	log := &eventLog{}
	snd := e.sender(t, pf, e.pki.ORG, baltest.ORGUser)
	snd.Trace = log
	b, err := snd.Batch(ctx)
	require.NoError(t, err)
	defer b.Close()
	env, id, raw := rawMessage("refuse", 1000)
	env.Recipients = []string{"dr.martin@ailleurs.mssante.fr"}
	_, err = b.SendRaw(ctx, env, id, raw)
	var se *bal.SMTPError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, bal.ErrRefused)
	assert.NotErrorIs(t, err, bal.ErrClientCertificate)
	assert.Equal(t, "RCPT", se.Command)
	assert.False(t, se.Temporary())
	assert.False(t, errors.As(err, new(*bal.SendError)), "a refusal is not a SendError")
	env, id, raw = rawMessage("accepte", 1000)
	res, err := b.SendRaw(ctx, env, id, raw)
	require.NoError(t, err)
	assert.Equal(t, []string{baltest.CPSUser}, res.Accepted)
	logins := 0
	for _, ev := range log.take() {
		if ev.Action == trace.Login && ev.Response.OK {
			logins++
		}
	}
	assert.Equal(t, 1, logins, "one connection for both")
	_, err = e.dc.WaitMessages(ctx, baltest.CPSUser, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{id}, delivered(t, e.dc, baltest.CPSUser))
}
