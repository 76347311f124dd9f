// Command quickstart is the README's main job: an end-to-end walk through
// gomss on built-in test data, with no server and no network.
//
// For now it covers the first steps of an MSSanté exchange: identifying the
// patient (it validates the matricule INS of an ANS test identity, checks
// that only the qualified identity may emit it, and prints the CDA
// recordTarget and the XDS identifiers), then wrapping a PDF report in a
// CI-SIS CDA level-1 document and an IHE_XDM.ZIP archive, and opening that
// archive as the recipient would, verifying the document against its
// metadata; then building the MSSanté message that carries it, parsing and
// checking it as the recipient, and writing the read receipt (MDN). Later
// steps (send and receive on the embedded test operator, trace) are added
// as the corresponding packages land.
//
// Usage:
//
//	go run ./examples/quickstart [-out DIR]
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

func main() {
	out := flag.String("out", "", "directory where the produced files (recordTarget.xml, DOC0001.XML, IHE_XDM.ZIP, message.eml, mdn.eml) are written")
	flag.Parse()
	if err := run(os.Stdout, *out); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, outDir string) error {
	start := time.Now()
	step := func(n int, format string, args ...any) {
		fmt.Fprintf(w, "%d. "+format+"\n", append([]any{n}, args...)...)
	}

	// 1. The identity as the DPI holds it after an INSi call: recovered, not
	// yet checked against an identity document. The matricule is the ANS
	// test patient's (INS-NIR de test, TestContenuCDA 3.0).
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		return err
	}
	p := m.Place()
	step(1, "matricule INS %s valid: sex %s, born %02d/%02d, place %s (%s), key %02d",
		m, m.Sex(), m.BirthMonth(), m.BirthYear(), p.Code, p.Kind, m.Key())

	id := ins.Identity{
		Status: ins.Recovered,
		INS:    ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{
			BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
			BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215", BirthPlaceName: "DOMPREMY",
		},
		LocalIDs: []ins.LocalID{{Value: "1234567890121", Authority: "1.2.3.4.567.8.9.10"}},
	}
	if _, err := id.PatientID(); !errors.Is(err, ins.ErrNotQualified) {
		return fmt.Errorf("a recovered identity must not emit its INS, got %v", err)
	}
	step(2, "identity status %s: INS withheld as required (%v)", id.Status, "RNIV EXI SI 08")

	id.Status = ins.Qualified
	if err := id.Validate(); err != nil {
		return err
	}
	if c := id.Coherence(); len(c) > 0 {
		return fmt.Errorf("traits contradict the matricule: %v", c)
	}
	step(3, "identity qualified (INSi + identity document): traits complete and coherent with the matricule")

	rt, err := id.RecordTarget()
	if err != nil {
		return err
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(rt)
	doc.Indent(2)
	xml, err := doc.WriteToString()
	if err != nil {
		return err
	}
	step(4, "CDA recordTarget (%d bytes):\n%s", len(xml), xml)

	cx, err := id.PatientID()
	if err != nil {
		return err
	}
	src, _ := id.SourcePatientID()
	step(5, "XDS metadata: patientId %s\n   sourcePatientId %s", cx, src)
	for _, l := range id.SourcePatientInfo() {
		fmt.Fprintf(w, "   sourcePatientInfo %s\n", l)
	}
	addr, err := id.MonEspaceSanteAddress()
	if err != nil {
		return err
	}
	step(6, "Mon espace santé address: %s", addr)

	// 7. A consultation report: a PDF (generated here) in a CDA level-1
	// document, inside an IHE_XDM.ZIP, streamed, SHA-1 and size computed on
	// the way.
	pdf := testdocs.PDF("Compte rendu de consultation - PAT-TROIS DOMINIQUE", 200_000)
	now := time.Now()
	doctor := &cda.Person{
		ID:           cda.II{Extension: "801234567890"}, // 8 + RPPS (fictitious)
		Name:         cda.Name{Given: "Marcel", Family: "CAMPARINI", Suffix: "DR"},
		Specialty:    cda.Code{Code: "G15_10/SM26"}, // JDV_J01: médecine générale
		Organization: &cda.Organization{ID: cda.II{Extension: "1750803447"}, Name: "Centre de santé des Lilas"},
	}
	header := &cda.Header{
		ID:                 cda.II{Root: "1.2.250.1.999.1.1.4242", Extension: now.Format("20060102150405.000")},
		Type:               cda.Code{Code: "11488-4"}, // JDV_J07
		Title:              "Compte rendu de consultation",
		EffectiveTime:      cda.At(now),
		Patient:            &id,
		Authors:            []cda.Author{{Time: cda.At(now), Person: doctor}},
		Custodian:          *doctor.Organization,
		LegalAuthenticator: cda.LegalAuthenticator{Time: cda.At(now), Person: *doctor},
		ServiceEvents:      []cda.ServiceEvent{{Low: cda.At(now.Add(-30 * time.Minute)), PracticeSetting: cda.Code{Code: "AMBULATOIRE"}}},
		Encounter:          cda.Encounter{Low: cda.At(now.Add(-30 * time.Minute)), FacilityType: cda.Code{Code: "SA07"}},
	}
	var zipped bytes.Buffer
	xw, err := xdm.NewWriter(&zipped, xdm.Options{
		SourceID:     "1.2.250.1.999.1.2",
		ContentType:  xdm.Code{Code: "04"},
		Sender:       "Dr Marcel CAMPARINI",
		Organization: "Centre de santé des Lilas",
		Application:  xdm.Application{Name: "gomss quickstart", Version: "dev", Vendor: "gomss"},
	})
	if err != nil {
		return err
	}
	entry, err := xw.AddCDA(header, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(pdf)}, nil)
	if err != nil {
		return err
	}
	if err := xw.Close(); err != nil {
		return err
	}
	step(7, "CDA level 1 %s: %d-byte PDF → %d-byte document, type %s (%s), class %s, format %s",
		entry.URI, len(pdf), entry.Size, entry.Type.Code, entry.Type.Display, entry.Class.Code, entry.Format.Code)
	fmt.Fprintf(w, "   %s: %d bytes, SHA-1 of %s %s\n", xdm.ArchiveName, zipped.Len(), entry.URI, entry.Hash)

	// 8. The recipient opens the archive, checks the document against its
	// metadata and gets the PDF back.
	archive, err := xdm.OpenReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()), nil)
	if err != nil {
		return err
	}
	if err := archive.Verify(); err != nil {
		return err
	}
	rc, err := archive.Documents[0].Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	rd := cda.NewReader(rc, nil)
	got, err := rd.Header()
	if err != nil {
		return err
	}
	var back bytes.Buffer
	if _, err := rd.Body(&back); err != nil {
		return err
	}
	if !bytes.Equal(back.Bytes(), pdf) {
		return errors.New("the PDF read back differs from the one sent")
	}
	step(8, "archive read back: %s, patientId %s, hash and size verified, header %q, PDF identical (%d bytes)",
		archive.Subset, archive.Metadata.SubmissionSet.PatientID, got.Header.Title, back.Len())

	// 9. The MSSanté message carrying it (Ref#2 headers, subject, PDF
	// rendition), then the receiving side: parse, check, acknowledge.
	msg := &mssante.Message{
		From: mssante.Sender{Address: "marcel.camparini@lilas.mssante.fr", Kind: mssante.Personal,
			Title: "Dr", GivenName: "Marcel", FamilyName: "Camparini"},
		To:          []string{"integration@chu-exemple.mssante.fr"},
		Text:        "Bonjour,\nveuillez trouver ci-joint le compte rendu de consultation.\n",
		Documents:   []mssante.Document{{Header: header, PDF: mssante.BytesOpener(pdf)}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}, Organization: "Centre de santé des Lilas"},
		Product:     "DEV000000", // X-MSS-NIL: the reference given by Convergence
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
	var eml bytes.Buffer
	if _, err := msg.WriteTo(&eml); err != nil {
		return err
	}
	step(9, "MSSanté message %s: %d bytes, subject %q", msg.MessageID, eml.Len(), msg.EffectiveSubject())
	recv, err := mssante.Parse(bytes.NewReader(append([]byte("Return-Path: <"+msg.From.Address+">\r\n"), eml.Bytes()...)), nil)
	if err != nil {
		return err
	}
	if ps := recv.Check(); len(ps) > 0 {
		return fmt.Errorf("the message breaks Ref#2 rules: %v", ps)
	}
	fmt.Fprintf(w, "   received: X-MSS-CODECDA %v, X-MSS-INS %s, patient %s, 0 rule broken, displayed as %q\n",
		recv.MSS.CodeCDA, recv.MSS.INS, recv.PatientID, recv.DisplaySubject())
	ack, err := mssante.NewMDN(recv, mssante.MDNOptions{
		From:    mssante.Sender{Address: "integration@chu-exemple.mssante.fr", Kind: mssante.Applicative, Entity: "PFI CHU Exemple"},
		Product: "DEV000000",
	})
	if err != nil {
		return err
	}
	var mdn bytes.Buffer
	if _, err := ack.WriteTo(&mdn); err != nil {
		return err
	}
	back2, err := mssante.Parse(bytes.NewReader(mdn.Bytes()), nil)
	if err != nil {
		return err
	}
	rep, err := mssante.ParseMDN(back2)
	if err != nil {
		return err
	}
	step(10, "MDN to %s: %q, for %s", ack.To, ack.Disposition, rep.OriginalMessageID)

	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return err
		}
		// the CDA document exactly as it is in the archive
		drc, err := archive.Documents[0].Open()
		if err != nil {
			return err
		}
		doc, err := io.ReadAll(drc)
		drc.Close()
		if err != nil {
			return err
		}
		for name, data := range map[string][]byte{
			"recordTarget.xml": []byte(xml), entry.URI: doc, xdm.ArchiveName: zipped.Bytes(), "message.eml": eml.Bytes(), "mdn.eml": mdn.Bytes(),
		} {
			fn := filepath.Join(outDir, name)
			if err := os.WriteFile(fn, data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s\n", fn)
		}
	}
	fmt.Fprintf(w, "done in %v\n", time.Since(start).Round(time.Microsecond))
	return nil
}
