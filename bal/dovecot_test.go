//go:build unix

package bal_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	crl, err := pki.ServeCRL()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(crl.Close)
	dc := baltest.StartDovecot(t, baltest.DovecotConfig{PKI: pki})
	skey, vkey, _ := note.GenerateKey(rand.Reader, "bal-test")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	l, err := trace.OpenFileLog(trace.FileLogConfig{Path: path, Signer: s, Verifier: v, Durable: true, Retention: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &env{pki: pki, dc: dc, trust: &bal.Trust{Roots: []*x509Cert{pki.RootFort.Cert, pki.RootElementaire.Cert}}, log: l, ver: v, path: path}
}

func (e *env) receiver(t *testing.T, auth bal.Authenticator, mailbox string) *bal.Receiver {
	return &bal.Receiver{Server: endpoint(t, e.dc.IMAPAddr, false), ServerName: "localhost", Trust: e.trust, Auth: auth,
		Mailbox: trace.Mailbox{Address: mailbox, Kind: "APP"}, Trace: e.log, Software: "gomss-test"}
}

func orgAuth(t *testing.T, e *env) *bal.Certificate {
	c, err := bal.NewCertificate(e.pki.ORG.TLSCertificate())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func reportRaw(t *testing.T, to string) []byte {
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
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return append([]byte("Return-Path: <marcel.camparini@lilas.mssante.fr>\r\n"), b.Bytes()...)
}

// A software certificate (SASL EXTERNAL) on real Dovecot: append, fetch by
// UID, parse, mark seen, move, delete — every action traced, no content
// in the trace.
func TestIMAPWithSoftwareCertificate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.receiver(t, orgAuth(t, e), baltest.ORGUser).Open(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.dc.Log())
	}
	defer s.Close()
	folders, err := s.Folders(ctx)
	if err != nil || len(folders) == 0 {
		t.Fatalf("%v %v", folders, err)
	}
	raw := reportRaw(t, baltest.ORGUser)
	if err := s.Append(ctx, "INBOX", raw, "<x>"); err != nil {
		t.Fatal(err)
	}
	msgs, st, err := s.FetchNew(ctx, "INBOX", bal.State{})
	if err != nil || len(msgs) != 1 || msgs[0].Message == nil || !msgs[0].Message.IsDocumentMessage() {
		t.Fatalf("%v %+v", err, msgs)
	}
	if again, st2, err := s.FetchNew(ctx, "INBOX", st); err != nil || len(again) != 0 || st2 != st {
		t.Errorf("second fetch: %d messages, %v", len(again), err)
	}
	m := msgs[0]
	if err := s.MarkSeen(ctx, m.UID, m.Message.MessageID); err != nil {
		t.Fatal(err)
	}
	if err := s.Move(ctx, m.UID, "Traites", m.Message.MessageID); err != nil {
		t.Fatal(err)
	}
	moved, _, err := s.FetchNew(ctx, "Traites", bal.State{})
	if err != nil || len(moved) != 1 {
		t.Fatalf("after move: %d, %v", len(moved), err)
	}
	if err := s.Delete(ctx, moved[0].UID, m.Message.MessageID); err != nil {
		t.Fatal(err)
	}
	if left, _, _ := s.FetchNew(ctx, "Traites", bal.State{}); len(left) != 0 {
		t.Errorf("%d messages left after delete", len(left))
	}
	s.Close()
	e.log.Close()
	if _, err := trace.Verify(e.path, e.ver); err != nil {
		t.Fatal(err)
	}
	var actions []trace.Action
	trace.Scan(e.path, trace.Filter{}, func(_ int64, ev trace.Event) error {
		if ev.Response.OK {
			actions = append(actions, ev.Action)
		}
		if ev.Actor.ID != e.pki.ORG.Cert.Subject.CommonName || ev.Actor.Auth != trace.AuthCertificate {
			t.Errorf("actor %+v", ev.Actor)
		}
		return nil
	})
	for _, want := range []trace.Action{trace.Login, trace.Append, trace.Fetch, trace.Read, trace.MarkSeen, trace.Move, trace.Delete, trace.Logout} {
		found := false
		for _, a := range actions {
			found = found || a == want
		}
		if !found {
			t.Errorf("no successful %s event in %v", want, actions)
		}
	}
	// No content of the message reached the trace file.
	data, _ := readFile(e.path)
	for _, needle := range []string{"Compte rendu ci-joint", "JVBERi0", "PAT-TROIS"} {
		if bytes.Contains(data, []byte(needle)) {
			t.Errorf("the trace holds message content %q", needle)
		}
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
	if err != nil {
		t.Fatalf("%v\n%s", err, e.dc.Log())
	}
	s.Close()
	psc.Source = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "jeton-expire"})
	_, err = e.receiver(t, psc, baltest.CPSUser).Open(ctx)
	var refused *bal.RefusedError
	if !errors.As(err, &refused) || refused.Status != "401" {
		t.Fatalf("refused token: %v", err)
	}
}

// The operator's certificate is checked: unknown roots, wrong host name
// and a revoked or expired client certificate are refused.
func TestIMAPTrustRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	r.Trust = &bal.Trust{Roots: []*x509Cert{other.RootFort.Cert, other.RootElementaire.Cert}}
	if _, err := r.Open(ctx); err == nil {
		t.Error("an operator certificate from unknown roots was accepted")
	}
	r = e.receiver(t, orgAuth(t, e), baltest.ORGUser)
	r.ServerName = baltest.WrongHostName
	if _, err := r.Open(ctx); err == nil {
		t.Error("a wrong host name was accepted")
	}
	for name, leaf := range map[string]*baltest.Leaf{"revoked": e.pki.Revoked, "expired": e.pki.Expired} {
		c, _ := bal.NewCertificate(leaf.TLSCertificate())
		if s, err := e.receiver(t, c, baltest.ORGUser).Open(ctx); err == nil {
			s.Close()
			t.Errorf("%s client certificate accepted by Dovecot", name)
		}
	}
}
