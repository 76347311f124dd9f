// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

type memEvents struct {
	mu     sync.Mutex
	events []trace.Event
}

func (r *memEvents) Record(_ context.Context, e trace.Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

// errDisk is the read error of failingBody.
var errDisk = errors.New("disk read error")

// failingBody gives the first part of a message, then a read error (a
// spool file on a failing disk).
type failingBody struct{ r io.Reader }

func (b *failingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, errDisk
	}
	return n, err
}

// A message body that cannot be read to its end is never submitted: the
// connection is dropped (no final "." that would make the server accept a
// truncated message), the failure is traced, and the session refuses any
// later message. A message without a recipient is refused before anything
// is sent.
func TestDataReadErrorAbandonsMessage(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	host, port, err := net.SplitHostPort(op.SMTPAddr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	auth, err := NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(t, err)
	events := &memEvents{}
	s := &Sender{Server: Endpoint{Host: host, Port: p}, ServerName: "localhost",
		Trust: &Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true},
		Auth:  auth, Mailbox: trace.Mailbox{Address: baltest.ORGUser}, Trace: events}
	ctx := context.Background()
	ss, err := s.dial(ctx)
	require.NoError(t, err)
	defer ss.close()
	env := mssante.Envelope{From: baltest.ORGUser, Recipients: []string{baltest.CPSUser}}
	_, err = ss.send(ctx, trace.Send, mssante.Envelope{From: baltest.ORGUser}, "<none@x>", strings.NewReader("x"), 1)
	assert.ErrorIs(t, err, ErrNoRecipient, "no recipient")
	body := "From: <" + baltest.ORGUser + ">\r\nTo: <" + baltest.CPSUser + ">\r\nSubject: half\r\nMessage-ID: <half@x>\r\n\r\nfirst half of the body\r\n"
	_, err = ss.send(ctx, trace.Send, env, "<half@x>", &failingBody{strings.NewReader(body)}, int64(len(body)))
	// A temporary ErrSpool at DATA wrapping the read error, DataSent false.
	require.ErrorIs(t, err, errDisk, "send with a failing body")
	require.ErrorIs(t, err, ErrSpool, "send with a failing body")
	var se *SendError
	require.ErrorAs(t, err, &se, "send with a failing body")
	require.Equal(t, "DATA", se.Op, "send with a failing body")
	require.False(t, se.DataSent, "send with a failing body")
	require.True(t, se.Temporary(), "send with a failing body")
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, op.Messages(baltest.CPSUser, "INBOX"), "the server received message(s) from a body that failed")
	_, err = ss.send(ctx, trace.Send, env, "<next@x>", strings.NewReader(body), int64(len(body)))
	assert.ErrorIs(t, err, ErrBatchClosed, "a send on the broken session")
	assert.NotErrorIs(t, err, errDisk, "a send on the broken session: not the earlier error again")
	events.mu.Lock()
	defer events.mu.Unlock()
	var sends []string
	for _, e := range events.events {
		if e.Action == trace.Send {
			sends = append(sends, e.Response.Text)
			assert.False(t, e.Response.OK, "a send traced OK: %+v", e.Response)
		}
	}
	// Pending, then the failure in the trace line's words.
	if assert.Len(t, sends, 2, "traced sends %q", sends) {
		assert.Equal(t, "pending", sends[0], "traced sends")
		assert.Contains(t, sends[1], "disk read error", "traced sends")
	}
}

// Text from a server or a received message fits a trace field whatever it
// holds: control characters, invalid UTF-8, a long accented reply cut
// between two characters (found by a review: a cut in the middle of "é"
// made the outcome's trace refused).
func TestOneLineFitsTraces(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	for _, in := range []string{long, "a\x00b\x1bc\u0085d", "ok \xff\xfe end", "line1\r\nline2", "<id\x01@x>"} {
		out := oneLine(in)
		e := trace.Event{Actor: trace.Actor{ID: "1"}, Action: trace.Send, Request: trace.Request{Command: "X"},
			Response: trace.Response{Text: out}, MessageID: out}
		assert.NoError(t, e.Normalize(), "oneLine(%.20q) = %.40q", in, out)
		assert.LessOrEqual(t, len(out), 400, "oneLine(%.20q) = %.40q: bytes", in, out)
	}
	got := oneLine(long)
	assert.Equal(t, strings.Repeat("é", 200), got, "cut at %d bytes, not between two characters", len(got))
}
