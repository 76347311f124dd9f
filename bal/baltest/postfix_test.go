package baltest

import (
	"context"
	"fmt"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"
)

// submit sends msg through Postfix over STARTTLS with leaf as the client
// certificate, asking for DSNs of every outcome. It returns the first error
// with the step that failed.
func submit(pf *Postfix, leaf *Leaf, from string, to []string, msg string) error {
	c, err := smtp.Dial(pf.SubmissionAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("lps.test"); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("no STARTTLS")
	}
	cfg := pf.PKI.ClientTLSConfig(leaf)
	cfg.ServerName = "localhost"
	if err := c.StartTLS(cfg); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if ok, _ := c.Extension("DSN"); !ok {
		return fmt.Errorf("DSN not advertised after STARTTLS")
	}
	// net/smtp has no DSN parameters: MAIL and RCPT through its textproto
	// connection.
	cmd := func(code int, format string, args ...any) error {
		id, err := c.Text.Cmd(format, args...)
		if err != nil {
			return err
		}
		c.Text.StartResponse(id)
		defer c.Text.EndResponse(id)
		if _, msg, err := c.Text.ReadResponse(code); err != nil {
			return fmt.Errorf("%s: %w (%s)", strings.Fields(format)[0], err, msg)
		}
		return nil
	}
	if err := cmd(250, "MAIL FROM:<%s> RET=HDRS ENVID=baltest-1", from); err != nil {
		return err
	}
	for _, r := range to {
		if err := cmd(250, "RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;%s", r, r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	return c.Quit()
}

func TestPostfix(t *testing.T) {
	p := sharedPKI(t)
	d := StartDovecot(t, DovecotConfig{PKI: p})
	pf := StartPostfix(t, PostfixConfig{Dovecot: d})

	// Accepted with the ORG certificate: delivered to the known user, a
	// success DSN ("relayed") and a failure DSN (unknown user, 5.1.1) come
	// back to the sender's mailbox.
	err := submit(pf, p.ORG, ORGUser, []string{CPSUser, "inconnu@" + TestDomain}, testMessage)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if n, err := d.WaitMessages(ctx, CPSUser, 1); err != nil || n != 1 {
		t.Fatalf("INBOX of %s: %d messages, %v", CPSUser, n, err)
	}
	if _, err := d.WaitMessages(ctx, ORGUser, 2); err != nil {
		t.Fatalf("DSNs: %v", err)
	}
	paths, _ := d.Messages(CPSUser)
	got, _ := os.ReadFile(paths[0])
	if !strings.Contains(string(got), "Message-ID: <baltest-1@test.mssante.fr>") || !strings.Contains(string(got), "Bonjour.") {
		t.Errorf("delivered message:\n%s", got)
	}
	var dsns string
	paths, _ = d.Messages(ORGUser)
	for _, path := range paths {
		b, _ := os.ReadFile(path)
		dsns += string(b)
	}
	for _, want := range []string{"Action: relayed", "Action: failed", "Status: 5.1.1", "Original-Envelope-Id: baltest-1"} {
		if !strings.Contains(dsns, want) {
			t.Errorf("DSNs do not contain %q", want)
		}
	}

	// Refused: no certificate, an expired one, a revoked one (by
	// fingerprint), and mail to a domain outside the operator.
	for _, tc := range []struct {
		name    string
		leaf    *Leaf
		to      string
		wantErr string
	}{
		{"no certificate", nil, CPSUser, "No client certificate presented"},
		{"expired", p.Expired, CPSUser, "not trusted"},
		{"revoked", p.Revoked, CPSUser, "client certificate revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := submit(pf, tc.leaf, ORGUser, []string{tc.to}, testMessage)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("submission: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
	if n, _ := d.CountMessages(CPSUser); n != 1 {
		t.Errorf("INBOX of %s holds %d messages after the refusals, want 1", CPSUser, n)
	}
}
