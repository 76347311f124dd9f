// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ecdaf744/gomss/internal/fieldtext"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// Endpoint is a server address. Submission is 587 with STARTTLS (465
// with ImplicitTLS); IMAP 143 with STARTTLS (993 with ImplicitTLS).
type Endpoint struct {
	Host        string
	Port        int
	ImplicitTLS bool
}

func (e Endpoint) addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// clientTLS is the TLS configuration of a connection to ep: the trust's
// checks for serverName (the endpoint's host when empty) and the
// authenticator's client certificate; the CRLs its handshake fetches are
// fetched within ctx.
func clientTLS(ctx context.Context, who string, trust *Trust, auth Authenticator, ep Endpoint, serverName string) (*tls.Config, error) {
	if auth == nil || trust == nil {
		return nil, fmt.Errorf("%w: %s needs Trust and Auth", ErrConfig, who)
	}
	if serverName == "" {
		serverName = ep.Host
	}
	cfg, err := trust.TLSConfigContext(ctx, serverName)
	if err != nil {
		return nil, err
	}
	if err := auth.ConfigureTLS(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Sender submits MSSanté messages over SMTP (RFC 6409 submission), every
// action traced.
type Sender struct {
	Server Endpoint
	// ServerName is checked against the operator's certificate (Host when
	// empty).
	ServerName string
	Trust      *Trust
	Auth       Authenticator
	// Mailbox is the BAL sending (its address is the envelope sender).
	Mailbox trace.Mailbox
	// Trace receives every action; with the default FailClosed policy a
	// send whose trace cannot be written does not happen.
	Trace       trace.Recorder
	TracePolicy trace.Policy
	// Software is recorded in trace events (product name and version).
	Software string
	// Timeout bounds the login (connect to authenticated) and each
	// command after it, 4 times Timeout for the reply to the end of DATA
	// (60 s when zero); past it the send fails with ErrTimeout. ctx
	// bounds the whole (ErrInterrupted).
	Timeout time.Duration
	// SpoolDir holds the message while it is checked and sent (os.TempDir
	// when empty).
	SpoolDir string
	// Oppositions, when set, is asked before every Send and Batch.Send
	// whether the message's patient opposed the sending (MSS/va1.20,
	// MSS/va1.22; see CheckOpposition): a message against an opposition is
	// not sent.
	Oppositions Oppositions
}

// SMTPError is a refusal by the server, with its reply code: the server
// answered, and did not take the message. It wraps ErrRefused (and
// ErrClientCertificate for a refusal of the client's certificate).
// Failures without a reply (no connection, a connection lost, a timeout)
// are *SendError.
type SMTPError struct {
	// Command is the command refused: STARTTLS (or the greeting or EHLO
	// before it), EHLO (the first command after the TLS handshake; with
	// implicit TLS also the greeting), AUTH, RSET, MAIL, RCPT, DATA (the
	// command or the reply to the final "."), QUIT.
	Command string
	Code    int
	// Enhanced is the enhanced status code (RFC 3463) as "4.7.1", empty
	// when the server sent none or one that is not of RFC 3463 (then left
	// in Message).
	Enhanced string
	Message  string
	// certificate marks a refusal of the client's certificate
	// (certificateRefusal): permanent whatever the code.
	certificate bool
}

func (e *SMTPError) Error() string {
	reply := strconv.Itoa(e.Code)
	for _, p := range []string{e.Enhanced, e.Message} {
		if p != "" {
			reply += " " + p
		}
	}
	return fmt.Sprintf("bal: SMTP %s refused: %s", e.Command, reply)
}

// Unwrap returns ErrRefused, and ErrClientCertificate when the refusal is
// about the client's certificate.
func (e *SMTPError) Unwrap() []error {
	if e.certificate {
		return []error{ErrRefused, ErrClientCertificate}
	}
	return []error{ErrRefused}
}

// Temporary reports a transient refusal, a 4xx reply (RFC 5321 §4.2.1:
// the same send may succeed later), except a refusal of the client's
// certificate (ErrClientCertificate): Postfix refuses a missing or
// untrusted certificate with "421 4.7.1" because it closes the
// connection, but the same certificate is refused again.
func (e *SMTPError) Temporary() bool {
	return e.Code >= 400 && e.Code < 500 && !e.certificate
}

// SendResult is the outcome of a send.
type SendResult struct {
	MessageID string
	Size      int64
	// Accepted recipients; Refused ones with the server's reply.
	Accepted []string
	Refused  map[string]*SMTPError
	// DSN tells whether delivery status notifications were requested
	// (the server offered DSN and the message asked for them).
	DSN bool
	// Reply is the server's answer to the end of DATA.
	Reply string
}

// Send writes m to a spool file (so that the operator's size limits are
// checked and the message is read only once from its sources), then
// submits it: STARTTLS (or implicit TLS), the TLS handshake and EHLO
// (their failures are the login's, traced as such), authentication, MAIL
// FROM with SIZE and the DSN parameters when the server offers DSN, RCPT
// TO for every recipient (a refused recipient does not stop the others),
// DATA.
//
// Every error wraps a sentinel (see ErrRefused and the ones beside it): a
// *SMTPError when the server refused (the message was not accepted), or a
// *SendError for the rest, whose DataSent says whether the message may
// have been accepted all the same and whose Temporary says whether a later
// try may succeed. A message too big fails before connecting with a
// SendError of Kind ErrMessage wrapping *mssante.SizeError; a trace that
// cannot be written, with one wrapping trace.ErrNotRecorded (fail
// closed).
func (s *Sender) Send(ctx context.Context, m *mssante.Message) (*SendResult, error) {
	if err := s.CheckOpposition(ctx, m, nil); err != nil {
		return nil, err
	}
	return s.sendSpooled(ctx, trace.Send, m.WriteTo, m.Envelope, func() string { return m.MessageID })
}

// SendAck sends an acknowledgement (MDN or error e-mail) built by package
// mssante; an MDN goes with a null envelope sender (MAIL FROM:<>).
func (s *Sender) SendAck(ctx context.Context, a *mssante.Ack) (*SendResult, error) {
	action := trace.Send
	if a.Disposition != "" {
		action = trace.MDNSent
	}
	return s.sendSpooled(ctx, action, a.WriteTo, a.Envelope, func() string { return a.MessageID })
}

func (s *Sender) sendSpooled(ctx context.Context, action trace.Action, writeTo func(io.Writer) (int64, error), envelope func() mssante.Envelope, id func() string) (*SendResult, error) {
	spool, size, err := s.spool(writeTo)
	if err != nil {
		return nil, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	env := envelope()
	sess, err := s.dial(ctx)
	if err != nil {
		s.notSent(ctx, action, env, id(), err)
		return nil, err
	}
	defer sess.close()
	return sess.send(ctx, action, env, id(), spool, size)
}

// spool writes a message to a temporary file and rewinds it. A failure of
// the file is ErrSpool, any other of writeTo (an invalid message, one too
// big) ErrMessage.
func (s *Sender) spool(writeTo func(io.Writer) (int64, error)) (*os.File, int64, error) {
	f, err := os.CreateTemp(s.SpoolDir, "gomss-*.eml")
	if err != nil {
		return nil, 0, &SendError{Op: "spool", Kind: ErrSpool, Err: err}
	}
	fw := &errWriter{w: f}
	size, err := writeTo(fw)
	kind := ErrMessage
	if fw.err != nil {
		kind = ErrSpool
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
		kind = ErrSpool
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, &SendError{Op: "spool", Kind: kind, Err: err}
	}
	return f, size, nil
}

// errWriter keeps the first error of w, to tell a failing spool file from
// a message that cannot be written.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// errReader keeps the first error of r other than io.EOF, to tell a
// message body that cannot be read from a connection that fails.
type errReader struct {
	r   io.Reader
	err error
}

func (r *errReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// writeWatch is the connection under TLS; it counts failed writes, to
// tell a final "." that could not be written (the server did not get the
// whole message) from a reply that did not come.
type writeWatch struct {
	net.Conn
	failed atomic.Int64
}

func (c *writeWatch) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.failed.Add(1)
	}
	return n, err
}

// Batch is an open submission session that sends several messages on one
// connection (one TLS handshake and one authentication for all).
type Batch struct {
	s    *Sender
	sess *smtpSession
}

// Batch connects and authenticates once for several sends.
func (s *Sender) Batch(ctx context.Context) (*Batch, error) {
	sess, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &Batch{s: s, sess: sess}, nil
}

// Send sends m on the batch's connection, with the errors of
// Sender.Send. After a refusal of the message by the server (*SMTPError)
// the batch goes on (the next send starts with RSET); after any other
// failure of the connection its sends fail with ErrBatchClosed: close
// the batch and open another.
func (b *Batch) Send(ctx context.Context, m *mssante.Message) (*SendResult, error) {
	if err := b.s.CheckOpposition(ctx, m, nil); err != nil {
		return nil, err
	}
	spool, size, err := b.s.spool(m.WriteTo)
	if err != nil {
		return nil, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	return b.sess.send(ctx, trace.Send, m.Envelope(), m.MessageID, spool, size)
}

// SendRaw sends a message already in RFC 5322 form (built by
// mssante.Message.WriteTo, or by other software) with its envelope, as
// Send does.
func (b *Batch) SendRaw(ctx context.Context, env mssante.Envelope, msgID string, raw []byte) (*SendResult, error) {
	return b.sess.send(ctx, trace.Send, env, msgID, bytes.NewReader(raw), int64(len(raw)))
}

// Close ends the session (QUIT); later sends fail with ErrBatchClosed.
func (b *Batch) Close() error {
	b.sess.close()
	return nil
}

type smtpSession struct {
	s     *Sender
	c     *smtp.Client
	raw   *writeWatch // the TCP connection, closed to abandon a transaction
	guard *trace.Guard
	corr  string
	// err ends the session: a failure that left the connection in an
	// unknown state (network, a message body that could not be read, ctx),
	// or Close.
	err error
	// dirty: the server refused a command of the last transaction, which
	// may still be open on its side; the next send starts with RSET.
	dirty bool
}

func (s *Sender) guard() *trace.Guard {
	return &trace.Guard{Recorder: s.Trace, Policy: s.TracePolicy}
}

func (s *Sender) event(action trace.Action, corr string, req trace.Request, resp trace.Response, msgID string) trace.Event {
	req.Server = s.Server.addr()
	return safeEvent(trace.Event{
		Time: time.Now(), Actor: s.Auth.Actor(), Mailbox: s.Mailbox, Action: action,
		Request: req, Response: resp, MessageID: msgID, Correlation: corr, Software: s.Software,
	})
}

// helloName is the name given in EHLO, go-smtp's default.
const helloName = "localhost"

// dial connects, secures and authenticates; the login is traced. The TLS
// handshake and EHLO are forced before the authentication (go-smtp does
// both lazily, at the first command that needs them, and Extension drops
// their errors): a certificate refused either way fails the login, traced
// with its cause, rather than the first MAIL.
func (s *Sender) dial(ctx context.Context) (*smtpSession, error) {
	addr := s.Server.addr()
	cfg, err := clientTLS(ctx, "Sender", s.Trust, s.Auth, s.Server, s.ServerName)
	if err != nil {
		return nil, &SendError{Op: "connect", Server: addr, Kind: ErrConfig, Err: err}
	}
	g := s.guard()
	corr := trace.NewID()
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	mode := "STARTTLS"
	if s.Server.ImplicitTLS {
		mode = "TLS"
	}
	// The login is traced before it is attempted (fail closed) and with
	// its outcome.
	req := trace.Request{Command: "CONNECT", Params: []string{mode}}
	if err := begin(ctx, g, s.event(trace.Login, corr, req, trace.Response{Text: trace.PendingText}, ""), "SMTP connection to "+addr); err != nil {
		return nil, &SendError{Op: "trace", Server: addr, Kind: notBegun(ctx), Err: err}
	}
	var c *smtp.Client
	var conn *writeWatch
	// fail closes the connection and traces the failure, even once ctx
	// has ended.
	fail := func(op string, kind, err error) (*smtpSession, error) {
		if c != nil {
			c.Close()
		} else if conn != nil {
			conn.Close()
		}
		e := &SendError{Op: op, Server: addr, Kind: kind, Err: err}
		g.Record(context.WithoutCancel(ctx), s.event(trace.Login, corr, req, failure(e), ""))
		return nil, e
	}
	tcp, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return fail("connect", ErrInterrupted, withCtx(ctx, err))
		}
		return fail("connect", ErrConnect, err)
	}
	conn = &writeWatch{Conn: tcp}
	// go-smtp sets the connection's deadline at each command from its
	// CommandTimeout, 5 minutes until NewClientStartTLS has returned, and
	// does not watch ctx: from the TCP connect to the end of the
	// authentication the connection is closed when timeout passes or ctx
	// ends.
	w := watchConn(ctx, conn, timeout)
	defer w.done()
	// step fails the login at op with err, a reply of the server (a
	// refusal of the client certificate when it is the first after the
	// handshake and says so) or a failure of the connection.
	step := func(op string, err error, afterTLS, handshaking bool) (*smtpSession, error) {
		err = w.explain(err)
		var ge *smtp.SMTPError
		if errors.As(err, &ge) {
			r := smtpErr(op, ge).(*SMTPError)
			if afterTLS && certificateRefusal(r) {
				r.certificate = true
				return fail(op, ErrClientCertificate, r)
			}
			return fail(op, ErrRefused, r)
		}
		return fail(op, transportKind(ctx, err, handshaking), err)
	}
	if s.Server.ImplicitTLS {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return step("TLS", err, false, true)
		}
		c = smtp.NewClient(tc)
	} else if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
		// A reply (greeting, EHLO or STARTTLS refused), the connection
		// lost, or ErrTLS: "smtp: server doesn't support STARTTLS".
		return step("STARTTLS", err, false, true)
	}
	c.CommandTimeout = timeout
	c.SubmissionTimeout = 4 * timeout
	// With STARTTLS the handshake happens here, at the first write, and the
	// server's verdict on the client certificate comes as the reply to
	// EHLO (Postfix: 421 4.7.1); with implicit TLS it is the greeting.
	if err := c.Hello(helloName); err != nil {
		if st, ok := c.TLSConnectionState(); ok && !st.HandshakeComplete {
			return step("TLS", err, false, true)
		}
		req = trace.Request{Command: "EHLO"}
		return step("EHLO", err, true, false)
	}
	sess := &smtpSession{s: s, c: c, raw: conn, guard: g, corr: corr}
	req = trace.Request{Command: "AUTH"}
	_, mechs := c.Extension("AUTH")
	sc, err := s.Auth.SASL(ctx, strings.Fields(mechs))
	if err != nil {
		return fail("AUTH", ErrAuth, err)
	}
	req = trace.Request{Command: "STARTTLS"}
	if sc != nil {
		mech, _, _ := sc.Start()
		req = trace.Request{Command: "AUTH", Params: []string{mech}}
		if err := c.Auth(sc); err != nil {
			if r := refused(sc, smtpErr("AUTH", err)); r != nil {
				return fail("AUTH", ErrAuth, r)
			}
			var ge *smtp.SMTPError
			if errors.As(err, &ge) {
				return fail("AUTH", ErrAuth, smtpErr("AUTH", ge))
			}
			return step("AUTH", err, false, false)
		}
	}
	if !w.done() {
		return fail("AUTH", ErrTimeout, w.expiredErr())
	}
	if err := g.Record(ctx, s.event(trace.Login, corr, req, trace.Response{OK: true, Text: "authenticated"}, "")); err != nil {
		c.Close()
		return nil, &SendError{Op: "trace", Server: addr, Kind: trace.ErrNotRecorded, Err: err}
	}
	return sess, nil
}

func failure(err error) trace.Response {
	r := trace.Response{OK: false, Text: oneLine(err.Error())}
	var se *SMTPError
	if errors.As(err, &se) && se.Code > 0 {
		r.Code = strconv.Itoa(se.Code)
	}
	return r
}

// oneLine makes text from a server or a received message fit a trace
// field, on one line of at most 400 bytes (the rules of trace.Event.Normalize). Without it, a
// reply or a Message-ID with control characters or invalid UTF-8 would
// make its trace refused, and the action with it (fail closed).
func oneLine(s string) string { return fieldtext.Clean(s, 400) }

// safeEvent passes the fields that come from a server or a received
// message through oneLine.
func safeEvent(e trace.Event) trace.Event {
	e.MessageID = oneLine(e.MessageID)
	e.Response.Text = oneLine(e.Response.Text)
	if len(e.Request.Params) > 0 {
		ps := make([]string, len(e.Request.Params))
		for i, p := range e.Request.Params {
			ps[i] = oneLine(p)
		}
		e.Request.Params = ps
	}
	return e
}

// smtpErr converts a go-smtp error. go-smtp reads any three dot-separated
// integers at the start of the text as an enhanced status code ("9.1.1",
// "5.-1.0", "4.1234.5"); only one of RFC 3463 (§2: class 2, 4 or 5,
// subject and detail of 1 to 3 digits) becomes Enhanced, any other is
// put back at the start of the Message, where the server wrote it.
func smtpErr(cmd string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		r := &SMTPError{Command: cmd, Code: se.Code, Message: se.Message}
		if ec := se.EnhancedCode; ec != (smtp.EnhancedCode{}) {
			code := fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
			if (ec[0] == 2 || ec[0] == 4 || ec[0] == 5) && ec[1] >= 0 && ec[1] <= 999 && ec[2] >= 0 && ec[2] <= 999 {
				r.Enhanced = code
			} else {
				r.Message = strings.TrimSuffix(code+" "+r.Message, " ")
			}
		}
		return r
	}
	return err
}

// ErrNoRecipient: a message without a recipient is not sent (a
// *SendError of this Kind, not temporary).
var ErrNoRecipient = errors.New("bal: no recipient")

func (ss *smtpSession) send(ctx context.Context, action trace.Action, env mssante.Envelope, msgID string, body io.Reader, size int64) (*SendResult, error) {
	s, c := ss.s, ss.c
	addr := s.Server.addr()
	if len(env.Recipients) == 0 {
		return nil, &SendError{Op: "MAIL", Server: addr, Kind: ErrNoRecipient}
	}
	if ss.err != nil {
		// The earlier failure is told, not wrapped: this one is
		// ErrBatchClosed, not (say) ErrTimeout again.
		e := &SendError{Op: "MAIL", Server: addr, Kind: ErrBatchClosed}
		if ss.err != errClosed {
			e.Err = fmt.Errorf("after an earlier failure (%v)", ss.err)
		}
		return nil, e
	}
	res := &SendResult{MessageID: msgID, Size: size, Refused: map[string]*SMTPError{}}
	params := append([]string{"FROM:<" + env.From + ">"}, prefixAll("TO:", env.Recipients)...)
	req := trace.Request{Command: "MAIL", Params: params}
	// Traced before anything is handed to the server (fail closed).
	if err := begin(ctx, ss.guard, s.event(action, ss.corr, req, trace.Response{Text: trace.PendingText}, msgID), "SMTP MAIL"); err != nil {
		return nil, &SendError{Op: "trace", Server: addr, Kind: notBegun(ctx), Err: err}
	}
	// ctx bounds the transaction: go-smtp does not watch it, so the
	// connection is closed when ctx ends (the server then abandons it).
	defer context.AfterFunc(ctx, func() { ss.raw.Close() })()
	// Outcomes are traced even when ctx has ended (the action happened, or
	// was cut off, and the log must say which).
	tctx := context.WithoutCancel(ctx)
	// fail traces and returns the failure of op: a refusal by the server
	// (*SMTPError) leaves the session usable; anything else (network,
	// timeout, ctx, a body that could not be read) leaves the connection in
	// an unknown state: it is closed and no later message goes on it.
	fail := func(op string, err error, dataSent bool) (*SendResult, error) {
		var se *SMTPError
		switch {
		case errors.As(err, &se) && op != "RSET" && op != "EHLO":
			ss.dirty = true
		case (op == "MAIL" || op == "RCPT") && isEnvelopeError(err):
			// go-smtp refused to write the command (an address with a line
			// break, a non-ASCII ORCPT…): nothing of it was sent.
			ss.dirty = op == "RCPT"
			err = &SendError{Op: op, Server: addr, Kind: ErrMessage, Err: err}
		default:
			switch err.(type) {
			case *SendError:
			case *SMTPError: // RSET or EHLO refused: the session is lost
				err = &SendError{Op: op, Server: addr, Kind: ErrRefused, Err: err}
			default:
				err = &SendError{Op: op, Server: addr, Kind: transportKind(ctx, err, false), Err: withCtx(ctx, err), DataSent: dataSent}
			}
			ss.err = err
			ss.raw.Close()
		}
		ss.guard.Record(tctx, s.event(action, ss.corr, req, failure(err), msgID))
		return res, err
	}
	if ss.dirty {
		// go-smtp's Reset forgets the EHLO; it is said again at once, so
		// that its failure is told as such (not as MAIL's).
		if err := c.Reset(); err != nil {
			return fail("RSET", smtpErr("RSET", err), false)
		}
		if err := c.Hello(helloName); err != nil {
			return fail("EHLO", smtpErr("EHLO", err), false)
		}
		ss.dirty = false
	}
	dsnOK, _ := c.Extension("DSN") // EHLO done: no hidden exchange
	mo := &smtp.MailOptions{Size: size}
	if dsnOK && len(env.DSN.Notify) > 0 {
		res.DSN = true
		mo.EnvelopeID = env.DSN.EnvelopeID
		switch strings.ToUpper(env.DSN.Return) {
		case "FULL":
			mo.Return = smtp.DSNReturnFull
		case "HDRS":
			mo.Return = smtp.DSNReturnHeaders
		}
	}
	if err := c.Mail(env.From, mo); err != nil {
		return fail("MAIL", smtpErr("MAIL", err), false)
	}
	for _, rcpt := range env.Recipients {
		var ro *smtp.RcptOptions
		if res.DSN {
			ro = &smtp.RcptOptions{OriginalRecipientType: smtp.DSNAddressTypeRFC822, OriginalRecipient: rcpt}
			for _, n := range env.DSN.Notify {
				ro.Notify = append(ro.Notify, smtp.DSNNotify(strings.ToUpper(n)))
			}
		}
		if err := c.Rcpt(rcpt, ro); err != nil {
			var se *SMTPError
			if errors.As(smtpErr("RCPT", err), &se) {
				res.Refused[rcpt] = se
				continue
			}
			return fail("RCPT", err, false)
		}
		res.Accepted = append(res.Accepted, rcpt)
	}
	if len(res.Accepted) == 0 {
		var first error
		for _, rcpt := range env.Recipients {
			if e := res.Refused[rcpt]; e != nil {
				first = e
				break
			}
		}
		return fail("RCPT", first, false)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", smtpErr("DATA", err), false)
	}
	br := &errReader{r: body}
	if _, err := io.Copy(w, br); err != nil {
		// Never w.Close(): it would end DATA with "." and the server would
		// accept a truncated message. fail closes the connection instead,
		// which makes the server abandon the transaction.
		if br.err != nil {
			err = &SendError{Op: "DATA", Server: addr, Kind: ErrSpool, Err: fmt.Errorf("reading the message: %w", br.err)}
		}
		return fail("DATA", err, false)
	}
	failedWrites := ss.raw.failed.Load()
	dr, err := w.CloseWithResponse()
	if err != nil {
		// The final "." was written when no write failed since: the
		// server has the whole message and its answer was not read.
		return fail("end of DATA", smtpErr("DATA", err), ss.raw.failed.Load() == failedWrites)
	}
	res.Reply = dr.StatusText
	resp := trace.Response{OK: true, Code: "250", Text: oneLine(dr.StatusText)}
	if len(res.Refused) > 0 {
		resp.Text = oneLine(fmt.Sprintf("%s; %d recipient(s) refused", dr.StatusText, len(res.Refused)))
	}
	if err := ss.guard.Record(tctx, s.event(action, ss.corr, req, resp, msgID)); err != nil {
		// Accepted, but not traced: DataSent, and res tells the Reply.
		return res, &SendError{Op: "trace", Server: addr, Kind: trace.ErrNotRecorded, Err: err, DataSent: true}
	}
	return res, nil
}

func prefixAll(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + "<" + x + ">"
	}
	return out
}

func (ss *smtpSession) close() {
	if ss.err == errClosed {
		return // closed already
	}
	resp := trace.Response{OK: true}
	if ss.err != nil {
		resp = trace.Response{Text: "connection closed after a failure"}
	} else if err := ss.c.Quit(); err != nil {
		resp = failure(smtpErr("QUIT", err))
	}
	ss.c.Close()
	ss.err = errClosed
	ss.guard.Record(context.Background(), ss.s.event(trace.Logout, ss.corr, trace.Request{Command: "QUIT"}, resp, ""))
}

// errClosed is the session's err after close.
var errClosed = errors.New("closed")

var _ sasl.Client = (*xoauth2Client)(nil)

// notBegun is the kind of a SendError for an action whose pending trace
// record was not written: ErrInterrupted when ctx had ended (begin traced
// the action as not attempted), trace.ErrNotRecorded otherwise.
func notBegun(ctx context.Context) error {
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	return trace.ErrNotRecorded
}
