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

func TestOnce(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	crls, err := pki.ServeCRL()
	if err != nil {
		t.Fatal(err)
	}
	defer crls.Close()
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
	out := filepath.Join(dir, "out")
	logPath := filepath.Join(dir, "trace.jsonl")
	args := []string{"-imap", op.IMAPAddr, "-smtp", op.SMTPAddr,
		"-p12", filepath.Join(dir, "org.p12"), "-p12-password-env", "TEST_P12_PASSWORD", "-roots", filepath.Join(dir, "roots.pem"),
		"-mailbox", baltest.ORGUser, "-entity", "PFI de test", "-product", "DEV000000", "-out", out,
		"-trace", logPath, "-trace-signer", filepath.Join(dir, "signer.key"), "-trace-verifier", filepath.Join(dir, "verifier.key"),
		"-once"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s\n%s", code, stdout.String(), stderr.String(), op.Log())
	}
	t.Log(stdout.String(), stderr.String())

	got, err := os.ReadFile(filepath.Join(out, "1.2.250.1.999.1.1_42.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pdf) {
		t.Error("the PDF written differs from the one sent")
	}
	if _, err := os.Stat(filepath.Join(out, "1.2.250.1.999.1.1_42.xml")); err != nil {
		t.Error(err)
	}

	// the MDN is at the sender's
	if err := op.WaitMessages(ctx, baltest.CPSUser, 1); err != nil {
		t.Fatal(err)
	}
	var mdn *mssante.MDNReport
	for _, raw := range op.Messages(baltest.CPSUser, "INBOX") {
		m, err := mssante.Parse(bytes.NewReader(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := mssante.ParseMDN(m); err == nil && r.OriginalMessageID == id {
			mdn = r
		}
	}
	if mdn == nil {
		t.Fatal("no MDN for the report at the sender's")
	}
	if !strings.Contains(mdn.Type, "processed") {
		t.Errorf("MDN disposition %q", mdn.Type)
	}
	// the report is filed in Traites; the plain message stays in INBOX
	if n := len(op.Messages(baltest.ORGUser, "Traites")); n != 1 {
		t.Errorf("%d messages in Traites, want 1", n)
	}
	if n := len(op.Messages(baltest.ORGUser, "INBOX")); n != 1 {
		t.Errorf("%d messages left in INBOX, want 1", n)
	}

	v, _ := note.NewVerifier(vkey)
	if res, err := trace.Verify(logPath, v); err != nil || res.Records == 0 {
		t.Errorf("trace: %v, %v", res, err)
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
