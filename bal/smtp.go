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
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

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
// authenticator's client certificate.
func clientTLS(who string, trust *Trust, auth Authenticator, ep Endpoint, serverName string) (*tls.Config, error) {
	if auth == nil || trust == nil {
		return nil, fmt.Errorf("bal: %s needs Trust and Auth", who)
	}
	if serverName == "" {
		serverName = ep.Host
	}
	cfg, err := trust.TLSConfig(serverName)
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
	// Timeout bounds each command (60 s when zero); ctx bounds the whole.
	Timeout time.Duration
	// SpoolDir holds the message while it is checked and sent (os.TempDir
	// when empty).
	SpoolDir string
}

// SMTPError is a refusal by the server, with its reply code. Temporary
// reports a 4xx reply: the same send may succeed later.
type SMTPError struct {
	Command  string // MAIL, RCPT, DATA, AUTH, STARTTLS, connect
	Code     int
	Enhanced string
	Message  string
}

func (e *SMTPError) Error() string {
	return fmt.Sprintf("bal: SMTP %s refused: %d %s %s", e.Command, e.Code, e.Enhanced, e.Message)
}

// Temporary reports a transient failure: a 4xx reply, or no connection
// to the server at all (Command "connect").
func (e *SMTPError) Temporary() bool {
	return (e.Code >= 400 && e.Code < 500) || (e.Code == 0 && e.Command == "connect")
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
// submits it: STARTTLS (or implicit TLS), authentication, MAIL FROM with
// SIZE and the DSN parameters when the server offers DSN, RCPT TO for
// every recipient (a refused recipient does not stop the others), DATA.
// It fails with *mssante.SizeError before connecting when the message is
// too big, *SMTPError for server refusals, trace.ErrNotRecorded when the
// trace cannot be written (fail closed).
func (s *Sender) Send(ctx context.Context, m *mssante.Message) (*SendResult, error) {
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

// spool writes a message to a temporary file and rewinds it.
func (s *Sender) spool(writeTo func(io.Writer) (int64, error)) (*os.File, int64, error) {
	f, err := os.CreateTemp(s.SpoolDir, "gomss-*.eml")
	if err != nil {
		return nil, 0, err
	}
	size, err := writeTo(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, size, nil
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

// Send sends m on the batch's connection. After an error other than a
// refusal of the message by the server (*SMTPError), close the batch and
// open another.
func (b *Batch) Send(ctx context.Context, m *mssante.Message) (*SendResult, error) {
	spool, size, err := b.s.spool(m.WriteTo)
	if err != nil {
		return nil, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	res, err := b.sess.send(ctx, trace.Send, m.Envelope(), m.MessageID, spool, size)
	var se *SMTPError
	if errors.As(err, &se) {
		b.sess.c.Reset()
	}
	return res, err
}

// SendRaw sends a message already in RFC 5322 form (built by
// mssante.Message.WriteTo, or by other software) with its envelope.
func (b *Batch) SendRaw(ctx context.Context, env mssante.Envelope, msgID string, raw []byte) (*SendResult, error) {
	res, err := b.sess.send(ctx, trace.Send, env, msgID, bytes.NewReader(raw), int64(len(raw)))
	var se *SMTPError
	if errors.As(err, &se) {
		b.sess.c.Reset()
	}
	return res, err
}

// Close ends the session (QUIT).
func (b *Batch) Close() error {
	b.sess.close()
	return nil
}

type smtpSession struct {
	s     *Sender
	c     *smtp.Client
	raw   net.Conn // the TCP connection, closed to abandon a transaction
	guard *trace.Guard
	corr  string
	// err ends the session: a failure that left the connection in an
	// unknown state (network, a message body that could not be read, ctx).
	err error
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

// dial connects, secures and authenticates; the login is traced.
func (s *Sender) dial(ctx context.Context) (*smtpSession, error) {
	cfg, err := clientTLS("Sender", s.Trust, s.Auth, s.Server, s.ServerName)
	if err != nil {
		return nil, err
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
	if err := begin(ctx, g, s.event(trace.Login, corr, req, trace.Response{Text: trace.PendingText}, ""), "SMTP connection to "+s.Server.addr()); err != nil {
		return nil, err
	}
	var c *smtp.Client
	// fail closes the connection and traces the failure, even once ctx
	// has ended.
	fail := func(err error) (*smtpSession, error) {
		if c != nil {
			c.Close()
		}
		g.Record(context.WithoutCancel(ctx), s.event(trace.Login, corr, req, failure(err), ""))
		return nil, err
	}
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", s.Server.addr())
	if err != nil {
		return fail(&SMTPError{Command: "connect", Message: err.Error()})
	}
	// go-smtp sets the connection's deadline at each command from its
	// CommandTimeout, 5 minutes until NewClientStartTLS has returned, and
	// does not watch ctx: from the TCP connect to the end of the
	// authentication the connection is closed when timeout passes or ctx
	// ends.
	w := watchConn(ctx, conn, timeout)
	defer w.done()
	if s.Server.ImplicitTLS {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fail(fmt.Errorf("bal: TLS with %s: %w", s.Server.addr(), w.explain(err)))
		}
		c = smtp.NewClient(tc)
	} else if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
		conn.Close()
		return fail(fmt.Errorf("bal: STARTTLS with %s: %w", s.Server.addr(), w.explain(err)))
	}
	c.CommandTimeout = timeout
	c.SubmissionTimeout = 4 * timeout
	sess := &smtpSession{s: s, c: c, raw: conn, guard: g, corr: corr}
	req = trace.Request{Command: "AUTH"}
	_, mechs := c.Extension("AUTH")
	sc, err := s.Auth.SASL(ctx, strings.Fields(mechs))
	if err != nil {
		return fail(err)
	}
	req = trace.Request{Command: "STARTTLS"}
	if sc != nil {
		mech, _, _ := sc.Start()
		req = trace.Request{Command: "AUTH", Params: []string{mech}}
		if err := c.Auth(sc); err != nil {
			if r := refused(sc, smtpErr("AUTH", w.explain(err))); r != nil {
				err = r
			} else {
				err = fmt.Errorf("%w: %w", ErrAuth, smtpErr("AUTH", w.explain(err)))
			}
			return fail(err)
		}
	}
	if !w.done() {
		return fail(fmt.Errorf("bal: SMTP with %s: no answer within %v", s.Server.addr(), timeout))
	}
	if err := g.Record(ctx, s.event(trace.Login, corr, req, trace.Response{OK: true, Text: "authenticated"}, "")); err != nil {
		c.Close()
		return nil, err
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
// field, on one line of at most 400 bytes (trace.FieldText). Without it, a
// reply or a Message-ID with control characters or invalid UTF-8 would
// make its trace refused, and the action with it (fail closed).
func oneLine(s string) string { return trace.FieldText(s, 400) }

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

// smtpErr converts a go-smtp error.
func smtpErr(cmd string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &SMTPError{Command: cmd, Code: se.Code, Enhanced: fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2]), Message: se.Message}
	}
	return err
}

// ErrNoRecipient: a message without a recipient is not sent.
var ErrNoRecipient = errors.New("bal: no recipient")

func (ss *smtpSession) send(ctx context.Context, action trace.Action, env mssante.Envelope, msgID string, body io.Reader, size int64) (*SendResult, error) {
	s, c := ss.s, ss.c
	if len(env.Recipients) == 0 {
		return nil, ErrNoRecipient
	}
	if ss.err != nil {
		return nil, fmt.Errorf("bal: SMTP session unusable after an earlier failure, open another: %w", ss.err)
	}
	res := &SendResult{MessageID: msgID, Size: size, Refused: map[string]*SMTPError{}}
	dsnOK, _ := c.Extension("DSN")
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
	params := append([]string{"FROM:<" + env.From + ">"}, prefixAll("TO:", env.Recipients)...)
	req := trace.Request{Command: "MAIL", Params: params}
	// Traced before anything is handed to the server (fail closed).
	if err := begin(ctx, ss.guard, s.event(action, ss.corr, req, trace.Response{Text: trace.PendingText}, msgID), "SMTP MAIL"); err != nil {
		return nil, err
	}
	// ctx bounds the transaction: go-smtp does not watch it, so the
	// connection is closed when ctx ends (the server then abandons it).
	defer context.AfterFunc(ctx, func() { ss.raw.Close() })()
	// Outcomes are traced even when ctx has ended (the action happened, or
	// was cut off, and the log must say which).
	tctx := context.WithoutCancel(ctx)
	fail := func(err error) (*SendResult, error) {
		var se *SMTPError
		if !errors.As(err, &se) || se.Code == 0 {
			// Not a refusal by the server: the connection is in an unknown
			// state, or was cut; no later message goes on it.
			err = withCtx(ctx, err)
			ss.err = err
			ss.raw.Close()
		}
		ss.guard.Record(tctx, s.event(action, ss.corr, req, failure(err), msgID))
		return res, err
	}
	if err := c.Mail(env.From, mo); err != nil {
		return fail(smtpErr("MAIL", err))
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
			return fail(smtpErr("RCPT", err))
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
		c.Reset()
		return fail(first)
	}
	w, err := c.Data()
	if err != nil {
		return fail(smtpErr("DATA", err))
	}
	if _, err := io.Copy(w, body); err != nil {
		// Never w.Close(): it would end DATA with "." and the server would
		// accept a truncated message. fail closes the connection instead,
		// which makes the server abandon the transaction.
		return fail(fmt.Errorf("bal: DATA: %w", err))
	}
	dr, err := w.CloseWithResponse()
	if err != nil {
		return fail(smtpErr("DATA", err))
	}
	res.Reply = dr.StatusText
	resp := trace.Response{OK: true, Code: "250", Text: oneLine(dr.StatusText)}
	if len(res.Refused) > 0 {
		resp.Text = oneLine(fmt.Sprintf("%s; %d recipient(s) refused", dr.StatusText, len(res.Refused)))
	}
	if err := ss.guard.Record(tctx, s.event(action, ss.corr, req, resp, msgID)); err != nil {
		return res, err
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
	resp := trace.Response{OK: true}
	if ss.err != nil {
		resp = trace.Response{Text: "connection closed after a failure"}
	} else if err := ss.c.Quit(); err != nil {
		resp = failure(smtpErr("QUIT", err))
	}
	ss.c.Close()
	ss.guard.Record(context.Background(), ss.s.event(trace.Logout, ss.corr, trace.Request{Command: "QUIT"}, resp, ""))
}

var _ sasl.Client = (*xoauth2Client)(nil)
