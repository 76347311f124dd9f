// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// Delivery is a message the operator has just put in a mailbox's INBOX:
// by SMTP (with the Return-Path, Delivered-To and Received fields it
// adds), as a success DSN, or through [Operator.Deliver]. See
// [OperatorConfig.Delivered].
type Delivery struct {
	// Address is the mailbox (as configured in the users).
	Address string
	// Raw is the message as stored. It must not be modified.
	Raw []byte
	// Time is when it was stored.
	Time time.Time
}

// Faults the operator can be told to commit, for testing a client's
// handling of a refusal, a broken connection or a slow server. Each is set
// by a method of [Operator] and cleared by [Operator.ClearFaults].
type faults struct {
	mu          sync.Mutex
	refuseRcpt  []*smtp.SMTPError // answered to the next RCPT commands, in order
	cutData     int               // DATA commands still to cut
	delay       time.Duration     // before each answer to MAIL, RCPT and DATA
	revoked     map[string]string // serial (hex) → subject, revoked at run time
	removedToks map[string]bool   // tokens expired by ExpireToken
}

// RefuseNextRcpt makes the SMTP server refuse the next RCPT command (of
// any connection) with code, the enhanced status code (such as "4.2.1" or
// "5.1.1") and text; calls queue up, one refusal per RCPT. code must be a
// 4xx or 5xx reply code.
func (op *Operator) RefuseNextRcpt(code int, enhanced, text string) error {
	if code < 400 || code > 599 {
		return fmt.Errorf("baltest: RefuseNextRcpt: reply code %d is not 4xx or 5xx", code)
	}
	var ec smtp.EnhancedCode
	if _, err := fmt.Sscanf(enhanced, "%d.%d.%d", &ec[0], &ec[1], &ec[2]); err != nil || ec[0] != code/100 {
		return fmt.Errorf("baltest: RefuseNextRcpt: enhanced status %q does not match reply code %d", enhanced, code)
	}
	if text == "" {
		text = "Recipient refused (test operator fault)"
	}
	op.faults.mu.Lock()
	op.faults.refuseRcpt = append(op.faults.refuseRcpt, &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: text})
	op.faults.mu.Unlock()
	op.logf("fault set: refuse the next RCPT with %d %s", code, enhanced)
	return nil
}

// CutNextData makes the SMTP server close the connection in the middle of
// the next DATA (or BDAT) transfer, after reading part of the message and
// before answering: the client sees the connection drop and the message is
// delivered nowhere.
func (op *Operator) CutNextData() {
	op.faults.mu.Lock()
	op.faults.cutData++
	op.faults.mu.Unlock()
	op.logf("fault set: cut the connection during the next DATA")
}

// SetDelay makes the SMTP server wait d before answering each MAIL, RCPT
// and DATA command, and the IMAP server wait d before each SELECT, FETCH,
// and SEARCH answer; zero removes the delay.
func (op *Operator) SetDelay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	op.faults.mu.Lock()
	op.faults.delay = d
	op.faults.mu.Unlock()
	op.logf("fault set: delay answers by %v", d)
}

// ExpireToken makes token, given to [Operator.AddToken] before, refused
// from now on as an expired token is (the XOAUTH2 or OAUTHBEARER error
// challenge, then 535 5.7.8 or NO [AUTHENTICATIONFAILED]). It reports
// whether the token was known.
func (op *Operator) ExpireToken(token string) bool {
	op.mu.Lock()
	_, ok := op.tokens[token]
	delete(op.tokens, token)
	op.mu.Unlock()
	if ok {
		op.faults.mu.Lock()
		if op.faults.removedToks == nil {
			op.faults.removedToks = map[string]bool{}
		}
		op.faults.removedToks[token] = true
		op.faults.mu.Unlock()
		op.logf("fault set: a token of the operator expired")
	}
	return ok
}

// Revoke makes the operator refuse cert from now on, at the TLS handshake
// of new connections, as if it had appeared in its authority's CRL. The
// PKI's CRLs are not changed (see [PKI.ReissueCRL] for that).
func (op *Operator) Revoke(cert *x509.Certificate) {
	op.faults.mu.Lock()
	if op.faults.revoked == nil {
		op.faults.revoked = map[string]string{}
	}
	op.faults.revoked[cert.SerialNumber.Text(16)] = cert.Subject.String()
	op.faults.mu.Unlock()
	op.logf("fault set: certificate %q revoked", cert.Subject.String())
}

// ClearFaults removes the pending refusals and cuts and the delay. Run-time
// revocations and expired tokens stay (a revoked certificate is not
// reinstated); [Operator.Reset] clears them too.
func (op *Operator) ClearFaults() {
	op.faults.mu.Lock()
	op.faults.refuseRcpt, op.faults.cutData, op.faults.delay = nil, 0, 0
	op.faults.mu.Unlock()
}

// Reset empties every folder of every mailbox (and deletes the folders
// other than INBOX), clears the faults and reinstates the certificates
// revoked by [Operator.Revoke]. Tokens stay as they are.
func (op *Operator) Reset() error {
	op.ClearFaults()
	op.faults.mu.Lock()
	op.faults.revoked = nil
	op.faults.mu.Unlock()
	var errs []error
	for _, u := range op.Users {
		if err := op.emptyMailbox(u.Address); err != nil {
			errs = append(errs, fmt.Errorf("baltest: reset of %s: %w", u.Address, err))
		}
	}
	op.logf("operator reset")
	return errors.Join(errs...)
}

// emptyMailbox deletes the folders of address other than INBOX and
// expunges every message of its INBOX, through the IMAP server so that
// connected clients are told.
func (op *Operator) emptyMailbox(address string) error {
	box := op.mailbox(address)
	c, err := imapclient.DialTLS(op.IMAPSAddr, &imapclient.Options{TLSConfig: op.PKI.ClientTLSConfig(nil)})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(box.user.Address, op.secret).Wait(); err != nil {
		return err
	}
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return err
	}
	for _, m := range list {
		if strings.EqualFold(m.Mailbox, "INBOX") {
			continue
		}
		if err := c.Delete(m.Mailbox).Wait(); err != nil {
			return err
		}
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		return err
	}
	if sel.NumMessages > 0 {
		all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
		if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return err
		}
		if err := c.Expunge().Close(); err != nil {
			return err
		}
	}
	return c.Logout().Wait()
}

// nextRcptFault returns the refusal queued for this RCPT, or nil.
func (op *Operator) nextRcptFault() *smtp.SMTPError {
	op.faults.mu.Lock()
	defer op.faults.mu.Unlock()
	if len(op.faults.refuseRcpt) == 0 {
		return nil
	}
	e := op.faults.refuseRcpt[0]
	op.faults.refuseRcpt = op.faults.refuseRcpt[1:]
	return e
}

// takeCutData reports whether this DATA must be cut.
func (op *Operator) takeCutData() bool {
	op.faults.mu.Lock()
	defer op.faults.mu.Unlock()
	if op.faults.cutData == 0 {
		return false
	}
	op.faults.cutData--
	return true
}

// pause waits the delay set by SetDelay.
func (op *Operator) pause() {
	op.faults.mu.Lock()
	d := op.faults.delay
	op.faults.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
}

// revokedAtRunTime reports whether cert was revoked by Revoke.
func (op *Operator) revokedAtRunTime(cert *x509.Certificate) bool {
	op.faults.mu.Lock()
	defer op.faults.mu.Unlock()
	_, ok := op.faults.revoked[cert.SerialNumber.Text(16)]
	return ok
}

// tokenExpired reports whether token was expired by ExpireToken.
func (op *Operator) tokenExpired(token string) bool {
	op.faults.mu.Lock()
	defer op.faults.mu.Unlock()
	return op.faults.removedToks[token]
}

// cutReader reads up to half the message, then closes the connection.
func (s *smtpSession) cutData(r io.Reader) error {
	buf := make([]byte, 4096)
	io.ReadAtLeast(r, buf, 1) // part of the message has arrived
	s.op.logf("SMTP %s: connection cut during DATA (fault)", s.remote())
	s.conn.Conn().Close()
	return smtpError(421, smtp.EnhancedCode{4, 4, 2}, "Connection cut (test operator fault)")
}
