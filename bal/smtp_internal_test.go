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
	if err != nil {
		t.Fatal(err)
	}
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})
	host, port, _ := net.SplitHostPort(op.SMTPAddr)
	p, _ := strconv.Atoi(port)
	auth, err := NewCertificate(pki.ORG.TLSCertificate())
	if err != nil {
		t.Fatal(err)
	}
	events := &memEvents{}
	s := &Sender{Server: Endpoint{Host: host, Port: p}, ServerName: "localhost",
		Trust: &Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}, SkipRevocation: true},
		Auth:  auth, Mailbox: trace.Mailbox{Address: baltest.ORGUser}, Trace: events}
	ctx := context.Background()
	ss, err := s.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.close()
	env := mssante.Envelope{From: baltest.ORGUser, Recipients: []string{baltest.CPSUser}}
	if _, err := ss.send(ctx, trace.Send, mssante.Envelope{From: baltest.ORGUser}, "<none@x>", strings.NewReader("x"), 1); !errors.Is(err, ErrNoRecipient) {
		t.Errorf("no recipient: %v", err)
	}
	body := "From: <" + baltest.ORGUser + ">\r\nTo: <" + baltest.CPSUser + ">\r\nSubject: half\r\nMessage-ID: <half@x>\r\n\r\nfirst half of the body\r\n"
	_, err = ss.send(ctx, trace.Send, env, "<half@x>", &failingBody{strings.NewReader(body)}, int64(len(body)))
	var se *SendError
	if !errors.Is(err, errDisk) || !errors.Is(err, ErrSpool) || !errors.As(err, &se) || se.Op != "DATA" || se.DataSent || !se.Temporary() {
		t.Fatalf("send with a failing body: %v, want a temporary ErrSpool at DATA wrapping the read error, DataSent false", err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := op.Messages(baltest.CPSUser, "INBOX"); len(got) != 0 {
		t.Fatalf("the server received %d message(s) from a body that failed:\n%s", len(got), got[0])
	}
	if _, err := ss.send(ctx, trace.Send, env, "<next@x>", strings.NewReader(body), int64(len(body))); !errors.Is(err, ErrBatchClosed) || errors.Is(err, errDisk) {
		t.Errorf("a send on the broken session: %v, want ErrBatchClosed (not the earlier error again)", err)
	}
	events.mu.Lock()
	defer events.mu.Unlock()
	var sends []string
	for _, e := range events.events {
		if e.Action == trace.Send {
			sends = append(sends, e.Response.Text)
			if e.Response.OK {
				t.Errorf("a send traced OK: %+v", e.Response)
			}
		}
	}
	if len(sends) != 2 || sends[0] != "pending" || !strings.Contains(sends[1], "disk read error") {
		t.Errorf("traced sends %q, want pending then the failure", sends)
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
		if err := e.Normalize(); err != nil || len(out) > 400 {
			t.Errorf("oneLine(%.20q) = %.40q (%d bytes): %v", in, out, len(out), err)
		}
	}
	if got := oneLine(long); got != strings.Repeat("é", 200) {
		t.Errorf("cut at %d bytes, not between two characters", len(got))
	}
}
