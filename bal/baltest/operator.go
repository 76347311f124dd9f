// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"
)

// DefaultMaxMessageBytes is the operator's message size limit when
// [OperatorConfig.MaxMessageBytes] is zero: 25 MB, the only size figure
// the MSSanté documents give (the limit towards Mon espace santé).
const DefaultMaxMessageBytes = 25_000_000

// OperatorConfig configures [NewOperator]. The zero value (or a nil
// pointer) gives an operator with a new PKI and the [DefaultUsers].
type OperatorConfig struct {
	// PKI provides the server certificate and the authorities client
	// certificates are checked against. Nil means NewPKI(nil), which takes
	// about a second: tests that start several operators should share one.
	PKI *PKI

	// Users are the mailboxes. Empty means DefaultUsers(PKI). The mail
	// domains the operator is the final destination for are the domains of
	// these addresses.
	Users []MailUser

	// MaxMessageBytes is the largest message accepted by SMTP (announced
	// with SIZE) and by IMAP APPEND (announced with APPENDLIMIT). Zero means
	// DefaultMaxMessageBytes; a negative value means no limit.
	MaxMessageBytes int64

	// Domain is the operator's host name: it is announced in the SMTP
	// greeting and written in the Received fields and in the DSNs
	// (Reporting-MTA, MAILER-DAEMON sender). Empty means DefaultServerName.
	Domain string

	// SMTPAddr, SMTPSAddr, IMAPAddr and IMAPSAddr are the addresses the
	// four listeners are opened on (host:port). Empty means 127.0.0.1 and
	// a free port.
	SMTPAddr, SMTPSAddr, IMAPAddr, IMAPSAddr string

	// Delivered, when not nil, is called after each message the operator
	// puts in an INBOX (SMTP deliveries, success DSNs, Deliver), from the
	// delivering goroutine: it must be quick and must not call the
	// operator back.
	Delivered func(Delivery)
}

// Operator is an in-process MSSanté operator for tests, started by
// [NewOperator]: an SMTP submission server and an IMAP server sharing
// in-memory mailboxes, both on loopback, in the spirit of
// httptest.Server.
//
// Both servers offer STARTTLS with the PKI's Server certificate (and
// implicit TLS on the SMTPSAddr and IMAPSAddr listeners), ask for a client
// certificate and verify it against the PKI's roots; an expired or revoked
// certificate (revocation as in the PKI's CRLs, see [PKI.IsRevoked]) fails
// the TLS handshake, while a client without a certificate is let in to
// authenticate with a token or a password. Authentication, required before anything else and
// only over TLS, is by SASL:
//
//   - EXTERNAL: the client certificate's common name is looked up in the
//     users' CertNames (case-insensitively), as Dovecot does;
//   - XOAUTH2 and OAUTHBEARER: bearer tokens registered with
//     [Operator.AddToken]; a refused token gets the JSON error challenge
//     operators send ({"status":"401","schemes":"bearer","scope":"mail"}
//     for XOAUTH2, status "invalid_token" for OAUTHBEARER as in RFC 7628),
//     then the final refusal (SMTP 535 5.7.8, IMAP NO [AUTHENTICATIONFAILED]);
//   - PLAIN (and the IMAP LOGIN command): the user's Password.
//
// The SMTP side accepts mail only from the authenticated mailbox (or the
// null sender of acknowledgements), announces DSN, SIZE, PIPELINING,
// 8BITMIME, CHUNKING and ENHANCEDSTATUSCODES, refuses at RCPT an unknown
// user of its domains (550 5.1.1) and any other domain (550 5.1.2: the
// operator relays nowhere), and delivers at once into the recipients'
// INBOX, adding Return-Path, Delivered-To and Received as a delivery agent
// does. A recipient given with NOTIFY=SUCCESS makes it put a success DSN
// (RFC 3464: multipart/report with the original headers) in the sender's
// INBOX.
//
// The IMAP side is go-imap's imapserver over its in-memory backend
// (imapmemserver): IMAP4rev1 and IMAP4rev2 with IDLE, MOVE, UIDPLUS (UID
// EXPUNGE), APPEND, NAMESPACE, LIST-STATUS; each user has an INBOX
// (recreated at the next delivery if deleted); other folders are created
// by the client. The ID command is not supported: sent before
// authentication, it closes the connection (imapserver's defence against
// cross-protocol attacks), as any unknown command does.
//
// Nothing is written to disk. Message contents are never logged.
type Operator struct {
	// SMTPAddr is the submission listener (STARTTLS) and SMTPSAddr the
	// implicit TLS one, as 127.0.0.1:port.
	SMTPAddr, SMTPSAddr string
	// IMAPAddr is the IMAP listener (STARTTLS) and IMAPSAddr the implicit
	// TLS one.
	IMAPAddr, IMAPSAddr string
	// PKI is the PKI the server certificate comes from; PKI.ClientTLSConfig
	// gives a client configuration that trusts it.
	PKI *PKI
	// Users are the mailboxes, Domain the operator's host name (see
	// OperatorConfig.Domain) and MaxMessageBytes the size limit in force
	// (0: none). They are read-only: changing them has no effect or races
	// with the servers.
	Users           []MailUser
	Domain          string
	MaxMessageBytes int64

	t         testing.TB
	tlsConfig *tls.Config
	// secret is the password Messages logs in with on any mailbox.
	secret  string
	boxes   map[string]*opMailbox // by lower-case address
	domains map[string]bool       // lower-case mail domains
	smtp    *smtp.Server
	imap    *imapserver.Server
	serving sync.WaitGroup

	mu        sync.Mutex
	tokens    map[string]string // bearer token → address
	faults    faults
	onDeliver func(Delivery)
	log       []string
	closed    bool

	closeOnce sync.Once
}

// opMailbox is one user's mailbox: its configuration and its folders.
type opMailbox struct {
	user MailUser
	mem  *imapmemserver.User
	// deliver serialises deliveries so that a missing INBOX is recreated
	// only once.
	deliver sync.Mutex
}

// NewOperator starts an operator on loopback and stops it when the test
// ends (or at Close). It fails the test when the configuration is wrong
// or a listener cannot be opened. When the test fails, the operator's log
// (connections, authentications, refusals, deliveries) is logged.
//
//	op := baltest.NewOperator(t, nil) // new PKI, DefaultUsers
//	op.AddToken("psc-token", baltest.CPSUser)
//	// submit to op.SMTPAddr with op.PKI.ORG as client certificate,
//	// trusting op.PKI.RootFort and op.PKI.RootElementaire, then:
//	if err := op.WaitMessages(ctx, baltest.CPSUser, 1); err != nil {
//		t.Fatal(err)
//	}
//	raw := op.Messages(baltest.CPSUser, "INBOX")[0]
func NewOperator(t testing.TB, cfg *OperatorConfig) *Operator {
	t.Helper()
	op, err := newOperator(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// StartOperator starts an operator outside a test (a demonstration, a
// vendor's integration bench): the caller must Close it. Misuses that
// NewOperator reports as test failures (an unknown mailbox given to
// AddToken, Deliver or Messages) are written to the operator's Log.
func StartOperator(cfg *OperatorConfig) (*Operator, error) {
	return newOperator(nil, cfg)
}

// fail reports a misuse: a test error under NewOperator, a log line under
// StartOperator.
func (op *Operator) fail(format string, args ...any) {
	if op.t != nil {
		op.t.Helper()
		op.t.Errorf(format, args...)
		return
	}
	op.logf(format, args...)
}

func newOperator(t testing.TB, cfg *OperatorConfig) (*Operator, error) {
	var c OperatorConfig
	if cfg != nil {
		c = *cfg
	}
	op := &Operator{
		t:         t,
		PKI:       c.PKI,
		Users:     c.Users,
		Domain:    c.Domain,
		boxes:     map[string]*opMailbox{},
		domains:   map[string]bool{},
		tokens:    map[string]string{},
		onDeliver: c.Delivered,
	}
	if op.PKI == nil {
		var err error
		if op.PKI, err = NewPKI(nil); err != nil {
			return nil, err
		}
	}
	if len(op.Users) == 0 {
		op.Users = DefaultUsers(op.PKI)
	}
	if op.Domain == "" {
		op.Domain = DefaultServerName
	}
	switch {
	case c.MaxMessageBytes == 0:
		op.MaxMessageBytes = DefaultMaxMessageBytes
	case c.MaxMessageBytes > 0:
		op.MaxMessageBytes = c.MaxMessageBytes
	}
	for _, u := range op.Users {
		i := strings.LastIndexByte(u.Address, '@')
		if i <= 0 || i == len(u.Address)-1 || strings.ContainsAny(u.Address, " <>\r\n") {
			return nil, fmt.Errorf("baltest: operator user %q is not an address", u.Address)
		}
		key := strings.ToLower(u.Address)
		if op.boxes[key] != nil {
			return nil, fmt.Errorf("baltest: operator user %q is given twice", u.Address)
		}
		mem := imapmemserver.NewUser(u.Address, "")
		if err := mem.Create("INBOX", nil); err != nil {
			return nil, fmt.Errorf("baltest: creating the INBOX of %s: %w", u.Address, err)
		}
		if err := mem.Subscribe("INBOX"); err != nil {
			return nil, fmt.Errorf("baltest: subscribing to the INBOX of %s: %w", u.Address, err)
		}
		op.boxes[key] = &opMailbox{user: u, mem: mem}
		op.domains[key[i+1:]] = true
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("baltest: %w", err)
	}
	op.secret = hex.EncodeToString(secret)

	op.tlsConfig = op.PKI.ServerTLSConfig()
	op.tlsConfig.VerifyConnection = op.verifyClient

	lns := make([]net.Listener, 0, 4)
	for _, addr := range []string{c.SMTPAddr, c.SMTPSAddr, c.IMAPAddr, c.IMAPSAddr} {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("baltest: operator listener: %w", err)
		}
		lns = append(lns, ln)
	}
	op.SMTPAddr, op.SMTPSAddr = lns[0].Addr().String(), lns[1].Addr().String()
	op.IMAPAddr, op.IMAPSAddr = lns[2].Addr().String(), lns[3].Addr().String()

	op.smtp = op.newSMTPServer()
	op.imap = op.newIMAPServer()
	op.serve(func() error { return op.smtp.Serve(lns[0]) })
	op.serve(func() error { return op.smtp.Serve(tls.NewListener(lns[1], op.tlsConfig)) })
	op.serve(func() error { return op.imap.Serve(lns[2]) })
	op.serve(func() error { return op.imap.Serve(tls.NewListener(lns[3], op.tlsConfig)) })

	if t != nil {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("baltest operator log:\n%s", op.Log())
			}
		})
		t.Cleanup(op.Close)
	}
	op.logf("operator started: SMTP %s (STARTTLS), %s (TLS); IMAP %s (STARTTLS), %s (TLS); domains %s",
		op.SMTPAddr, op.SMTPSAddr, op.IMAPAddr, op.IMAPSAddr, strings.Join(sortedKeys(op.domains), " "))
	return op, nil
}

func (op *Operator) serve(run func() error) {
	op.serving.Add(1)
	go func() {
		defer op.serving.Done()
		if err := run(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			op.logf("listener stopped: %v", err)
		}
	}()
}

// Close stops both servers and closes every connection. It is called
// when the test ends; calling it again does nothing.
func (op *Operator) Close() {
	op.closeOnce.Do(func() {
		op.smtp.Close()
		op.imap.Close()
		op.serving.Wait()
		op.mu.Lock()
		op.closed = true
		op.mu.Unlock()
	})
}

// AddToken makes token a valid bearer token (XOAUTH2, OAUTHBEARER) for the
// mailbox address, as if an authorisation server had issued it. It fails
// the test when address is not one of the users.
func (op *Operator) AddToken(token, address string) {
	if op.mailbox(address) == nil {
		op.fail("baltest: AddToken: %q is not a mailbox of the operator", address)
		return
	}
	op.mu.Lock()
	op.tokens[token] = address
	op.mu.Unlock()
}

// Deliver puts raw in the INBOX of address, as if it had just been
// received (IDLE sessions are told). raw is stored as given: no
// Return-Path or Received field is added. It fails the test when address
// is not one of the users.
func (op *Operator) Deliver(address string, raw []byte) {
	box := op.mailbox(address)
	if box == nil {
		op.fail("baltest: Deliver: %q is not a mailbox of the operator", address)
		return
	}
	if err := op.deliver(box, raw); err != nil {
		op.fail("baltest: Deliver to %s: %v", address, err)
	}
}

// Messages returns the messages in folder (such as "INBOX") of the
// mailbox address, oldest first, as the IMAP server holds them. It fails
// the test (and returns nil) when the mailbox or the folder does not
// exist.
func (op *Operator) Messages(address, folder string) [][]byte {
	msgs, err := op.messages(address, folder)
	if err != nil {
		op.fail("baltest: Messages(%q, %q): %v", address, folder, err)
		return nil
	}
	return msgs
}

// WaitMessages waits until the INBOX of address holds at least n
// messages, or ctx ends; the error then says how many there were.
func (op *Operator) WaitMessages(ctx context.Context, address string, n int) error {
	box := op.mailbox(address)
	if box == nil {
		return fmt.Errorf("baltest: WaitMessages: %q is not a mailbox of the operator", address)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		have := 0
		if st, err := box.mem.Status("INBOX", &imap.StatusOptions{NumMessages: true}); err == nil && st.NumMessages != nil {
			have = int(*st.NumMessages)
		}
		if have >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("baltest: the INBOX of %s holds %d messages, want %d: %w", address, have, n, ctx.Err())
		case <-tick.C:
		}
	}
}

// Log returns what the operator logged: connections refused at the TLS
// handshake, authentications (mechanism, user, outcome), refused
// senders and recipients, deliveries and DSNs. It never holds message
// contents, passwords or tokens.
func (op *Operator) Log() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return strings.Join(op.log, "\n")
}

func (op *Operator) logf(format string, args ...any) {
	line := time.Now().Format("15:04:05.000 ") + fmt.Sprintf(format, args...)
	op.mu.Lock()
	defer op.mu.Unlock()
	if !op.closed {
		op.log = append(op.log, line)
	}
}

// opLogger writes the servers' error messages to the operator's log.
type opLogger struct{ op *Operator }

func (l opLogger) Printf(format string, args ...any) {
	l.op.logf("%s", strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (l opLogger) Println(args ...any) {
	l.op.logf("%s", strings.TrimSpace(fmt.Sprintln(args...)))
}

// mailbox returns the mailbox of address (case-insensitive), or nil.
func (op *Operator) mailbox(address string) *opMailbox {
	return op.boxes[strings.ToLower(strings.TrimSpace(address))]
}

// isLocal reports whether address is in one of the operator's domains.
func (op *Operator) isLocal(address string) bool {
	i := strings.LastIndexByte(address, '@')
	return i >= 0 && op.domains[strings.ToLower(address[i+1:])]
}

// deliver appends raw to the INBOX of box, recreating the INBOX if a
// client deleted it.
func (op *Operator) deliver(box *opMailbox, raw []byte) error {
	box.deliver.Lock()
	defer box.deliver.Unlock()
	opts := &imap.AppendOptions{Time: time.Now()}
	_, err := box.mem.Append("INBOX", bytes.NewReader(raw), opts)
	if err != nil {
		if cerr := box.mem.Create("INBOX", nil); cerr != nil {
			return err
		}
		_, err = box.mem.Append("INBOX", bytes.NewReader(raw), opts)
	}
	if err == nil && op.onDeliver != nil {
		op.onDeliver(Delivery{Address: box.user.Address, Raw: raw, Time: opts.Time})
	}
	return err
}

// messages reads a folder through the operator's own IMAP server, so that
// what a test sees is what clients see after their MOVE, EXPUNGE or
// APPEND.
func (op *Operator) messages(address, folder string) ([][]byte, error) {
	box := op.mailbox(address)
	if box == nil {
		return nil, errors.New("not a mailbox of the operator")
	}
	c, err := imapclient.DialTLS(op.IMAPSAddr, &imapclient.Options{TLSConfig: op.PKI.ClientTLSConfig(nil)})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Login(box.user.Address, op.secret).Wait(); err != nil {
		return nil, err
	}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, err
	}
	if sel.NumMessages == 0 {
		return nil, c.Logout().Wait()
	}
	section := &imap.FetchItemBodySection{Peek: true}
	fetched, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, err
	}
	sort.Slice(fetched, func(i, j int) bool { return fetched[i].SeqNum < fetched[j].SeqNum })
	out := make([][]byte, 0, len(fetched))
	for _, m := range fetched {
		out = append(out, m.FindBodySection(section))
	}
	return out, c.Logout().Wait()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
