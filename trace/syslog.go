// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Syslog facilities (RFC 5424 §6.2.1, table 1) suited to trace events.
const (
	// FacilityAuthPriv is "security/authorization messages", the facility
	// IHE ATNA audit records are usually sent with.
	FacilityAuthPriv = 10
	// FacilityLogAudit is "log audit", the default: a trace is an audit
	// record, and it is the facility of the ANS TDE syslog sample (<110>
	// is log audit, informational).
	FacilityLogAudit = 13
)

// Syslog severities used by SyslogRecorder (RFC 5424 §6.2.1, table 2).
const (
	// SeverityWarning marks an event whose response is a failure.
	SeverityWarning = 4
	// SeverityNotice marks an event whose response is a success.
	SeverityNotice = 5
	// SeverityInformational marks an event recorded before any response
	// (bal records a request before sending it).
	SeverityInformational = 6
)

// SyslogSDID is the SD-ID of the STRUCTURED-DATA element carrying an event
// (RFC 5424 §6.3.2: a private SD-ID is name@<private enterprise number>).
// 32473 is the enterprise number reserved for documentation by RFC 5612:
// gomss has no IANA enterprise number of its own, and a documentation
// number cannot collide with a real organisation's SD-IDs. Collectors
// should select on the whole SD-ID.
const SyslogSDID = "mss@32473"

// SyslogPort is the port assigned to syslog over TLS (RFC 5425 §4.1),
// used when SyslogConfig.Addr has none.
const SyslogPort = "6514"

// DefaultSyslogMaxMessage is the default SyslogConfig.MaxMessage: the
// message size every RFC 5425 receiver should accept (§4.3.1).
const DefaultSyslogMaxMessage = 8192

// Lengths of the RFC 5424 header fields (§6, ABNF): longer values are
// truncated.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
)

// SyslogConfig configures a SyslogRecorder. The zero value of every field
// but Addr is usable.
type SyslogConfig struct {
	// Addr is the collector's host:port; without a port, SyslogPort.
	Addr string
	// TLS configures the connection. The collector's certificate is
	// verified against TLS.RootCAs (the system roots when nil) for the host
	// of Addr or TLS.ServerName. TLS.Certificates is the client certificate
	// when the collector requires one (ATNA mutual authentication); when the
	// collector asks for one, connecting waits for it to accept the
	// certificate (the handshake's duration plus 100 ms), since collectors
	// may refuse it only after the handshake.
	// MinVersion is raised to TLS 1.2. InsecureSkipVerify is refused
	// unless VerifyConnection or VerifyPeerCertificate does the checking.
	// The config is cloned; nil means the defaults.
	TLS *tls.Config
	// Hostname is the HOSTNAME field; os.Hostname() when empty.
	Hostname string
	// AppName is the APP-NAME field; "gomss" when empty.
	AppName string
	// ProcID is the PROCID field; the process id when empty.
	ProcID string
	// Facility is the syslog facility, 0 to 23; 0 (kernel messages, which
	// no application may send) selects FacilityLogAudit.
	Facility int
	// Timeout bounds the connection (dial and handshake) and each write;
	// 10 seconds when zero. A deadline of Record's context that comes
	// earlier wins.
	Timeout time.Duration
	// MaxMessage is the largest SYSLOG-MSG sent, in octets;
	// DefaultSyslogMaxMessage when zero. When an event does not fit, its
	// MSG part (a sentence repeating the structured data) is left out;
	// if it still does not fit, Record refuses it with an error wrapping
	// ErrEvent. Raise it when the collector accepts more (rsyslog:
	// global(maxMessageSize=...)).
	MaxMessage int
}

// SyslogRecorder sends events to a syslog collector as RFC 5424 messages
// over TLS with RFC 5425 octet-counting framing. It is safe for concurrent
// use.
//
// Record returns once the message is written to the TLS connection. RFC
// 5425 has no acknowledgement: a message written just before the
// collector goes away may be lost without an error. Pair it with a durable
// local log (Multi) where that matters; the event ID lets a reader match
// and deduplicate both.
type SyslogRecorder struct {
	addr       string
	tls        *tls.Config
	hdr        syslogHeader
	timeout    time.Duration
	maxMessage int

	mu     sync.Mutex
	conn   *syslogConn
	closed bool
}

// syslogConn is one connection to the collector and the reader that
// notices when the collector closes it (a syslog receiver never sends
// anything, RFC 5425 §4.3).
type syslogConn struct {
	c    *tls.Conn
	dead chan struct{} // closed when the read side fails
	err  error         // why, set before dead is closed
}

// DialSyslog connects to the collector (TLS handshake included) and
// returns a recorder sending to it. Record reconnects when the connection
// is found broken.
func DialSyslog(ctx context.Context, cfg SyslogConfig) (*SyslogRecorder, error) {
	r, err := newSyslogRecorder(cfg)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.connect(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func newSyslogRecorder(cfg SyslogConfig) (*SyslogRecorder, error) {
	if cfg.Addr == "" {
		return nil, errors.New("trace: syslog: Addr is required")
	}
	addr := cfg.Addr
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), SyslogPort)
	}
	if cfg.Facility < 0 || cfg.Facility > 23 {
		return nil, fmt.Errorf("trace: syslog: facility %d, want 0 to 23", cfg.Facility)
	}
	var tc *tls.Config
	if cfg.TLS != nil {
		tc = cfg.TLS.Clone()
	} else {
		tc = &tls.Config{}
	}
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	if tc.MaxVersion != 0 && tc.MaxVersion < tls.VersionTLS12 {
		return nil, errors.New("trace: syslog: TLS.MaxVersion is below TLS 1.2")
	}
	if tc.InsecureSkipVerify && tc.VerifyConnection == nil && tc.VerifyPeerCertificate == nil {
		return nil, errors.New("trace: syslog: TLS.InsecureSkipVerify without VerifyConnection or VerifyPeerCertificate: the collector would not be authenticated")
	}
	host := cfg.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	app := cfg.AppName
	if app == "" {
		app = "gomss"
	}
	procID := cfg.ProcID
	if procID == "" {
		procID = strconv.Itoa(os.Getpid())
	}
	r := &SyslogRecorder{
		addr: addr,
		tls:  tc,
		hdr: syslogHeader{
			hostname: headerField(host, maxHostname),
			appName:  headerField(app, maxAppName),
			procID:   headerField(procID, maxProcID),
			facility: facilityOrDefault(cfg.Facility),
		},
		timeout:    cfg.Timeout,
		maxMessage: cfg.MaxMessage,
	}
	if r.timeout <= 0 {
		r.timeout = 10 * time.Second
	}
	if r.maxMessage <= 0 {
		r.maxMessage = DefaultSyslogMaxMessage
	}
	return r, nil
}

// Record normalises e (see Event.Normalize, whose error it returns) and
// sends it. When the connection is broken it reconnects, and it retries a
// failed write once on a new connection. The write is bounded by the
// configured Timeout and by ctx.
func (r *SyslogRecorder) Record(ctx context.Context, e Event) error {
	if err := e.Normalize(); err != nil {
		return err
	}
	msg := r.hdr.appendMessage(nil, &e, true)
	if len(msg) > r.maxMessage {
		msg = r.hdr.appendMessage(msg[:0], &e, false)
		if len(msg) > r.maxMessage {
			return fmt.Errorf("%w: syslog message of %d octets, at most %d (SyslogConfig.MaxMessage)", ErrEvent, len(msg), r.maxMessage)
		}
	}
	frame := make([]byte, 0, len(msg)+6)
	frame = strconv.AppendInt(frame, int64(len(msg)), 10)
	frame = append(frame, ' ')
	frame = append(frame, msg...)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("trace: syslog %s: recorder closed: %w", r.addr, net.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fresh := false
	if r.conn != nil && !r.conn.alive() {
		r.drop()
	}
	if r.conn == nil {
		if err := r.connect(ctx); err != nil {
			return err
		}
		fresh = true
	}
	err := r.write(ctx, frame)
	if err == nil {
		return nil
	}
	r.drop()
	if fresh || ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if err := r.connect(ctx); err != nil {
		return err
	}
	if err := r.write(ctx, frame); err != nil {
		r.drop()
		return err
	}
	return nil
}

// Close closes the connection. Record fails after Close.
func (r *SyslogRecorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.conn == nil {
		return nil
	}
	err := r.conn.c.Close()
	r.conn = nil
	return err
}

// connect dials the collector; r.mu is held.
//
// A collector may check the client's certificate after the handshake:
// every TLS 1.3 server does (the client's handshake ends first), and
// rsyslog's gtls driver does with TLS 1.2 too. Refusing it, it closes the
// connection, and events written meanwhile would be lost without an error.
// So when the collector asked for a certificate, connect waits for that
// verdict: as long as the handshake took plus 100 ms (within Timeout). A
// connection closed within that time is an error.
func (r *SyslogRecorder) connect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tc := r.tls.Clone()
	requested := false
	tc.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		requested = true
		if r.tls.GetClientCertificate != nil {
			return r.tls.GetClientCertificate(cri)
		}
		for i := range r.tls.Certificates {
			if cri.SupportsCertificate(&r.tls.Certificates[i]) == nil {
				return &r.tls.Certificates[i], nil
			}
		}
		return &tls.Certificate{}, nil // none fits: send none, the server decides
	}
	d := tls.Dialer{Config: tc}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return fmt.Errorf("trace: syslog %s: %w", r.addr, err)
	}
	sc := &syslogConn{c: c.(*tls.Conn), dead: make(chan struct{})}
	go sc.watch()
	if requested {
		wait := time.NewTimer(time.Since(start) + 100*time.Millisecond)
		defer wait.Stop()
		select {
		case <-sc.dead:
			sc.c.Close()
			return fmt.Errorf("trace: syslog %s: the collector closed the connection after the TLS handshake (client certificate refused?): %w", r.addr, sc.err)
		case <-ctx.Done():
			sc.c.Close()
			return fmt.Errorf("trace: syslog %s: %w", r.addr, ctx.Err())
		case <-wait.C:
		}
	}
	r.conn = sc
	return nil
}

// drop closes and forgets the current connection; r.mu is held.
func (r *SyslogRecorder) drop() {
	if r.conn != nil {
		r.conn.c.Close()
		r.conn = nil
	}
}

// write writes one frame; r.mu is held and r.conn is set.
func (r *SyslogRecorder) write(ctx context.Context, frame []byte) error {
	c := r.conn.c
	deadline := time.Now().Add(r.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetWriteDeadline(time.Unix(1, 0)) })
	_, err := c.Write(frame)
	stop()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		return fmt.Errorf("trace: syslog %s: %w", r.addr, err)
	}
	return nil
}

// watch reads until the connection fails, then marks it dead. Anything the
// collector sends is discarded.
func (sc *syslogConn) watch() {
	var b [512]byte
	for {
		if _, err := sc.c.Read(b[:]); err != nil {
			sc.err = err
			close(sc.dead)
			return
		}
	}
}

func (sc *syslogConn) alive() bool {
	select {
	case <-sc.dead:
		return false
	default:
		return true
	}
}

// FormatSyslog returns the RFC 5424 message (without RFC 5425 framing)
// for e, as SyslogRecorder sends it:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [mss@32473 ...] BOM MSG
//
// PRI is facility×8 + severity: SeverityNotice when the response is a
// success, SeverityWarning when it is a failure, SeverityInformational when
// there is no response yet. A facility outside 0 to 23, or 0, selects
// FacilityLogAudit. TIMESTAMP is e.Time with its offset (UTC when the
// offset is not whole minutes), to the microsecond; "-" when zero or
// outside years 0 to 9999. PROCID is the process id and MSGID the action.
// Header fields keep their printable US-ASCII characters ('_' replaces
// others) and are cut to their RFC 5424 maximum (HOSTNAME 255, APP-NAME
// 48, PROCID 128, MSGID 32 octets); an empty one is "-".
//
// The structured data element SyslogSDID carries every field of e, with
// the names of its JSON form: id, actor.id, actor.idType, actor.name,
// actor.auth, onBehalfOf.*, mailbox.address, mailbox.kind, action,
// request.server, request.command, request.param.0, request.param.1… (one
// per parameter), response.ok, response.code, response.text, messageId,
// correlation and software. Parameters are numbered rather than repeated
// under one name, which RFC 5424 allows, because decoders commonly keep one
// value per name (rsyslog's mmpstrucdata keeps the last). id, actor.id, action, request.command and
// response.ok are always present; the others only when not empty. Values
// escape '"', '\' and ']' with a backslash (§6.3.3); invalid UTF-8 is
// replaced by U+FFFD. The MSG part is a short sentence for people; it
// begins with the UTF-8 BOM because names may have accents (§6.4).
//
// FormatSyslog does not call Normalize: Record does.
func FormatSyslog(e Event, hostname, appName string, facility int) []byte {
	h := syslogHeader{
		hostname: headerField(hostname, maxHostname),
		appName:  headerField(appName, maxAppName),
		procID:   strconv.Itoa(os.Getpid()),
		facility: facilityOrDefault(facility),
	}
	return h.appendMessage(nil, &e, true)
}

// syslogHeader holds the header fields that do not depend on the event,
// already made valid.
type syslogHeader struct {
	hostname, appName, procID string
	facility                  int
}

func facilityOrDefault(f int) int {
	if f <= 0 || f > 23 {
		return FacilityLogAudit
	}
	return f
}

// headerField makes s a valid header field of at most max octets.
func headerField(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	if s == "" {
		return "-"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 33 || b[j] > 126 {
					b[j] = '_'
				}
			}
			return string(b)
		}
	}
	return s
}

func severity(r Response) int {
	switch {
	case r.OK:
		return SeverityNotice
	case r.Pending():
		return SeverityInformational
	default:
		return SeverityWarning
	}
}

// appendMessage appends the SYSLOG-MSG for e; withMsg adds the MSG part.
func (h syslogHeader) appendMessage(dst []byte, e *Event, withMsg bool) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(h.facility*8+severity(e.Response)), 10)
	dst = append(dst, ">1 "...)
	dst = appendTimestamp(dst, e.Time)
	dst = append(dst, ' ')
	dst = append(dst, h.hostname...)
	dst = append(dst, ' ')
	dst = append(dst, h.appName...)
	dst = append(dst, ' ')
	dst = append(dst, h.procID...)
	dst = append(dst, ' ')
	dst = append(dst, headerField(string(e.Action), maxMsgID)...)
	dst = append(dst, " ["...)
	dst = append(dst, SyslogSDID...)

	dst = appendParam(dst, "id", e.ID, true)
	dst = appendActor(dst, "actor.", &e.Actor, true)
	if e.OnBehalfOf != nil {
		dst = appendActor(dst, "onBehalfOf.", e.OnBehalfOf, false)
	}
	dst = appendParam(dst, "mailbox.address", e.Mailbox.Address, false)
	dst = appendParam(dst, "mailbox.kind", e.Mailbox.Kind, false)
	dst = appendParam(dst, "action", string(e.Action), true)
	dst = appendParam(dst, "request.server", e.Request.Server, false)
	dst = appendParam(dst, "request.command", e.Request.Command, true)
	for i, p := range e.Request.Params {
		dst = appendParam(dst, "request.param."+strconv.Itoa(i), p, true)
	}
	dst = appendParam(dst, "response.ok", strconv.FormatBool(e.Response.OK), true)
	dst = appendParam(dst, "response.code", e.Response.Code, false)
	dst = appendParam(dst, "response.text", e.Response.Text, false)
	dst = appendParam(dst, "messageId", e.MessageID, false)
	dst = appendParam(dst, "correlation", e.Correlation, false)
	dst = appendParam(dst, "software", e.Software, false)
	dst = append(dst, ']')

	if withMsg {
		dst = append(dst, " \xEF\xBB\xBF"...)
		dst = appendSentence(dst, e)
	}
	return dst
}

func appendActor(dst []byte, prefix string, a *Actor, required bool) []byte {
	dst = appendParam(dst, prefix+"id", a.ID, required)
	dst = appendParam(dst, prefix+"idType", a.IDType, false)
	dst = appendParam(dst, prefix+"name", a.Name, false)
	return appendParam(dst, prefix+"auth", string(a.Auth), false)
}

// appendParam appends SP name="value", value escaped per RFC 5424 §6.3.3;
// an empty value is left out unless required.
func appendParam(dst []byte, name, value string, required bool) []byte {
	if value == "" && !required {
		return dst
	}
	if !utf8.ValidString(value) {
		value = strings.ToValidUTF8(value, "\uFFFD")
	}
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, '=', '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '"', '\\', ']':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendTimestamp appends t as an RFC 5424 TIMESTAMP (RFC 3339, at most
// six fractional digits, numeric offset or Z).
func appendTimestamp(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, '-')
	}
	if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		t = t.UTC()
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return append(dst, '-')
	}
	return t.AppendFormat(dst, "2006-01-02T15:04:05.999999Z07:00")
}

// appendSentence appends the MSG sentence: who did what on which mailbox
// and how the server answered. Control characters become spaces so that
// line-oriented log files keep one event a line.
func appendSentence(dst []byte, e *Event) []byte {
	start := len(dst)
	dst = append(dst, e.Action...)
	dst = append(dst, " by "...)
	dst = append(dst, e.Actor.ID...)
	if e.Actor.Name != "" {
		dst = append(dst, " ("...)
		dst = append(dst, e.Actor.Name...)
		dst = append(dst, ')')
	}
	if e.OnBehalfOf != nil && (e.OnBehalfOf.ID != "" || e.OnBehalfOf.Name != "") {
		dst = append(dst, " for "...)
		dst = append(dst, e.OnBehalfOf.ID...)
		if e.OnBehalfOf.Name != "" {
			dst = append(dst, " ("...)
			dst = append(dst, e.OnBehalfOf.Name...)
			dst = append(dst, ')')
		}
	}
	if e.Mailbox.Address != "" {
		dst = append(dst, " on "...)
		dst = append(dst, e.Mailbox.Address...)
	}
	dst = append(dst, ": "...)
	dst = append(dst, e.Request.Command...)
	switch severity(e.Response) {
	case SeverityNotice:
		dst = append(dst, " ok"...)
	case SeverityWarning:
		dst = append(dst, " failed"...)
	default:
		dst = append(dst, " sent, no response yet"...)
	}
	if e.Response.Code != "" {
		dst = append(dst, ' ')
		dst = append(dst, e.Response.Code...)
	}
	s := dst[start:]
	for i, c := range s {
		if c < 32 || c == 127 {
			s[i] = ' '
		}
	}
	if !utf8.Valid(s) {
		fixed := strings.ToValidUTF8(string(s), "\uFFFD")
		dst = append(dst[:start], fixed...)
	}
	return dst
}
