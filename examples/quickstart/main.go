// Command quickstart is the README's main job: an end-to-end walk through
// gomss on built-in test data, with no server and no network.
//
// It identifies the patient (the matricule INS of an ANS test identity,
// emitted only once the identity is qualified; CDA recordTarget and XDS
// identifiers), wraps a PDF report in a CI-SIS CDA level-1 document and an
// IHE_XDM.ZIP, opens that archive as the recipient would, builds the
// MSSanté message carrying it, checks it against the Ref#2 rules and
// writes its read receipt in memory; then it runs the same exchange over
// the network on the embedded test operator (bal/baltest.StartOperator,
// with an IGC-Santé-like test PKI): an applicative BAL sends the report
// with its software certificate and a DSN request, the recipient's receive
// loop integrates it and sends the MDN, the sender reads the DSN and the
// MDN back, and the signed trace log of every mailbox action is verified.
// Not yet in it: the annuaire lookup of the recipient.
//
// Usage:
//
//	go run ./examples/quickstart [-out DIR]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

func main() {
	out := flag.String("out", "", "directory where the produced files (recordTarget.xml, DOC0001.XML, IHE_XDM.ZIP, message.eml, mdn.eml, trace.jsonl) are written")
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

	// 11–15. The same exchange over the network, on the embedded test
	// operator (SMTP submission + IMAP, TLS with an IGC-Santé-like test
	// PKI), every mailbox action in a signed, verifiable trace log.
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("gomss-quickstart-%d.jsonl", time.Now().UnixNano()))
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return err
		}
		logPath = filepath.Join(outDir, "trace.jsonl")
		os.Remove(logPath)
		os.Remove(logPath + ".checkpoints")
	} else {
		defer os.Remove(logPath)
		defer os.Remove(logPath + ".checkpoints")
	}
	if err := networkExchange(w, step, header, pdf, logPath); err != nil {
		return err
	}

	if outDir != "" {
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

// networkExchange sends the report from an applicative BAL to a personal
// one through the embedded test operator, lets the recipient's receive
// loop integrate it and acknowledge it, reads the acknowledgements back at
// the sender and verifies the trace log.
func networkExchange(w io.Writer, step func(int, string, ...any), header *cda.Header, pdf []byte, logPath string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t0 := time.Now()
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		return err
	}
	crls, err := pki.ServeCRL()
	if err != nil {
		return err
	}
	defer crls.Close()
	op, err := baltest.StartOperator(&baltest.OperatorConfig{PKI: pki})
	if err != nil {
		return err
	}
	defer op.Close()
	skey, vkey, err := note.GenerateKey(rand.Reader, "gomss-quickstart")
	if err != nil {
		return err
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	tl, err := trace.OpenFileLog(trace.FileLogConfig{Path: logPath, Signer: signer, Verifier: verifier, Durable: true})
	if err != nil {
		return err
	}
	defer tl.Close()
	step(11, "test operator up in %v: SMTP %s, IMAP %s, IGC-Santé-like PKI (2 roots, CRLs served), trace %s",
		time.Since(t0).Round(time.Millisecond), op.SMTPAddr, op.IMAPAddr, logPath)

	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}}
	endpoint := func(addr string) bal.Endpoint {
		h, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return bal.Endpoint{Host: h, Port: n}
	}
	lps, err := bal.NewCertificate(pki.ORG.TLSCertificate()) // the applicative BAL's software certificate
	if err != nil {
		return err
	}
	doctor, err := bal.NewCertificate(pki.CPS.TLSCertificate()) // the recipient's certificate
	if err != nil {
		return err
	}
	sender := func(auth bal.Authenticator, box string) *bal.Sender {
		return &bal.Sender{Server: endpoint(op.SMTPAddr), ServerName: "localhost", Trust: trust, Auth: auth,
			Mailbox: trace.Mailbox{Address: box}, Trace: tl, Software: "gomss quickstart"}
	}
	receiver := func(auth bal.Authenticator, box string) *bal.Receiver {
		return &bal.Receiver{Server: endpoint(op.IMAPAddr), ServerName: "localhost", Trust: trust, Auth: auth,
			Mailbox: trace.Mailbox{Address: box}, Trace: tl, Software: "gomss quickstart"}
	}

	msg := &mssante.Message{
		From:        mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "Centre de santé des Lilas"},
		To:          []string{baltest.CPSUser},
		Text:        "Bonjour,\nveuillez trouver ci-joint le compte rendu de consultation.\n",
		Documents:   []mssante.Document{{Header: header, PDF: mssante.BytesOpener(pdf)}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}, Organization: "Centre de santé des Lilas"},
		Product:     "DEV000000",
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
	t1 := time.Now()
	res, err := sender(lps, baltest.ORGUser).Send(ctx, msg)
	if err != nil {
		return fmt.Errorf("send: %w\n%s", err, op.Log())
	}
	step(12, "sent %s (%d bytes) from %s over STARTTLS with its software certificate: accepted for %v, DSN requested %v, %v",
		res.MessageID, res.Size, baltest.ORGUser, res.Accepted, res.DSN, time.Since(t1).Round(time.Millisecond))

	var integrated string
	loop := &bal.Loop{
		Receiver: receiver(doctor, baltest.CPSUser),
		Sender:   sender(doctor, baltest.CPSUser),
		From:     mssante.Sender{Address: baltest.CPSUser, Kind: mssante.Personal, GivenName: "Jean", FamilyName: "Dupont"},
		Product:  "DEV000000",
		Handler: func(_ context.Context, m *mssante.Received) error {
			if m.XDM == nil || m.XDM.Verify() != nil {
				return mssante.IntegrationOther
			}
			integrated = fmt.Sprintf("%s, patient %s", m.DisplaySubject(), m.PatientID)
			return nil
		},
	}
	n, err := loop.ProcessOnce(ctx)
	if err != nil || n != 1 {
		return fmt.Errorf("receive loop: %d handled, %v\n%s", n, err, op.Log())
	}
	step(13, "received by %s and integrated (%s); MDN sent, message moved to Traites", baltest.CPSUser, integrated)

	if err := op.WaitMessages(ctx, baltest.ORGUser, 2); err != nil {
		return fmt.Errorf("acknowledgements: %w", err)
	}
	s, err := receiver(lps, baltest.ORGUser).Open(ctx)
	if err != nil {
		return err
	}
	back, _, err := s.FetchNew(ctx, "INBOX", bal.State{})
	s.Close()
	if err != nil {
		return err
	}
	var acks []string
	for _, f := range back {
		if d, err := mssante.ParseDSN(f.Message); err == nil && len(d.Recipients) > 0 {
			acks = append(acks, "DSN "+d.Recipients[0].Action+" "+d.Recipients[0].Status)
		}
		if r, err := mssante.ParseMDN(f.Message); err == nil && r.OriginalMessageID == msg.MessageID {
			acks = append(acks, "MDN "+r.Type)
		}
	}
	if len(acks) < 2 {
		return fmt.Errorf("expected a DSN and an MDN back, got %v", acks)
	}
	step(14, "back at %s: %s", baltest.ORGUser, strings.Join(acks, ", "))

	if err := tl.Close(); err != nil {
		return err
	}
	vr, err := trace.Verify(logPath, verifier)
	if err != nil {
		return err
	}
	counts := map[trace.Action]int{}
	trace.Scan(logPath, trace.Filter{}, func(_ int64, e trace.Event) error {
		if e.Response.OK {
			counts[e.Action]++
		}
		return nil
	})
	step(15, "trace verified: %d records, %d signed checkpoints; successful actions %v", vr.Records, vr.Checkpoints, counts)
	return nil
}
