// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"bytes"
	"context"
	"crypto/tls"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang guard for the whole exchange
	t.Cleanup(func() { conn.Close() })
	c, err := smtp.NewClient(conn, "localhost")
	require.NoError(t, err)
	require.NoError(t, c.Hello("client.test"))
	return c, c.StartTLS(opClientTLS(op.PKI, leaf))
}

// opSMTPLogin is opSMTP then AUTH EXTERNAL; it fails the test on error.
func opSMTPLogin(t *testing.T, op *Operator, leaf *Leaf) *smtp.Client {
	t.Helper()
	c, err := opSMTP(t, op, leaf)
	require.NoError(t, err, "STARTTLS")
	require.NoError(t, c.Auth(&opSASL{mech: "EXTERNAL"}), "AUTH EXTERNAL")
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
	require.NoError(t, err, "IMAP STARTTLS")
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
	if assert.ErrorAs(t, err, &te, "%s: want %d %s", what, code, enhanced) {
		assert.Equal(t, code, te.Code, "%s: %v", what, err)
		assert.True(t, strings.HasPrefix(te.Msg, enhanced+" "), "%s: %v, want the enhanced status %s", what, err, enhanced)
	}
}

// The TLS and authentication rules of the submission server, seen by
// net/smtp: STARTTLS offered, AUTH only after it, EXTERNAL with the ORG
// certificate maps to its mailbox, which may send only as itself.
func TestOperatorSMTPExternal(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	conn, err := net.Dial("tcp", op.SMTPAddr)
	require.NoError(t, err)
	defer conn.Close()
	plain, err := smtp.NewClient(conn, "localhost")
	require.NoError(t, err)
	require.NoError(t, plain.Hello("client.test"))
	ok, _ := plain.Extension("STARTTLS")
	assert.True(t, ok, "STARTTLS not offered")
	ok, mechs := plain.Extension("AUTH")
	assert.False(t, ok, "AUTH %s offered before TLS", mechs)
	wantSMTPCode(t, "MAIL before TLS", plain.Mail(ORGUser), 530, "5.7.0")

	c := opSMTPLogin(t, op, op.PKI.ORG)
	for ext, want := range map[string]string{"AUTH": "EXTERNAL XOAUTH2 OAUTHBEARER PLAIN", "DSN": "", "SIZE": "25000000"} {
		ok, param := c.Extension(ext)
		assert.True(t, ok, "EHLO after STARTTLS: %s offered", ext)
		assert.Equal(t, want, param, "EHLO after STARTTLS: %s", ext)
	}
	assert.Contains(t, op.Log(), "EXTERNAL authentication of "+ORGUser, "the ORG certificate did not log in as %s", ORGUser)
	wantSMTPCode(t, "MAIL as another user", c.Mail(CPSUser), 553, "5.7.1")
	require.NoError(t, c.Reset())
	require.NoError(t, opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "compte rendu")))
	assert.NoError(t, c.Quit())

	// Implicit TLS (port 465 style) with the CPS certificate.
	tc, err := tls.Dial("tcp", op.SMTPSAddr, opClientTLS(op.PKI, op.PKI.CPS))
	require.NoError(t, err)
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang guard for the whole exchange
	c, err = smtp.NewClient(tc, "localhost")
	if err == nil {
		err = c.Auth(&opSASL{mech: "EXTERNAL"})
	}
	if err == nil {
		err = opSend(c, CPSUser, []string{OtherUser}, opMessage(CPSUser, OtherUser, "en TLS implicite"))
	}
	assert.NoError(t, err, "implicit TLS submission with the CPS certificate")

	// The copy in the recipient's INBOX, read back over IMAP with the CPS
	// certificate.
	got := op.Messages(CPSUser, "INBOX")
	require.Len(t, got, 1, "INBOX of %s", CPSUser)
	m, err := mail.ReadMessage(bytes.NewReader(got[0]))
	require.NoError(t, err)
	for field, want := range map[string]string{"Return-Path": "<" + ORGUser + ">", "Delivered-To": CPSUser, "Subject": "compte rendu"} {
		assert.Equal(t, want, m.Header.Get(field), field)
	}
	r := m.Header.Get("Received")
	assert.Contains(t, r, "with ESMTPSA", "Received")
	assert.Contains(t, r, "by "+DefaultServerName, "Received")

	ic := opIMAP(t, op, op.PKI.CPS, nil)
	require.NoError(t, ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}}), "IMAP EXTERNAL with the CPS certificate")
	_, err = ic.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	section := &imap.FetchItemBodySection{}
	msgs, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	require.NoError(t, err, "FETCH")
	require.Len(t, msgs, 1, "FETCH")
	assert.Equal(t, got[0], msgs[0].FindBodySection(section), "IMAP FETCH and Messages differ")
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
			// The TLS alert has no exported type: its text names the
			// certificate.
			assert.ErrorContains(t, err, "certificate", "SMTP STARTTLS then EXTERNAL: want a refused certificate")
			ic, err := imapclient.DialStartTLS(op.IMAPAddr, &imapclient.Options{TLSConfig: opClientTLS(p, leaf)})
			if err == nil {
				err = ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}})
				ic.Close()
			}
			// imapclient reads the TLS alert in its reader goroutine: the
			// error of the next command may only say the connection closed.
			assert.Error(t, err, "IMAP STARTTLS then EXTERNAL with %s succeeded", cn)
			for _, addr := range []string{op.SMTPSAddr, op.IMAPSAddr} {
				tc, err := tls.Dial("tcp", addr, opClientTLS(p, leaf))
				if err == nil {
					tc.SetDeadline(time.Now().Add(time.Minute)) // a hang guard
					_, err = tc.Read(make([]byte, 64))          // TLS 1.3: the refusal comes after the client's Finished
					tc.Close()
				}
				assert.ErrorContains(t, err, "certificate", "implicit TLS %s: want a refused certificate", addr)
			}
		})
	}
	// One refusal per listener: SMTP and IMAP, STARTTLS and implicit TLS.
	log := op.Log()
	assert.Equal(t, 4, strings.Count(log, p.Revoked.Cert.Subject.String()+`" refused: revoked`), "revocations the operator logged:\n%s", log)

	c, err := opSMTP(t, op, nil)
	require.NoError(t, err)
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
		require.NoError(t, err)
		good := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-valide")}
		require.NoError(t, c.Auth(good), "good token")
		require.Empty(t, good.seen(), "good token: challenges")
		assert.NoError(t, opSend(c, CPSUser, []string{OtherUser}, opMessage(CPSUser, OtherUser, "par jeton")))

		c, err = opSMTP(t, op, nil)
		require.NoError(t, err)
		bad := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-faux")}
		wantSMTPCode(t, "bad token", c.Auth(bad), 535, "5.7.8")
		assert.Equal(t, []string{refusal401}, bad.seen(), "bad token challenges")

		// A good token presented for another user.
		c, err = opSMTP(t, op, nil)
		require.NoError(t, err)
		wantSMTPCode(t, "token of another user", c.Auth(&opSASL{mech: "XOAUTH2", ir: xoauth2IR(OtherUser, "jeton-valide")}), 535, "5.7.8")
	})

	t.Run("SMTP OAUTHBEARER", func(t *testing.T) {
		c, err := opSMTP(t, op, nil)
		require.NoError(t, err)
		assert.NoError(t, c.Auth(&opSASL{mech: "OAUTHBEARER", ir: []byte("n,a=" + CPSUser + ",\x01host=localhost\x01port=587\x01auth=Bearer jeton-valide\x01\x01")}), "good token")
		c, err = opSMTP(t, op, nil)
		require.NoError(t, err)
		bad := &opSASL{mech: "OAUTHBEARER", ir: []byte("n,,\x01auth=Bearer jeton-faux\x01\x01")}
		wantSMTPCode(t, "bad token", c.Auth(bad), 535, "5.7.8")
		if ch := bad.seen(); assert.Len(t, ch, 1, "bad token challenges %q", ch) {
			assert.Contains(t, ch[0], `"status":"invalid_token"`, "bad token challenge")
		}
	})

	t.Run("IMAP XOAUTH2", func(t *testing.T) {
		ic := opIMAP(t, op, nil, nil)
		bad := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-faux")}
		err := ic.Authenticate(opSASLClient{bad})
		var ie *imap.Error
		if assert.ErrorAs(t, err, &ie, "bad token: want NO [AUTHENTICATIONFAILED]") {
			assert.Equal(t, imap.StatusResponseTypeNo, ie.Type, "bad token")
			assert.Equal(t, imap.ResponseCodeAuthenticationFailed, ie.Code, "bad token")
		}
		assert.Equal(t, []string{refusal401}, bad.seen(), "bad token challenges")
		good := &opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-valide")}
		require.NoError(t, ic.Authenticate(opSASLClient{good}), "good token after a bad one")
		st, err := ic.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if assert.NoError(t, err, "STATUS INBOX") && assert.NotNil(t, st.NumMessages, "STATUS INBOX: MESSAGES") {
			assert.Zero(t, *st.NumMessages, "STATUS INBOX: MESSAGES")
		}
	})
}

// Passwords: IMAP LOGIN and SMTP AUTH PLAIN.
func TestOperatorPasswords(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	ic := opIMAP(t, op, nil, nil)
	assert.Error(t, ic.Login(OtherUser, "faux").Wait(), "IMAP LOGIN with a wrong password succeeded")
	assert.NoError(t, ic.Login(OtherUser, DefaultPassword).Wait(), "IMAP LOGIN")
	c, err := opSMTP(t, op, nil)
	require.NoError(t, err)
	wantSMTPCode(t, "PLAIN wrong password", c.Auth(smtp.PlainAuth("", OtherUser, "faux", "localhost")), 535, "5.7.8")
	c, err = opSMTP(t, op, nil)
	require.NoError(t, err)
	assert.NoError(t, c.Auth(smtp.PlainAuth("", OtherUser, DefaultPassword, "localhost")), "PLAIN")
}

// Recipient checks at RCPT and the size limit.
func TestOperatorRefusals(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t), MaxMessageBytes: 4000})
	c := opSMTPLogin(t, op, op.PKI.ORG)
	ok, size := c.Extension("SIZE")
	assert.True(t, ok, "SIZE offered")
	assert.Equal(t, "4000", size, "SIZE")
	require.NoError(t, c.Mail(ORGUser))
	wantSMTPCode(t, "unknown user", c.Rcpt("inconnu@"+TestDomain), 550, "5.1.1")
	wantSMTPCode(t, "other domain", c.Rcpt("dr.martin@ailleurs.mssante.fr"), 550, "5.1.2")
	assert.NoError(t, c.Rcpt(strings.ToUpper(CPSUser)), "known user in capitals")
	require.NoError(t, c.Reset())
	_, err := opCmd(c, 250, "MAIL FROM:<%s> SIZE=5000", ORGUser)
	wantSMTPCode(t, "MAIL SIZE above the limit", err, 552, "5.3.4")
	big := opMessage(ORGUser, CPSUser, "gros") + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 70)
	wantSMTPCode(t, "DATA above the limit", opSend(c, ORGUser, []string{CPSUser}, big), 552, "5.3.4")
	assert.Empty(t, op.Messages(CPSUser, "INBOX"), "messages delivered")

	ic := opIMAP(t, op, nil, nil)
	require.NoError(t, ic.Login(CPSUser, DefaultPassword).Wait())
	assert.True(t, ic.Caps().Has("APPENDLIMIT=4000"), "capabilities %v, want APPENDLIMIT=4000", ic.Caps())
	cmd := ic.Append("INBOX", int64(len(big)), nil)
	cmd.Write([]byte(big))
	cmd.Close()
	var ie *imap.Error
	_, err = cmd.Wait()
	if assert.ErrorAs(t, err, &ie, "APPEND above the limit: want NO [TOOBIG]") {
		assert.Equal(t, imap.ResponseCodeTooBig, ie.Code, "APPEND above the limit")
	}
}

// A recipient given NOTIFY=SUCCESS gets the sender a success DSN: a
// multipart/report with the delivery-status fields and the original
// headers. A recipient without it does not.
func TestOperatorSuccessDSN(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	c := opSMTPLogin(t, op, op.PKI.ORG)
	const envid = "20250101.abc@lps.test"
	_, err := opCmd(c, 250, "MAIL FROM:<%s> RET=HDRS ENVID=%s", ORGUser, envid)
	require.NoError(t, err)
	_, err = opCmd(c, 250, "RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;%s", CPSUser, CPSUser)
	require.NoError(t, err)
	_, err = opCmd(c, 250, "RCPT TO:<%s> NOTIFY=FAILURE", OtherUser)
	require.NoError(t, err)
	w, err := c.Data()
	require.NoError(t, err)
	_, err = io.WriteString(w, opMessage(ORGUser, CPSUser, "avec accuse"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	require.NoError(t, op.WaitMessages(ctx, ORGUser, 1))
	got := op.Messages(ORGUser, "INBOX")
	require.Len(t, got, 1, "messages for the sender, want 1 DSN")
	m, err := mail.ReadMessage(bytes.NewReader(got[0]))
	require.NoError(t, err)
	assert.Equal(t, "<>", m.Header.Get("Return-Path"), "DSN Return-Path")
	ct := m.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	require.NoError(t, err, "DSN Content-Type %q", ct)
	require.Equal(t, "multipart/report", mt, "DSN Content-Type %q", ct)
	require.Equal(t, "delivery-status", params["report-type"], "DSN Content-Type %q", ct)
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	var status, headers string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		ct := p.Header.Get("Content-Type")
		types = append(types, strings.SplitN(ct, ";", 2)[0])
		switch {
		case ct == "message/delivery-status":
			status = string(b)
		case ct == "text/rfc822-headers":
			headers = string(b)
		}
	}
	assert.Equal(t, []string{"text/plain", "message/delivery-status", "text/rfc822-headers"}, types, "DSN parts")
	for _, want := range []string{
		"Reporting-MTA: dns; " + DefaultServerName + "\r\n",
		"Original-Envelope-Id: " + envid + "\r\n",
		"\r\n\r\nFinal-Recipient: rfc822; " + CPSUser + "\r\nOriginal-Recipient: rfc822; " + CPSUser + "\r\nAction: delivered\r\nStatus: 2.0.0\r\n",
	} {
		assert.Contains(t, status, want, "delivery-status")
	}
	assert.NotContains(t, status, OtherUser, "delivery-status reports %s, which did not ask for SUCCESS", OtherUser)
	assert.Contains(t, headers, "Message-ID: <avec-accuse@lps.test>\r\n", "returned headers")
	assert.NotContains(t, headers, "Corps du message", "returned headers: the body")
	assert.Len(t, op.Messages(OtherUser, "INBOX"), 1, "messages of %s", OtherUser)
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
	require.NoError(t, ic.Login(CPSUser, DefaultPassword).Wait())
	_, err := ic.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	idle, err := ic.Idle()
	require.NoError(t, err)
	wait := func(want uint32) {
		t.Helper()
		select {
		case n := <-exists:
			assert.Equal(t, want, n, "EXISTS")
		case <-time.After(time.Minute): // from the delivery on: a hang guard
			t.Fatalf("IDLE: no EXISTS %d within a minute", want)
		}
	}
	start := time.Now()
	c := opSMTPLogin(t, op, op.PKI.ORG)
	require.NoError(t, opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "pendant idle")))
	wait(1)
	op.Deliver(CPSUser, []byte(opMessage(OtherUser, CPSUser, "injecte")))
	wait(2)
	t.Logf("two deliveries seen in IDLE in %v", time.Since(start))
	require.NoError(t, idle.Close())
	require.NoError(t, idle.Wait())
}

// The IMAP commands a receiving application uses: APPEND, CREATE, UID
// MOVE, UID STORE and UID EXPUNGE; Messages sees their effect.
func TestOperatorIMAPCommands(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	op.Deliver(ORGUser, []byte(opMessage(CPSUser, ORGUser, "premier")))
	ic := opIMAP(t, op, op.PKI.ORG, nil)
	require.NoError(t, ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}}))
	for _, c := range []imap.Cap{imap.CapMove, imap.CapUIDPlus, imap.CapIdle} {
		assert.True(t, ic.Caps().Has(c), "capability %s missing from %v", c, ic.Caps())
	}
	second := opMessage(CPSUser, ORGUser, "second")
	cmd := ic.Append("INBOX", int64(len(second)), nil)
	cmd.Write([]byte(second))
	cmd.Close()
	ad, err := cmd.Wait()
	require.NoError(t, err, "APPEND")
	require.Equal(t, imap.UID(2), ad.UID, "APPEND: UID")
	require.NoError(t, ic.Create("Traites", nil).Wait())
	_, err = ic.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	_, err = ic.Move(imap.UIDSetNum(1), "Traites").Wait()
	require.NoError(t, err, "UID MOVE")
	require.NoError(t, ic.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
	require.NoError(t, ic.UIDExpunge(imap.UIDSetNum(2)).Close(), "UID EXPUNGE")
	assert.Empty(t, op.Messages(ORGUser, "INBOX"), "INBOX")
	moved := op.Messages(ORGUser, "Traites")
	if assert.Len(t, moved, 1, "Traites") {
		assert.Contains(t, string(moved[0]), "Subject: premier", "Traites")
	}
}

// WaitMessages gives up with the count when the context ends; Messages
// and Deliver fail the test for an unknown mailbox.
func TestOperatorHelpers(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := op.WaitMessages(ctx, CPSUser, 1)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "WaitMessages")
	assert.ErrorContains(t, err, "holds 0 messages, want 1", "WaitMessages: the error gives the count")
	assert.Error(t, op.WaitMessages(context.Background(), "inconnu@"+TestDomain, 1), "WaitMessages on an unknown mailbox succeeded")
	op.Deliver(CPSUser, []byte(opMessage(OtherUser, CPSUser, "direct")))
	assert.NoError(t, op.WaitMessages(context.Background(), CPSUser, 1))

	rec := &opRecorder{TB: t}
	op2 := NewOperator(rec, &OperatorConfig{PKI: op.PKI})
	op2.AddToken("jeton", "inconnu@"+TestDomain)
	op2.Deliver("inconnu@"+TestDomain, []byte("x"))
	assert.Nil(t, op2.Messages(CPSUser, "Absent"), "Messages of a missing folder returned messages")
	assert.Nil(t, op2.Messages("inconnu@"+TestDomain, "INBOX"), "Messages of a missing mailbox returned messages")
	assert.Len(t, rec.errors, 4, "errors reported: %q", rec.errors)
	for _, e := range rec.errors {
		assert.True(t, strings.Contains(e, "inconnu@") || strings.Contains(e, "Absent"), "error %q names neither the mailbox nor the folder", e)
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
