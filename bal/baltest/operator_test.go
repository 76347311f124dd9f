package baltest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// opSASL is a net/smtp Auth that sends a fixed initial response and
// records the server's challenges, answering each with an empty
// response.
type opSASL struct {
	mech string
	ir   []byte

	mu         sync.Mutex
	challenges []string
}

func (a *opSASL) Start(*smtp.ServerInfo) (string, []byte, error) { return a.mech, a.ir, nil }

func (a *opSASL) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.mu.Lock()
	a.challenges = append(a.challenges, string(fromServer))
	a.mu.Unlock()
	return []byte{}, nil
}

// opSASLClient adapts opSASL to go-sasl's Client for imapclient.
type opSASLClient struct{ *opSASL }

func (c opSASLClient) Start() (string, []byte, error) { return c.mech, c.ir, nil }
func (c opSASLClient) Next(challenge []byte) ([]byte, error) {
	return c.opSASL.Next(challenge, true)
}

func (a *opSASL) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.challenges...)
}

func xoauth2IR(user, token string) []byte {
	return []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

// opClientTLS is the PKI's client configuration for the operator's
// certificate name.
func opClientTLS(p *PKI, leaf *Leaf) *tls.Config {
	cfg := p.ClientTLSConfig(leaf)
	cfg.ServerName = "localhost"
	return cfg
}

// opSMTP connects with net/smtp, says EHLO and upgrades with STARTTLS,
// presenting leaf when not nil.
func opSMTP(t *testing.T, op *Operator, leaf *Leaf) (*smtp.Client, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", op.SMTPAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang guard for the whole exchange
	t.Cleanup(func() { conn.Close() })
	c, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c, c.StartTLS(opClientTLS(op.PKI, leaf))
}

// opSMTPLogin is opSMTP then AUTH EXTERNAL; it fails the test on error.
func opSMTPLogin(t *testing.T, op *Operator, leaf *Leaf) *smtp.Client {
	t.Helper()
	c, err := opSMTP(t, op, leaf)
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if err := c.Auth(&opSASL{mech: "EXTERNAL"}); err != nil {
		t.Fatalf("AUTH EXTERNAL: %v", err)
	}
	return c
}

// opIMAP connects with imapclient over STARTTLS, presenting leaf when not
// nil.
func opIMAP(t *testing.T, op *Operator, leaf *Leaf, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	if opts == nil {
		opts = &imapclient.Options{}
	}
	opts.TLSConfig = opClientTLS(op.PKI, leaf)
	opts.Dialer = &net.Dialer{Timeout: 5 * time.Second}
	c, err := imapclient.DialStartTLS(op.IMAPAddr, opts)
	if err != nil {
		t.Fatalf("IMAP STARTTLS: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// opCmd sends a raw SMTP command and reads the reply, expecting code.
func opCmd(c *smtp.Client, code int, format string, args ...any) (string, error) {
	id, err := c.Text.Cmd(format, args...)
	if err != nil {
		return "", err
	}
	c.Text.StartResponse(id)
	defer c.Text.EndResponse(id)
	_, msg, err := c.Text.ReadResponse(code)
	return msg, err
}

func opMessage(from, to, subject string) string {
	return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@lps.test>\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\nCorps du message.\r\n"
}

// opSend submits msg with the Mail/Rcpt/Data calls of net/smtp.
func opSend(c *smtp.Client, from string, to []string, msg string) error {
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL: %w", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("RCPT %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	return w.Close()
}

func wantSMTPCode(t *testing.T, what string, err error, code int, enhanced string) {
	t.Helper()
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != code || !strings.HasPrefix(te.Msg, enhanced+" ") {
		t.Errorf("%s: %v, want %d %s", what, err, code, enhanced)
	}
}

// The TLS and authentication rules of the submission server, seen by
// net/smtp: STARTTLS offered, AUTH only after it, EXTERNAL with the ORG
// certificate maps to its mailbox, which may send only as itself.
func TestOperatorSMTPExternal(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	conn, err := net.Dial("tcp", op.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	plain, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
	if ok, mechs := plain.Extension("AUTH"); ok {
		t.Errorf("AUTH %s offered before TLS", mechs)
	}
	wantSMTPCode(t, "MAIL before TLS", plain.Mail(ORGUser), 530, "5.7.0")

	c := opSMTPLogin(t, op, op.PKI.ORG)
	for ext, want := range map[string]string{"AUTH": "EXTERNAL XOAUTH2 OAUTHBEARER PLAIN", "DSN": "", "SIZE": "25000000"} {
		if ok, param := c.Extension(ext); !ok || param != want {
			t.Errorf("EHLO after STARTTLS: %s %q (offered %v), want %q", ext, param, ok, want)
		}
	}
	if !strings.Contains(op.Log(), "EXTERNAL authentication of "+ORGUser) {
		t.Errorf("the ORG certificate did not log in as %s:\n%s", ORGUser, op.Log())
	}
	wantSMTPCode(t, "MAIL as another user", c.Mail(CPSUser), 553, "5.7.1")
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "compte rendu")); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Error(err)
	}

	// Implicit TLS (port 465 style) with the CPS certificate.
	tc, err := tls.Dial("tcp", op.SMTPSAddr, opClientTLS(op.PKI, op.PKI.CPS))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang guard for the whole exchange
	c, err = smtp.NewClient(tc, "localhost")
	if err == nil {
		err = c.Auth(&opSASL{mech: "EXTERNAL"})
	}
	if err == nil {
		err = opSend(c, CPSUser, []string{OtherUser}, opMessage(CPSUser, OtherUser, "en TLS implicite"))
	}
	if err != nil {
		t.Errorf("implicit TLS submission with the CPS certificate: %v", err)
	}

	// The copy in the recipient's INBOX, read back over IMAP with the CPS
	// certificate.
	got := op.Messages(CPSUser, "INBOX")
	if len(got) != 1 {
		t.Fatalf("INBOX of %s: %d messages, want 1", CPSUser, len(got))
	}
	m, err := mail.ReadMessage(bytes.NewReader(got[0]))
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]string{"Return-Path": "<" + ORGUser + ">", "Delivered-To": CPSUser, "Subject": "compte rendu"} {
		if v := m.Header.Get(field); v != want {
			t.Errorf("%s: %q, want %q", field, v, want)
		}
	}
	if r := m.Header.Get("Received"); !strings.Contains(r, "with ESMTPSA") || !strings.Contains(r, "by "+DefaultServerName) {
		t.Errorf("Received: %q", r)
	}

	ic := opIMAP(t, op, op.PKI.CPS, nil)
	if err := ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}}); err != nil {
		t.Fatalf("IMAP EXTERNAL with the CPS certificate: %v", err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	section := &imap.FetchItemBodySection{}
	msgs, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("FETCH: %d messages, %v", len(msgs), err)
	}
	if !bytes.Equal(msgs[0].FindBodySection(section), got[0]) {
		t.Errorf("IMAP FETCH and Messages differ:\n%s\n---\n%s", msgs[0].FindBodySection(section), got[0])
	}
}

// A revoked certificate (whose CN names ORGUser) and an expired one are
// refused at the TLS handshake, on both servers and on both kinds of
// listener; without a certificate EXTERNAL is refused.
func TestOperatorRefusedCertificates(t *testing.T) {
	p := sharedPKI(t)
	op := NewOperator(t, &OperatorConfig{PKI: p})
	for _, leaf := range []*Leaf{p.Revoked, p.Expired} {
		cn := leaf.Cert.Subject.CommonName
		t.Run(cn, func(t *testing.T) {
			c, err := opSMTP(t, op, leaf)
			if err == nil {
				err = c.Auth(&opSASL{mech: "EXTERNAL"})
			}
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("SMTP STARTTLS then EXTERNAL: %v, want a refused certificate", err)
			}
			ic, err := imapclient.DialStartTLS(op.IMAPAddr, &imapclient.Options{TLSConfig: opClientTLS(p, leaf)})
			if err == nil {
				err = ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}})
				ic.Close()
			}
			// imapclient reads the TLS alert in its reader goroutine: the
			// error of the next command may only say the connection closed.
			if err == nil {
				t.Errorf("IMAP STARTTLS then EXTERNAL with %s succeeded", cn)
			}
			for _, addr := range []string{op.SMTPSAddr, op.IMAPSAddr} {
				tc, err := tls.Dial("tcp", addr, opClientTLS(p, leaf))
				if err == nil {
					tc.SetDeadline(time.Now().Add(time.Minute)) // a hang guard
					_, err = tc.Read(make([]byte, 64))          // TLS 1.3: the refusal comes after the client's Finished
					tc.Close()
				}
				if err == nil || !strings.Contains(err.Error(), "certificate") {
					t.Errorf("implicit TLS %s: %v, want a refused certificate", addr, err)
				}
			}
		})
	}
	// One refusal per listener: SMTP and IMAP, STARTTLS and implicit TLS.
	if n := strings.Count(op.Log(), p.Revoked.Cert.Subject.String()+`" refused: revoked`); n != 4 {
		t.Errorf("the operator logged %d revocations, want 4:\n%s", n, op.Log())
	}

	c, err := opSMTP(t, op, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantSMTPCode(t, "EXTERNAL without certificate", c.Auth(&opSASL{mech: "EXTERNAL"}), 535, "5.7.8")
}

// Bearer tokens over SMTP and IMAP: a token registered with AddToken logs
// in; a bad one gets the JSON error challenge, then the refusal.
func TestOperatorBearerTokens(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	op.AddToken("jeton-valide", CPSUser)
	const refusal401 = `{"status":"401","schemes":"bearer","scope":"mail"}`

	t.Run("SMTP XOAUTH2", func(t *testing.T) {
		c, err := opSMTP(t, op, nil)
		if err != nil {
			t.Fatal(err)
		}
		good := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-valide")}
		if err := c.Auth(good); err != nil || len(good.seen()) != 0 {
			t.Fatalf("good token: %v, challenges %q", err, good.seen())
		}
		if err := opSend(c, CPSUser, []string{OtherUser}, opMessage(CPSUser, OtherUser, "par jeton")); err != nil {
			t.Error(err)
		}

		c, err = opSMTP(t, op, nil)
		if err != nil {
			t.Fatal(err)
		}
		bad := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-faux")}
		wantSMTPCode(t, "bad token", c.Auth(bad), 535, "5.7.8")
		if ch := bad.seen(); len(ch) != 1 || ch[0] != refusal401 {
			t.Errorf("bad token challenges %q, want [%s]", ch, refusal401)
		}

		// A good token presented for another user.
		c, err = opSMTP(t, op, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantSMTPCode(t, "token of another user", c.Auth(&opSASL{mech: "XOAUTH2", ir: xoauth2IR(OtherUser, "jeton-valide")}), 535, "5.7.8")
	})

	t.Run("SMTP OAUTHBEARER", func(t *testing.T) {
		c, err := opSMTP(t, op, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Auth(&opSASL{mech: "OAUTHBEARER", ir: []byte("n,a=" + CPSUser + ",\x01host=localhost\x01port=587\x01auth=Bearer jeton-valide\x01\x01")}); err != nil {
			t.Errorf("good token: %v", err)
		}
		c, err = opSMTP(t, op, nil)
		if err != nil {
			t.Fatal(err)
		}
		bad := &opSASL{mech: "OAUTHBEARER", ir: []byte("n,,\x01auth=Bearer jeton-faux\x01\x01")}
		wantSMTPCode(t, "bad token", c.Auth(bad), 535, "5.7.8")
		if ch := bad.seen(); len(ch) != 1 || !strings.Contains(ch[0], `"status":"invalid_token"`) {
			t.Errorf("bad token challenges %q", ch)
		}
	})

	t.Run("IMAP XOAUTH2", func(t *testing.T) {
		ic := opIMAP(t, op, nil, nil)
		bad := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-faux")}
		err := ic.Authenticate(opSASLClient{bad})
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo || ie.Code != imap.ResponseCodeAuthenticationFailed {
			t.Errorf("bad token: %v, want NO [AUTHENTICATIONFAILED]", err)
		}
		if ch := bad.seen(); len(ch) != 1 || ch[0] != refusal401 {
			t.Errorf("bad token challenges %q, want [%s]", ch, refusal401)
		}
		good := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-valide")}
		if err := ic.Authenticate(opSASLClient{good}); err != nil {
			t.Fatalf("good token after a bad one: %v", err)
		}
		st, err := ic.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil || *st.NumMessages != 0 {
			t.Errorf("STATUS INBOX: %v %v", st, err)
		}
	})
}

// Passwords: IMAP LOGIN and SMTP AUTH PLAIN.
func TestOperatorPasswords(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	ic := opIMAP(t, op, nil, nil)
	if err := ic.Login(OtherUser, "faux").Wait(); err == nil {
		t.Error("IMAP LOGIN with a wrong password succeeded")
	}
	if err := ic.Login(OtherUser, DefaultPassword).Wait(); err != nil {
		t.Errorf("IMAP LOGIN: %v", err)
	}
	c, err := opSMTP(t, op, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantSMTPCode(t, "PLAIN wrong password", c.Auth(smtp.PlainAuth("", OtherUser, "faux", "localhost")), 535, "5.7.8")
	c, err = opSMTP(t, op, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", OtherUser, DefaultPassword, "localhost")); err != nil {
		t.Errorf("PLAIN: %v", err)
	}
}

// Recipient checks at RCPT and the size limit.
func TestOperatorRefusals(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t), MaxMessageBytes: 4000})
	c := opSMTPLogin(t, op, op.PKI.ORG)
	if ok, size := c.Extension("SIZE"); !ok || size != "4000" {
		t.Errorf("SIZE %q", size)
	}
	if err := c.Mail(ORGUser); err != nil {
		t.Fatal(err)
	}
	wantSMTPCode(t, "unknown user", c.Rcpt("inconnu@"+TestDomain), 550, "5.1.1")
	wantSMTPCode(t, "other domain", c.Rcpt("dr.martin@ailleurs.mssante.fr"), 550, "5.1.2")
	if err := c.Rcpt(strings.ToUpper(CPSUser)); err != nil {
		t.Errorf("known user in capitals: %v", err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	_, err := opCmd(c, 250, "MAIL FROM:<%s> SIZE=5000", ORGUser)
	wantSMTPCode(t, "MAIL SIZE above the limit", err, 552, "5.3.4")
	big := opMessage(ORGUser, CPSUser, "gros") + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 70)
	wantSMTPCode(t, "DATA above the limit", opSend(c, ORGUser, []string{CPSUser}, big), 552, "5.3.4")
	if n := len(op.Messages(CPSUser, "INBOX")); n != 0 {
		t.Errorf("%d messages delivered, want 0", n)
	}

	ic := opIMAP(t, op, nil, nil)
	if err := ic.Login(CPSUser, DefaultPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if !ic.Caps().Has("APPENDLIMIT=4000") {
		t.Errorf("capabilities %v, want APPENDLIMIT=4000", ic.Caps())
	}
	cmd := ic.Append("INBOX", int64(len(big)), nil)
	cmd.Write([]byte(big))
	cmd.Close()
	var ie *imap.Error
	if _, err := cmd.Wait(); !errors.As(err, &ie) || ie.Code != imap.ResponseCodeTooBig {
		t.Errorf("APPEND above the limit: %v, want NO [TOOBIG]", err)
	}
}

// A recipient given NOTIFY=SUCCESS gets the sender a success DSN: a
// multipart/report with the delivery-status fields and the original
// headers. A recipient without it does not.
func TestOperatorSuccessDSN(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	c := opSMTPLogin(t, op, op.PKI.ORG)
	const envid = "20250101.abc@lps.test"
	if _, err := opCmd(c, 250, "MAIL FROM:<%s> RET=HDRS ENVID=%s", ORGUser, envid); err != nil {
		t.Fatal(err)
	}
	if _, err := opCmd(c, 250, "RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;%s", CPSUser, CPSUser); err != nil {
		t.Fatal(err)
	}
	if _, err := opCmd(c, 250, "RCPT TO:<%s> NOTIFY=FAILURE", OtherUser); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, opMessage(ORGUser, CPSUser, "avec accuse"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	if err := op.WaitMessages(ctx, ORGUser, 1); err != nil {
		t.Fatal(err)
	}
	got := op.Messages(ORGUser, "INBOX")
	if len(got) != 1 {
		t.Fatalf("%d messages for the sender, want 1 DSN", len(got))
	}
	m, err := mail.ReadMessage(bytes.NewReader(got[0]))
	if err != nil {
		t.Fatal(err)
	}
	if rp := m.Header.Get("Return-Path"); rp != "<>" {
		t.Errorf("DSN Return-Path %q, want <>", rp)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("DSN Content-Type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	var status, headers string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct := p.Header.Get("Content-Type")
		types = append(types, strings.SplitN(ct, ";", 2)[0])
		switch {
		case ct == "message/delivery-status":
			status = string(b)
		case ct == "text/rfc822-headers":
			headers = string(b)
		}
	}
	if strings.Join(types, " ") != "text/plain message/delivery-status text/rfc822-headers" {
		t.Errorf("DSN parts %v", types)
	}
	for _, want := range []string{
		"Reporting-MTA: dns; " + DefaultServerName + "\r\n",
		"Original-Envelope-Id: " + envid + "\r\n",
		"\r\n\r\nFinal-Recipient: rfc822; " + CPSUser + "\r\nOriginal-Recipient: rfc822; " + CPSUser + "\r\nAction: delivered\r\nStatus: 2.0.0\r\n",
	} {
		if !strings.Contains(status, want) {
			t.Errorf("delivery-status lacks %q:\n%s", want, status)
		}
	}
	if strings.Contains(status, OtherUser) {
		t.Errorf("delivery-status reports %s, which did not ask for SUCCESS:\n%s", OtherUser, status)
	}
	if !strings.Contains(headers, "Message-ID: <avec-accuse@lps.test>\r\n") || strings.Contains(headers, "Corps du message") {
		t.Errorf("returned headers:\n%s", headers)
	}
	if n := len(op.Messages(OtherUser, "INBOX")); n != 1 {
		t.Errorf("%s: %d messages, want 1", OtherUser, n)
	}
}

// IDLE is woken up by a delivery, whether by SMTP or by Deliver.
func TestOperatorIdle(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	exists := make(chan uint32, 10)
	ic := opIMAP(t, op, nil, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if err := ic.Login(CPSUser, DefaultPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := ic.Idle()
	if err != nil {
		t.Fatal(err)
	}
	wait := func(want uint32) {
		t.Helper()
		select {
		case n := <-exists:
			if n != want {
				t.Errorf("EXISTS %d, want %d", n, want)
			}
		case <-time.After(time.Minute): // from the delivery on: a hang guard
			t.Fatalf("IDLE: no EXISTS %d within a minute", want)
		}
	}
	start := time.Now()
	c := opSMTPLogin(t, op, op.PKI.ORG)
	if err := opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "pendant idle")); err != nil {
		t.Fatal(err)
	}
	wait(1)
	op.Deliver(CPSUser, []byte(opMessage(OtherUser, CPSUser, "injecte")))
	wait(2)
	t.Logf("two deliveries seen in IDLE in %v", time.Since(start))
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

// The IMAP commands a receiving application uses: APPEND, CREATE, UID
// MOVE, UID STORE and UID EXPUNGE; Messages sees their effect.
func TestOperatorIMAPCommands(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	op.Deliver(ORGUser, []byte(opMessage(CPSUser, ORGUser, "premier")))
	ic := opIMAP(t, op, op.PKI.ORG, nil)
	if err := ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []imap.Cap{imap.CapMove, imap.CapUIDPlus, imap.CapIdle} {
		if !ic.Caps().Has(c) {
			t.Errorf("capability %s missing from %v", c, ic.Caps())
		}
	}
	second := opMessage(CPSUser, ORGUser, "second")
	cmd := ic.Append("INBOX", int64(len(second)), nil)
	cmd.Write([]byte(second))
	cmd.Close()
	ad, err := cmd.Wait()
	if err != nil || ad.UID != 2 {
		t.Fatalf("APPEND: %+v %v", ad, err)
	}
	if err := ic.Create("Traites", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Move(imap.UIDSetNum(1), "Traites").Wait(); err != nil {
		t.Fatalf("UID MOVE: %v", err)
	}
	if err := ic.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := ic.UIDExpunge(imap.UIDSetNum(2)).Close(); err != nil {
		t.Fatalf("UID EXPUNGE: %v", err)
	}
	if n := len(op.Messages(ORGUser, "INBOX")); n != 0 {
		t.Errorf("INBOX: %d messages, want 0", n)
	}
	moved := op.Messages(ORGUser, "Traites")
	if len(moved) != 1 || !bytes.Contains(moved[0], []byte("Subject: premier")) {
		t.Errorf("Traites: %q", moved)
	}
}

// WaitMessages gives up with the count when the context ends; Messages
// and Deliver fail the test for an unknown mailbox.
func TestOperatorHelpers(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := op.WaitMessages(ctx, CPSUser, 1)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "holds 0 messages, want 1") {
		t.Errorf("WaitMessages: %v", err)
	}
	if err := op.WaitMessages(context.Background(), "inconnu@"+TestDomain, 1); err == nil {
		t.Error("WaitMessages on an unknown mailbox succeeded")
	}
	op.Deliver(CPSUser, []byte(opMessage(OtherUser, CPSUser, "direct")))
	if err := op.WaitMessages(context.Background(), CPSUser, 1); err != nil {
		t.Error(err)
	}

	rec := &opRecorder{TB: t}
	op2 := NewOperator(rec, &OperatorConfig{PKI: op.PKI})
	op2.AddToken("jeton", "inconnu@"+TestDomain)
	op2.Deliver("inconnu@"+TestDomain, []byte("x"))
	if op2.Messages(CPSUser, "Absent") != nil || op2.Messages("inconnu@"+TestDomain, "INBOX") != nil {
		t.Error("Messages of a missing folder or mailbox returned messages")
	}
	if len(rec.errors) != 4 {
		t.Errorf("errors reported: %q, want 4", rec.errors)
	}
	for _, e := range rec.errors {
		if !strings.Contains(e, "inconnu@") && !strings.Contains(e, "Absent") {
			t.Errorf("error %q names neither the mailbox nor the folder", e)
		}
	}
}

// opRecorder records Errorf instead of failing.
type opRecorder struct {
	testing.TB
	errors []string
}

func (r *opRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
