package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// report is a consultation report about the ANS test patient, from the
// CPS holder's personal BAL to the applicative BAL, asking for an MDN,
// as the operator delivers it (with Return-Path).
func report(t *testing.T, pdf []byte) ([]byte, string) {
	m, _ := ins.ParseMatricule("279035121518989")
	id := &ins.Identity{Status: ins.Qualified, INS: ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
			BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215"}}
	now := time.Now()
	doctor := &cda.Person{ID: cda.II{Extension: "810002813839"}, Name: cda.Name{Given: "Jean", Family: "DUPONT"},
		Specialty: cda.Code{Code: "G15_10/SM26"}, Organization: &cda.Organization{ID: cda.II{Extension: "1750803447"}, Name: "Cabinet Dupont"}}
	h := &cda.Header{
		ID: cda.II{Root: "1.2.250.1.999.1.1", Extension: "42"}, Type: cda.Code{Code: "11488-4"}, Title: "Compte rendu de consultation",
		EffectiveTime: cda.At(now), Patient: id, Authors: []cda.Author{{Time: cda.At(now), Person: doctor}},
		Custodian: *doctor.Organization, LegalAuthenticator: cda.LegalAuthenticator{Time: cda.At(now), Person: *doctor},
		ServiceEvents: []cda.ServiceEvent{{Low: cda.At(now), PracticeSetting: cda.Code{Code: "AMBULATOIRE"}}},
		Encounter:     cda.Encounter{Low: cda.At(now), FacilityType: cda.Code{Code: "SA07"}},
	}
	msg := &mssante.Message{
		From:        mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Personal, GivenName: "Jean", FamilyName: "Dupont"},
		To:          []string{baltest.ORGUser},
		Text:        "Bonjour,\nci-joint le compte rendu.\n",
		Documents:   []mssante.Document{{Header: h, PDF: mssante.BytesOpener(pdf)}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV000000",
		ReadReceipt: true,
	}
	var b bytes.Buffer
	b.WriteString("Return-Path: <" + baltest.CPSUser + ">\r\n")
	if _, err := msg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), msg.MessageID
}

// loopEnv is the embedded operator holding a report about the ANS test
// patient and a plain message in the applicative BAL's INBOX, with the
// files receive-loop needs in dir.
type loopEnv struct {
	op    *baltest.Operator
	dir   string
	vkey  string
	pdf   []byte
	msgID string
}

func newLoopEnv(t *testing.T) *loopEnv {
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	crls, err := pki.ServeCRL()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { crls.Close() })
	op := baltest.NewOperator(t, &baltest.OperatorConfig{PKI: pki})

	pdf := testdocs.PDF("Compte rendu de consultation", 30_000)
	raw, id := report(t, pdf)
	op.Deliver(baltest.ORGUser, raw)
	op.Deliver(baltest.ORGUser, []byte("Return-Path: <"+baltest.CPSUser+">\r\nFrom: "+baltest.CPSUser+"\r\nTo: "+baltest.ORGUser+
		"\r\nSubject: hello\r\nMessage-ID: <plain@test>\r\nX-MSS-NIL: DEV000000\r\n\r\nnot a document\r\n"))

	dir := t.TempDir()
	var roots []byte
	for _, ca := range []*baltest.CA{pki.RootFort, pki.RootElementaire} {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})...)
	}
	p12, err := pki.ORG.PKCS12("secret")
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, _ := note.GenerateKey(rand.Reader, "receive-loop-test")
	for name, data := range map[string]string{"roots.pem": string(roots), "org.p12": string(p12), "signer.key": skey, "verifier.key": vkey} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TEST_P12_PASSWORD", "secret")
	return &loopEnv{op: op, dir: dir, vkey: vkey, pdf: pdf, msgID: id}
}

// run runs receive-loop -once with the extra flags and returns its output.
func (e *loopEnv) run(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"-imap", e.op.IMAPAddr, "-smtp", e.op.SMTPAddr,
		"-p12", filepath.Join(e.dir, "org.p12"), "-p12-password-env", "TEST_P12_PASSWORD", "-roots", filepath.Join(e.dir, "roots.pem"),
		"-mailbox", baltest.ORGUser, "-entity", "PFI de test", "-product", "DEV000000", "-out", filepath.Join(e.dir, "out"),
		"-trace", filepath.Join(e.dir, "trace.jsonl"), "-trace-signer", filepath.Join(e.dir, "signer.key"),
		"-trace-verifier", filepath.Join(e.dir, "verifier.key"), "-once"}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s\n%s", code, stdout.String(), stderr.String(), e.op.Log())
	}
	v, _ := note.NewVerifier(e.vkey)
	if res, err := trace.Verify(filepath.Join(e.dir, "trace.jsonl"), v); err != nil || res.Records == 0 {
		t.Errorf("trace: %v, %v", res, err)
	}
	return stdout.String() + stderr.String()
}

// mdn waits for the MDN of the report at the sender's.
func (e *loopEnv) mdn(t *testing.T) *mssante.MDNReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.op.WaitMessages(ctx, baltest.CPSUser, 1); err != nil {
		t.Fatal(err)
	}
	for _, raw := range e.op.Messages(baltest.CPSUser, "INBOX") {
		m, err := mssante.Parse(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := mssante.ParseMDN(m); err == nil && r.OriginalMessageID == e.msgID {
			return r
		}
	}
	t.Fatal("no MDN for the report at the sender's")
	return nil
}

func TestOnce(t *testing.T) {
	e := newLoopEnv(t)
	t.Log(e.run(t, "-test-patients"))
	out := filepath.Join(e.dir, "out")
	got, err := os.ReadFile(filepath.Join(out, "1.2.250.1.999.1.1_42.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, e.pdf) {
		t.Error("the PDF written differs from the one sent")
	}
	if _, err := os.Stat(filepath.Join(out, "1.2.250.1.999.1.1_42.xml")); err != nil {
		t.Error(err)
	}
	if r := e.mdn(t); !r.Success() || !strings.Contains(r.Type, "processed") {
		t.Errorf("MDN disposition %q, error %+v", r.Type, r.Error)
	}
	// the report is filed in Traites; the plain message stays in INBOX
	if n := len(e.op.Messages(baltest.ORGUser, "Traites")); n != 1 {
		t.Errorf("%d messages in Traites, want 1", n)
	}
	if n := len(e.op.Messages(baltest.ORGUser, "INBOX")); n != 1 {
		t.Errorf("%d messages left in INBOX, want 1", n)
	}
}

// TestRefusesTestPatient: without -test-patients, a report about the ANS
// test patient is not integrated: no file written, MDN with error 902,
// message filed in Erreurs.
func TestRefusesTestPatient(t *testing.T) {
	e := newLoopEnv(t)
	out := e.run(t)
	if !strings.Contains(out, "refused") || !strings.Contains(out, "1.2.250.1.213.1.4.10") {
		t.Errorf("output does not say why the report was refused:\n%s", out)
	}
	if files, _ := os.ReadDir(filepath.Join(e.dir, "out")); len(files) != 0 {
		t.Errorf("%d files written for a refused report", len(files))
	}
	r := e.mdn(t)
	if r.Success() || r.Error == nil || r.Error.Code != mssante.IntegrationPatientUnknown.Code {
		t.Errorf("MDN %q, error %+v; want error 902", r.Type, r.Error)
	}
	if n := len(e.op.Messages(baltest.ORGUser, "Erreurs")); n != 1 {
		t.Errorf("%d messages in Erreurs, want 1", n)
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-once"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if fileName("1.2.3^a/b") != "1.2.3_a_b" || fileName("../x") != "doc.._x" {
		t.Errorf("fileName: %q %q", fileName("1.2.3^a/b"), fileName("../x"))
	}
}
