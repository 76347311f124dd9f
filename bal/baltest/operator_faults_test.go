// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RefuseNextRcpt refuses exactly the queued RCPT commands, in order, with
// the codes given; the following RCPT is accepted again.
func TestOperatorRefuseNextRcpt(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	require.Error(t, op.RefuseNextRcpt(250, "2.0.0", ""), "a success code is not a refusal")
	require.Error(t, op.RefuseNextRcpt(450, "5.1.1", ""), "class mismatch")
	require.NoError(t, op.RefuseNextRcpt(450, "4.2.1", "Mailbox busy"))
	require.NoError(t, op.RefuseNextRcpt(550, "5.7.1", ""))
	c := opSMTPLogin(t, op, op.PKI.ORG)
	require.NoError(t, c.Mail(ORGUser))
	wantSMTPCode(t, "first RCPT", c.Rcpt(CPSUser), 450, "4.2.1")
	wantSMTPCode(t, "second RCPT", c.Rcpt(CPSUser), 550, "5.7.1")
	require.NoError(t, c.Rcpt(CPSUser), "third RCPT: the faults are used up")
}

// CutNextData drops the connection during DATA: the client gets no reply
// and nothing is delivered; the next connection works.
func TestOperatorCutNextData(t *testing.T) {
	var mu sync.Mutex
	var got []Delivery
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t), Delivered: func(d Delivery) {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
	}})
	op.CutNextData()
	c := opSMTPLogin(t, op, op.PKI.ORG)
	err := opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "coupe")+strings.Repeat("x", 20000)+"\r\n")
	require.Error(t, err, "the DATA of a cut connection succeeded")
	assert.NotContains(t, err.Error(), "250", "the server must not accept the message")
	assert.Empty(t, op.Messages(CPSUser, "INBOX"), "a cut message was delivered")

	c = opSMTPLogin(t, op, op.PKI.ORG)
	require.NoError(t, opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "entier")))
	require.Len(t, op.Messages(CPSUser, "INBOX"), 1)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1, "Delivered hook calls")
	assert.Equal(t, CPSUser, got[0].Address)
	assert.Contains(t, string(got[0].Raw), "Subject: entier")
	assert.Contains(t, string(got[0].Raw), "Return-Path: <"+ORGUser+">", "the hook sees the message as stored")
}

// SetDelay holds the SMTP and IMAP answers back by at least the delay
// (a lower bound only: a busy machine can only make it longer).
func TestOperatorSetDelay(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	c := opSMTPLogin(t, op, op.PKI.ORG)
	const d = 300 * time.Millisecond
	op.SetDelay(d)
	start := time.Now()
	require.NoError(t, c.Mail(ORGUser))
	assert.GreaterOrEqual(t, time.Since(start), d, "MAIL answered before the delay")
	ic := opIMAP(t, op, op.PKI.ORG, nil)
	require.NoError(t, ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}}))
	start = time.Now()
	_, err := ic.Select("INBOX", nil).Wait()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), d, "SELECT answered before the delay")
	op.ClearFaults()
	require.NoError(t, c.Rcpt(CPSUser))
}

// ExpireToken turns a working token into a refused one, with the
// "expired" reason in the operator's log.
func TestOperatorExpireToken(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	op.AddToken("jeton-1", CPSUser)
	login := func() error {
		c, err := opSMTP(t, op, nil)
		require.NoError(t, err)
		return c.Auth(&opSASL{mech: "XOAUTH2", ir: xoauth2IR(CPSUser, "jeton-1")})
	}
	require.NoError(t, login(), "before expiry")
	assert.True(t, op.ExpireToken("jeton-1"))
	assert.False(t, op.ExpireToken("inconnu"), "an unknown token is reported")
	wantSMTPCode(t, "after expiry", login(), 535, "5.7.8")
	assert.Contains(t, op.Log(), "the bearer token has expired")
}

// Revoke refuses a valid certificate at the next handshakes; Reset
// reinstates it and empties the mailboxes.
func TestOperatorRevokeAndReset(t *testing.T) {
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t)})
	c := opSMTPLogin(t, op, op.PKI.ORG)
	require.NoError(t, opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "avant")))
	op.Revoke(op.PKI.ORG.Cert)
	tc, err := tls.Dial("tcp", op.SMTPSAddr, opClientTLS(op.PKI, op.PKI.ORG))
	if err == nil {
		tc.SetDeadline(time.Now().Add(time.Minute))
		_, err = io.ReadFull(tc, make([]byte, 4)) // TLS 1.3: the refusal follows the client's Finished
		tc.Close()
	}
	require.ErrorContains(t, err, "certificate", "a revoked certificate was accepted")
	// The CPS certificate is not concerned.
	opSMTPLogin(t, op, op.PKI.CPS)

	ic := opIMAP(t, op, op.PKI.CPS, nil)
	require.NoError(t, ic.Authenticate(opSASLClient{&opSASL{mech: "EXTERNAL", ir: []byte{}}}))
	require.NoError(t, ic.Create("Archives", nil).Wait())

	require.NoError(t, op.Reset())
	assert.Empty(t, op.Messages(CPSUser, "INBOX"), "INBOX after Reset")
	list, err := ic.List("", "*", nil).Collect()
	require.NoError(t, err)
	require.Len(t, list, 1, "folders after Reset: %v", list)
	opSMTPLogin(t, op, op.PKI.ORG) // reinstated
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c = opSMTPLogin(t, op, op.PKI.ORG)
	require.NoError(t, opSend(c, ORGUser, []string{CPSUser}, opMessage(ORGUser, CPSUser, "apres")))
	require.NoError(t, op.WaitMessages(ctx, CPSUser, 1))
}

// Fixed listener addresses are honoured.
func TestOperatorFixedAddresses(t *testing.T) {
	ports := make([]string, 4)
	for i := range ports {
		p, err := freePort()
		require.NoError(t, err)
		ports[i] = "127.0.0.1:" + itoa(p)
	}
	op := NewOperator(t, &OperatorConfig{PKI: sharedPKI(t), SMTPAddr: ports[0], SMTPSAddr: ports[1], IMAPAddr: ports[2], IMAPSAddr: ports[3]})
	assert.Equal(t, ports, []string{op.SMTPAddr, op.SMTPSAddr, op.IMAPAddr, op.IMAPSAddr})
	c, err := imapclient.DialTLS(op.IMAPSAddr, &imapclient.Options{TLSConfig: opClientTLS(op.PKI, nil)})
	require.NoError(t, err)
	c.Close()
}

// The PKI issues more ORG certificates and CRLs with more entries.
func TestPKIIssueAndReissueCRL(t *testing.T) {
	p := sharedPKI(t)
	leaf, err := p.IssueORG("LPS-AUTRE")
	require.NoError(t, err)
	assert.Equal(t, "LPS-AUTRE", leaf.Cert.Subject.CommonName)
	_, err = leaf.Cert.Verify(x509VerifyClient(p))
	require.NoError(t, err)
	ca := p.Issuer(leaf.Cert)
	require.Same(t, p.ElementaireOrganisations, ca)
	der, err := p.ReissueCRL(ca, leaf.Cert)
	require.NoError(t, err)
	crl, err := parseCRL(der)
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(ca.Cert))
	assert.Equal(t, 1, crl.Number.Cmp(ca.CRL.Number), "the CRL number grows")
	var serials []string
	for _, e := range crl.RevokedCertificateEntries {
		serials = append(serials, e.SerialNumber.Text(16))
	}
	assert.ElementsMatch(t, []string{p.Revoked.Cert.SerialNumber.Text(16), leaf.Cert.SerialNumber.Text(16)}, serials)
	_, err = p.ReissueCRL(p.FortPersonnes, leaf.Cert)
	assert.Error(t, err, "a certificate of another authority")
}

func itoa(n int) string { return strconv.Itoa(n) }

func x509VerifyClient(p *PKI) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
}

func parseCRL(der []byte) (*x509.RevocationList, error) { return x509.ParseRevocationList(der) }
