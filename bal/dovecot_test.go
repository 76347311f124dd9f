// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

type env struct {
	pki   *baltest.PKI
	dc    *baltest.Dovecot
	trust *bal.Trust
	log   *trace.FileLog
	ver   note.Verifier
	path  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	crl, err := pki.ServeCRL()
	require.NoError(t, err)
	t.Cleanup(crl.Close)
	dc := baltest.StartDovecot(t, baltest.DovecotConfig{PKI: pki})
	skey, vkey, err := note.GenerateKey(rand.Reader, "bal-test")
	require.NoError(t, err)
	s, err := note.NewSigner(skey)
	require.NoError(t, err)
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	l, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v, Durable: true, Retention: -1})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return &env{pki: pki, dc: dc, trust: &bal.Trust{Roots: []*x509Cert{pki.RootFort.Cert, pki.RootElementaire.Cert}}, log: l, ver: v, path: path}
}

func (e *env) receiver(t *testing.T, auth bal.Authenticator, mailbox string) *bal.Receiver {
	t.Helper()
	return &bal.Receiver{Server: endpoint(t, e.dc.IMAPAddr, false), ServerName: "localhost", Trust: e.trust, Auth: auth,
		Mailbox: trace.Mailbox{Address: mailbox, Kind: "APP"}, Trace: e.log, Software: "gomss-test"}
}

func orgAuth(t *testing.T, e *env) *bal.Certificate {
	t.Helper()
	c, err := bal.NewCertificate(e.pki.ORG.TLSCertificate())
	require.NoError(t, err)
	return c
}

func reportRaw(t *testing.T, to string) []byte {
	t.Helper()
	m := &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal, GivenName: "Marcel", FamilyName: "Camparini"},
		To:   []string{to}, Text: "Compte rendu ci-joint.",
		Documents: []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Now()),
			PDF: mssante.BytesOpener(testdocs.PDF("CR", 5000))}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV000000",
		ReadReceipt: true,
	}
	var b bytes.Buffer
	_, err := m.WriteTo(&b)
	require.NoError(t, err)
	return append([]byte("Return-Path: <marcel.camparini@lilas.mssante.fr>\r\n"), b.Bytes()...)
}

// A software certificate (SASL EXTERNAL) on real Dovecot: append, fetch by
// UID, parse, mark seen, move, delete — every action traced, no content
// in the trace.
func TestIMAPWithSoftwareCertificate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.receiver(t, orgAuth(t, e), baltest.ORGUser).Open(ctx)
	require.NoError(t, err, e.dc.Log())
	defer s.Close()
	folders, err := s.Folders(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, folders)
	raw := reportRaw(t, baltest.ORGUser)
	require.NoError(t, s.Append(ctx, "INBOX", raw, "<x>"))
	msgs, st, err := s.FetchNew(ctx, "INBOX", bal.State{})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.NotNil(t, msgs[0].Message, "not parsed")
	require.True(t, msgs[0].Message.IsDocumentMessage(), "not a document message")
	again, st2, err := s.FetchNew(ctx, "INBOX", st)
	assert.NoError(t, err, "second fetch")
	assert.Empty(t, again, "second fetch")
	assert.Equal(t, st, st2, "second fetch: state")
	m := msgs[0]
	require.NoError(t, s.MarkSeen(ctx, m.UID, m.Message.MessageID))
	require.NoError(t, s.Move(ctx, m.UID, "Traites", m.Message.MessageID))
	moved, _, err := s.FetchNew(ctx, "Traites", bal.State{})
	require.NoError(t, err, "after move")
	require.Len(t, moved, 1, "after move")
	require.NoError(t, s.Delete(ctx, moved[0].UID, m.Message.MessageID))
	left, _, _ := s.FetchNew(ctx, "Traites", bal.State{})
	assert.Empty(t, left, "messages left after delete")
	s.Close()
	e.log.Close()
	_, err = trace.Verify(e.path, e.ver)
	require.NoError(t, err)
	var actions []trace.Action
	_, err = trace.Scan(e.path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		if ev.Response.OK {
			actions = append(actions, ev.Action)
		}
		assert.Equal(t, e.pki.ORG.Cert.Subject.CommonName, ev.Actor.ID, "actor")
		assert.Equal(t, trace.AuthCertificate, ev.Actor.Auth, "actor")
		return nil
	})
	require.NoError(t, err)
	for _, want := range []trace.Action{trace.Login, trace.Append, trace.Fetch, trace.Read, trace.MarkSeen, trace.Move, trace.Delete, trace.Logout} {
		assert.Contains(t, actions, want, "no successful %s event", want)
	}
	// No content of the message reached the trace file.
	data, err := readFile(e.path)
	require.NoError(t, err)
	for _, needle := range []string{"Compte rendu ci-joint", "JVBERi0", "PAT-TROIS"} {
		assert.NotContains(t, string(data), needle, "the trace holds message content")
	}
}

// Pro Santé Connect: XOAUTH2 with a valid token; a refused token is a
// typed error carrying the server's JSON.
func TestIMAPWithPSC(t *testing.T) {
	e := newEnv(t)
	e.dc.AddToken("jeton-valide", baltest.CPSUser)
	ctx := context.Background()
	psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-valide"}), Username: baltest.CPSUser,
		Identity: trace.Actor{ID: "810101010101", IDType: "IDNPS", Name: "Jean DUPONT"}}
	s, err := e.receiver(t, psc, baltest.CPSUser).Open(ctx)
	require.NoError(t, err, e.dc.Log())
	s.Close()
	psc.Source = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-expire"})
	_, err = e.receiver(t, psc, baltest.CPSUser).Open(ctx)
	var refused *bal.RefusedError
	require.ErrorAs(t, err, &refused, "refused token")
	require.Equal(t, "401", refused.Status, "refused token: the server's JSON status")
}

// The operator's certificate is checked: unknown roots, wrong host name
// and a revoked or expired client certificate are refused.
func TestIMAPTrustRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	r := e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	r.Trust = &bal.Trust{Roots: []*x509Cert{other.RootFort.Cert, other.RootElementaire.Cert}}
	_, err = r.Open(ctx)
	assert.ErrorAs(t, err, new(x509.UnknownAuthorityError), "an operator certificate from unknown roots was accepted")
	r = e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	r.ServerName = baltest.WrongHostName
	_, err = r.Open(ctx)
	assert.ErrorAs(t, err, new(x509.HostnameError), "a wrong host name was accepted")
	for name, leaf := range map[string]*baltest.Leaf{"revoked": e.pki.Revoked, "expired": e.pki.Expired} {
		c, err := bal.NewCertificate(leaf.TLSCertificate())
		require.NoError(t, err)
		s, err := e.receiver(t, c, baltest.ORGUser).Open(ctx)
		if !assert.Error(t, err, "%s client certificate accepted by Dovecot", name) {
			s.Close()
		}
	}
}
