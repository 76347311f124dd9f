// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/examples/internal/exampletest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
// patient and a plain message in the applicative BAL's INBOX.
type loopEnv struct {
	*exampletest.Env
	pdf   []byte
	msgID string
}

func newLoopEnv(t *testing.T) *loopEnv {
	e := exampletest.New(t)
	pdf := testdocs.PDF("Compte rendu de consultation", 30_000)
	raw, id := report(t, pdf)
	e.Op.Deliver(baltest.ORGUser, raw)
	e.Op.Deliver(baltest.ORGUser, []byte("Return-Path: <"+baltest.CPSUser+">\r\nFrom: "+baltest.CPSUser+"\r\nTo: "+baltest.ORGUser+
		"\r\nSubject: hello\r\nMessage-ID: <plain@test>\r\nX-MSS-NIL: DEV000000\r\n\r\nnot a document\r\n"))
	return &loopEnv{Env: e, pdf: pdf, msgID: id}
}

// run runs receive-loop -once with the extra flags and returns its output.
func (e *loopEnv) run(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"-imap", e.Op.IMAPAddr, "-smtp", e.Op.SMTPAddr,
		"-mailbox", baltest.ORGUser, "-entity", "PFI de test", "-product", "DEV000000", "-out", e.Path("out"), "-seen", e.Path("seen.log"), "-once"}, e.Args()...)
	args = append(append(args, e.P12Args()...), extra...)
	// A hang guard for the whole program run (connect, fetch, integrate,
	// acknowledge), not a measure of the machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s\n%s", code, stdout.String(), stderr.String(), e.Op.Log())
	}
	e.Trace(t)
	return stdout.String() + stderr.String()
}

// mdn waits for the MDN of the report at the sender's.
func (e *loopEnv) mdn(t *testing.T) *mssante.MDNReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	require.NoError(t, e.Op.WaitMessages(ctx, baltest.CPSUser, 1))
	for _, raw := range e.Op.Messages(baltest.CPSUser, "INBOX") {
		m, err := mssante.Parse(bytes.NewReader(raw), nil)
		require.NoError(t, err)
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
	out := e.Path("out")
	// filed into the test patient's record of the embedded index
	got, err := os.ReadFile(filepath.Join(out, "IPP-0001", "1.2.250.1.999.1.1_42.pdf"))
	require.NoError(t, err)
	if !bytes.Equal(got, e.pdf) {
		t.Error("the PDF written differs from the one sent")
	}
	if _, err := os.Stat(filepath.Join(out, "IPP-0001", "1.2.250.1.999.1.1_42.xml")); err != nil {
		t.Error(err)
	}
	held, err := os.ReadFile(filepath.Join(out, "held.csv"))
	require.NoError(t, err)
	assert.Equal(t, "1.2.250.1.999.1.1^42;1.2.250.1.999.1.1^42;1;IPP-0001\n", string(held))
	assert.Empty(t, filesUnder(t, filepath.Join(out, "incoming")), "nothing left staged")
	if r := e.mdn(t); !r.Success() || !strings.Contains(r.Type, "processed") {
		t.Errorf("MDN disposition %q, error %+v", r.Type, r.Error)
	}
	// the report is filed in Traites, the plain message in Autres (the
	// loop's folder for what is neither a document nor a report)
	if n := len(e.Op.Messages(baltest.ORGUser, "Traites")); n != 1 {
		t.Errorf("%d messages in Traites, want 1", n)
	}
	if n := len(e.Op.Messages(baltest.ORGUser, "Autres")); n != 1 {
		t.Errorf("%d messages in Autres, want 1", n)
	}
	if n := len(e.Op.Messages(baltest.ORGUser, "INBOX")); n != 0 {
		t.Errorf("%d messages left in INBOX, want 0", n)
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
	if files := filesUnder(t, e.Path("out")); len(files) != 0 {
		t.Errorf("files written for a refused report: %v", files)
	}
	r := e.mdn(t)
	if r.Success() || r.Error == nil || r.Error.Code != mssante.IntegrationPatientUnknown.Code {
		t.Errorf("MDN %q, error %+v; want error 902", r.Type, r.Error)
	}
	if n := len(e.Op.Messages(baltest.ORGUser, "Erreurs")); n != 1 {
		t.Errorf("%d messages in Erreurs, want 1", n)
	}
}

// filesUnder lists the regular files under dir (none when it is absent).
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// TestWorklist: a report about a patient the index does not hold waits
// in the worklist (SC.MSS/UX.09-12): nothing filed, the document staged,
// the reasons and candidates written for a person, the message
// acknowledged as taken in charge; the decision is in the signed trace.
func TestWorklist(t *testing.T) {
	e := newLoopEnv(t)
	idx := e.Path("patients.csv")
	require.NoError(t, os.WriteFile(idx, []byte("IPP-9;VALI;;;PAT-TROIS;DOMINIQUE MARIE-LOUISE;DOMINIQUE;19790328;F;51215;test\n"), 0o600))
	out := e.run(t, "-test-patients", "-patients", idx)
	assert.Contains(t, out, "worklist <"+strings.Trim(e.msgID, "<>")+"> 1.2.250.1.999.1.1^42: no-local-ins (SENTINELLE.20); traits-only (SC.MSS/UX.08); 1 candidate(s)")
	dir := e.Path("out")
	assert.NoDirExists(t, filepath.Join(dir, "IPP-9"))
	assert.FileExists(t, filepath.Join(dir, "incoming", "1.2.250.1.999.1.1_42_1.xml"))
	why, err := os.ReadFile(filepath.Join(dir, "worklist", "1.2.250.1.999.1.1_42_1.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(why), "candidate IPP-9: score 1.00, found by INS false")
	assert.NotContains(t, string(why), "PAT-TROIS", "no traits in the worklist note")
	if r := e.mdn(t); !r.Success() {
		t.Errorf("MDN %q, error %+v", r.Type, r.Error)
	}
	log, err := os.ReadFile(e.Path("trace.jsonl"))
	require.NoError(t, err)
	assert.Contains(t, string(log), `"action":"integrate"`)
	assert.Contains(t, string(log), `"command":"WORKLIST"`)

	// the same record with the document's INS, qualified, and
	// -auto-on-traits are not needed: run again, the message is gone, but
	// a second delivery of it is integrated (UX.15-like: the index changed)
	require.NoError(t, os.WriteFile(idx, []byte("IPP-9;QUAL;279035121518989;1.2.250.1.213.1.4.10;PAT-TROIS;DOMINIQUE MARIE-LOUISE;DOMINIQUE;19790328;F;51215;\n"), 0o600))
	raw, _ := report(t, e.pdf)
	e.Op.Deliver(baltest.ORGUser, raw)
	out = e.run(t, "-test-patients", "-patients", idx)
	assert.Contains(t, out, "into patient IPP-9 (automatically)")
	assert.FileExists(t, filepath.Join(dir, "IPP-9", "1.2.250.1.999.1.1_42.pdf"))
}

// TestDuplicate: the same report delivered twice is filed once
// (SC.CDA/MSS.01); both messages are acknowledged as processed.
func TestDuplicate(t *testing.T) {
	e := newLoopEnv(t)
	raw, _ := report(t, e.pdf)
	e.Op.Deliver(baltest.ORGUser, raw)
	out := e.run(t, "-test-patients")
	assert.Contains(t, out, "into patient IPP-0001 (automatically)")
	assert.Contains(t, out, "duplicate")
	held, err := os.ReadFile(filepath.Join(e.Path("out"), "held.csv"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(held), "\n"))
	assert.Len(t, e.Op.Messages(baltest.ORGUser, "Traites"), 2)
}

func TestPatientIndex(t *testing.T) {
	x, err := loadIndex(bytes.NewReader(defaultPatients))
	require.NoError(t, err)
	require.Len(t, x.patients, 3)
	assert.Equal(t, ins.Qualified, x.patients[0].Identity.Status)
	assert.True(t, x.patients[2].Test)
	for _, bad := range []string{
		"IPP;QUAL;279035121518988;1.2.250.1.213.1.4.10;A;B;B;19790328;F;51215;\n", // key
		"IPP;QUAL;;;A;B;B;19790328;F;51215;\n",                                    // QUAL without INS
		"IPP;XXX;;;A;B;B;19790328;F;51215;\n",                                     // status
		"IPP;PROV;;;A;B;B;1979-13-01;F;51215;\n",                                  // date
		"IPP;PROV;;;A;B\n",                                                        // columns
	} {
		_, err := loadIndex(strings.NewReader(bad))
		assert.Error(t, err, bad)
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
