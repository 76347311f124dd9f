// SPDX-License-Identifier: Apache-2.0

// Command quickstart is the README's main job: one MSSanté exchange from
// end to end on built-in test data, with no server and no network beyond
// loopback, in about a second.
//
// The story: the applicative BAL of a health centre (lps@test.mssante.fr,
// software certificate) sends Dr Camparini's consultation report about a
// test patient to Dr Dupont (jean.dupont@test.mssante.fr). Step by step:
//
//  1. identify the patient by INS: the matricule and its key are checked,
//     the INS and strict traits come from INSi (the fake of ins/insitest,
//     over mTLS with an INSI-AUTO certificate) and are compared with the
//     local identity; the INS is withheld while the identity is only
//     recovered (RECUP) and emitted once a person's check of an identity
//     document qualifies it (insi.Qualify; RNIV EXI SI 08), as a CDA
//     recordTarget and as XDS identifiers;
//  2. resolve the recipient offline in a small Annuaire Santé extraction
//     and liste blanche shipped in testdata/ (the liste blanche checked
//     against its SHA-256); an address outside the trust space is refused
//     before anything is built;
//  3. describe a generated PDF report with a CI-SIS CDA level-1 header
//     (validated against the CI-SIS rules);
//  4. build the MSSanté message (the CDA document in an IHE_XDM.ZIP whose
//     METADATA.XML comes from the CDA header, the PDF beside it, X-MSS-*
//     headers, sender label, XDM subject, DSN and read receipt requested)
//     and check its exact bytes against the Ref#2 rules;
//  5. start the embedded test operator (bal/baltest.StartOperator: SMTP
//     submission and IMAP over TLS, an IGC-Santé-like test PKI with CRLs);
//  6. send those bytes from the applicative BAL with its certificate;
//  7. receive as the recipient: the receive loop parses the message,
//     reads the document once (its SHA-1 and size checked against the
//     archive's metadata on the way), reads the CDA header, checks the
//     patient's INS and the PDF, files the document into the right
//     patient record of the recipient's DPI (mssante/intake: qualified
//     INS on both sides, strict traits equal, a homonym kept apart; see
//     filing.go), then sends the MDN and files the message in Traites;
//  8. read the DSN and the MDN back in the sender's mailbox;
//  9. verify the signed, hash-chained trace log of every mailbox action.
//
// Usage:
//
//	go run ./examples/quickstart [-out DIR]
//
// With -out, the files of the exchange are kept in DIR: message.eml (the
// bytes sent), message-received.eml (as delivered), IHE_XDM.ZIP and
// DOC0001.XML (as the recipient extracted them), recordTarget.xml, mdn.eml (as the sender received it) and
// trace.jsonl with its signed checkpoints (trace.jsonl.checkpoints).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/extraction"
	"github.com/ecdaf744/gomss/annuaire/listeblanche"
	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/examples/internal/setup"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// The annuaire fixtures, embedded so that the program runs from any
// directory (see testdata/README.md).
//
//go:embed testdata/Extraction_Correspondance_MSSante_202612050215.txt testdata/listeblanche.xml testdata/listeblanche.checksum
var fixtures embed.FS

const (
	extractionName = "Extraction_Correspondance_MSSante_202612050215.txt"
	// recipient is Dr Dupont's mailbox: published in the extraction, and a
	// mailbox of the embedded operator (logged in by its CPS certificate).
	recipient = baltest.CPSUser
	// outsider is an address a user might type by mistake: not published,
	// and its domain is outside the trust space.
	outsider = "dr.dupont.jean@gmail.com"
	product  = "DEV000000" // X-MSS-NIL: the product reference given by Convergence
)

func main() {
	out := flag.String("out", "", "directory where the files of the exchange are kept (message.eml, IHE_XDM.ZIP, DOC0001.XML, recordTarget.xml, mdn.eml, trace.jsonl)")
	flag.Parse()
	if err := run(os.Stdout, *out); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// file is one file of the exchange that -out writes.
type file struct {
	name string
	data []byte
}

// files collects what -out writes, in order.
type files []file

func (f *files) add(name string, b []byte) { *f = append(*f, file{name, b}) }

func run(w io.Writer, outDir string) error {
	start := time.Now()
	var keep files
	step := func(n int, format string, args ...any) {
		fmt.Fprintf(w, "%d. "+format+"\n", append([]any{n}, args...)...)
	}
	more := func(format string, args ...any) { fmt.Fprintf(w, "   "+format+"\n", args...) }

	id, err := identify(step, more, &keep)
	if err != nil {
		return err
	}
	box, err := resolve(step, more, recipient)
	if err != nil {
		return err
	}
	header, pdf, err := document(step, id)
	if err != nil {
		return err
	}

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
	if err := exchange(step, more, id, box, header, pdf, logPath, &keep); err != nil {
		return err
	}

	if outDir != "" {
		for _, f := range keep {
			fn := filepath.Join(outDir, f.name)
			if err := os.WriteFile(fn, f.data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s (%d bytes)\n", fn, len(f.data))
		}
		fmt.Fprintf(w, "wrote %s and %s.checkpoints\n", logPath, logPath)
	}
	fmt.Fprintf(w, "done in %v\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// identify checks the matricule INS of an ANS test patient and shows that
// the INS leaves the identity only once it is qualified.
func identify(step func(int, string, ...any), more func(string, ...any), keep *files) (*ins.Identity, error) {
	// The matricule is the ANS test patient's (INS-NIR de test,
	// TestContenuCDA 3.0).
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		return nil, err
	}
	p := m.Place()
	step(1, "patient: matricule INS %s valid (sex %s, born %02d/%02d, place %s %s, key %02d)",
		m, m.Sex(), m.BirthMonth(), m.BirthYear(), p.Code, p.Kind, m.Key())

	// The identity as the DPI's reception desk typed it: traits only,
	// provisional. The INS comes from the INSi téléservice — here the fake
	// of ins/insitest, answering for this test patient as the real one
	// would — with the integrators' search strategy.
	traits := ins.Traits{
		BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
		BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215", BirthPlaceName: "DOMPREMY",
	}
	local := ins.Identity{Status: ins.Provisional, Traits: traits,
		LocalIDs: []ins.LocalID{{Value: "1234567890121", Authority: "1.2.3.4.567.8.9.10"}}}
	srv, err := insitest.NewServer(insitest.Options{People: []insitest.Person{{INS: ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest}, Traits: traits}}})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	cred, err := insi.NewMTLS(srv.PKI.Auto.TLSCertificate()) // the structure's INSI-AUTO certificate
	if err != nil {
		return nil, err
	}
	client, err := insi.New(insi.Config{Endpoint: srv.URL, Credentials: cred, TLS: srv.ClientTLSConfig(),
		Software: insi.Software{IDAM: "PDP17NF21DD0", Name: "gomss-quickstart", Version: "1", Instance: "5b0f3c1e-7c55-4d2a-9a51-2f6d1c0e8a41"}})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	sr, err := client.Search(context.Background(), local.Traits)
	if err != nil {
		return nil, fmt.Errorf("INSi: %w", err)
	}
	if d := insi.Compare(sr.Result, local); len(d) > 0 {
		return nil, fmt.Errorf("INSi answer differs from the local identity: %v", d)
	}
	recup, err := sr.Result.Identity()
	if err != nil {
		return nil, err
	}
	if recup.INS.Matricule != m {
		return nil, fmt.Errorf("INSi returned matricule %s, want %s", recup.INS.Matricule, m)
	}
	recup.LocalIDs = local.LocalIDs
	id := &recup
	more("INSi (fake, mTLS INSI-AUTO): CR %s after %d call(s), status %s, traits equal to the local identity", sr.Result.CR, len(sr.Attempts), id.Status)
	if _, err := id.PatientID(); !errors.Is(err, ins.ErrNotQualified) {
		return nil, fmt.Errorf("a recovered identity must not emit its INS, got %v", err)
	}
	more("status %s: INS withheld (RNIV EXI SI 08)", id.Status)

	// Qualification is a person's act: the identity document was checked.
	qual, err := insi.Qualify(*id, insi.DocumentCheck{Document: insi.DocNationalIDCard, CheckedBy: "accueil-1", CheckedAt: time.Now(), Consistent: true})
	if err != nil {
		return nil, err
	}
	id = &qual
	if err := id.Validate(); err != nil {
		return nil, err
	}
	if c := id.Coherence(); len(c) > 0 {
		return nil, fmt.Errorf("traits contradict the matricule: %v", c)
	}
	rt, err := id.RecordTarget()
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(rt)
	doc.Indent(2)
	xml, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	keep.add("recordTarget.xml", xml)
	insID := rt.FindElement("patientRole/id")
	cx, err := id.PatientID()
	if err != nil {
		return nil, err
	}
	addr, err := id.MonEspaceSanteAddress()
	if err != nil {
		return nil, err
	}
	more("status %s: traits coherent with the matricule; CDA recordTarget (%d bytes) starts with %s",
		id.Status, len(xml), elementString(insID))
	more("XDS patientId %s; Mon espace santé address %s", cx, addr)
	return id, nil
}

func elementString(e *etree.Element) string {
	if e == nil {
		return "(none)"
	}
	d := etree.NewDocument()
	d.SetRoot(e.Copy())
	s, _ := d.WriteToString()
	return s
}

// resolve loads the annuaire fixtures and checks the recipient and an
// outsider, as a DPI would before letting a user send.
func resolve(step func(int, string, ...any), more func(string, ...any), to string) (annuaire.Mailbox, error) {
	ctx := context.Background()
	t0 := time.Now()
	f, err := fixtures.Open("testdata/" + extractionName)
	if err != nil {
		return annuaire.Mailbox{}, err
	}
	defer f.Close()
	ix, err := extraction.LoadIndex(ctx, f, extraction.LoadOptions{Generated: extraction.GeneratedFromName(extractionName)})
	if err != nil {
		return annuaire.Mailbox{}, err
	}
	var dir extraction.Directory
	if err := dir.Swap(ix); err != nil {
		return annuaire.Mailbox{}, err
	}
	rep := ix.Report()
	xml, err := fixtures.Open("testdata/listeblanche.xml")
	if err != nil {
		return annuaire.Mailbox{}, err
	}
	defer xml.Close()
	sum, err := fixtures.ReadFile("testdata/listeblanche.checksum")
	if err != nil {
		return annuaire.Mailbox{}, err
	}
	lb, err := listeblanche.Read(xml, string(sum))
	if err != nil {
		return annuaire.Mailbox{}, err
	}
	step(2, "annuaire: %s, %d mailboxes, %d malformed lines; liste blanche of %s, %d domains, SHA-256 verified; loaded in %v",
		extractionName, rep.Mailboxes, rep.ErrorCount, lb.Generated.Format("2006-01-02"), lb.Len(), time.Since(t0).Round(time.Microsecond))
	for _, t := range lb.Tolerated {
		more("liste blanche tolerated: %s", t)
	}
	r := &annuaire.Resolver{Offline: &dir, Trust: lb}
	vs := r.Check(ctx, []string{to, outsider})
	for _, v := range vs {
		verdict := "refused"
		if v.Kind == annuaire.MSSante && v.Trusted {
			verdict = "accepted"
		}
		more("%s %s: %s", verdict, v.Address, v.Reason)
	}
	if v := vs[0]; v.Kind != annuaire.MSSante || !v.Trusted || len(v.Mailboxes) == 0 {
		return annuaire.Mailbox{}, fmt.Errorf("recipient %s: %s", v.Address, v.Reason)
	}
	if vs[1].Kind != annuaire.Unknown {
		return annuaire.Mailbox{}, fmt.Errorf("%s should be unknown to the trust space: %s", outsider, vs[1].Reason)
	}
	box := vs[0].Mailboxes[0]
	more("recipient: %s %s %s, %s, RPPS %s, %s (%s)", box.Owner.Civility, box.Owner.Given, box.Owner.Family,
		box.Owner.Profession.Label, box.Owner.ID, box.Structure.Name, box.Structure.CityLine)
	return box, nil
}

// document describes a generated PDF report with a CDA level-1 header;
// the message wraps them in the CDA document and the IHE_XDM.ZIP.
func document(step func(int, string, ...any), id *ins.Identity) (*cda.Header, []byte, error) {
	pdf := testdocs.PDF("Compte rendu de consultation - PAT-TROIS DOMINIQUE", 200_000)
	now := time.Now()
	doctor := &cda.Person{
		ID:           cda.II{Extension: "810001234565"}, // IDNPS: 8 + RPPS (fictitious)
		Name:         cda.Name{Given: "Marcel", Family: "CAMPARINI", Suffix: "DR"},
		Specialty:    cda.Code{Code: "G15_10/SM54"}, // JDV_J01: médecine générale
		Organization: &cda.Organization{ID: cda.II{Extension: "1930000013"}, Name: "Centre de santé des Lilas"},
	}
	header := &cda.Header{
		ID:                 cda.II{Root: "1.2.250.1.999.1.1.4242", Extension: now.Format("20060102150405.000")},
		Type:               cda.Code{Code: "11488-4"}, // JDV_J07: compte rendu de consultation
		Title:              "Compte rendu de consultation",
		EffectiveTime:      cda.At(now),
		Patient:            id,
		Authors:            []cda.Author{{Time: cda.At(now), Person: doctor}},
		Custodian:          *doctor.Organization,
		LegalAuthenticator: cda.LegalAuthenticator{Time: cda.At(now), Person: *doctor},
		ServiceEvents:      []cda.ServiceEvent{{Low: cda.At(now.Add(-30 * time.Minute)), PracticeSetting: cda.Code{Code: "AMBULATOIRE"}}},
		Encounter:          cda.Encounter{Low: cda.At(now.Add(-30 * time.Minute)), FacilityType: cda.Code{Code: "SA07"}},
	}
	if err := header.Validate(); err != nil {
		return nil, nil, err
	}
	step(3, "document: %s (%s), %d-byte PDF, by %s for %s, CDA header valid (CI-SIS StrucMin rules)",
		header.Title, header.Type.Code, len(pdf), authorName(*header), header.Patient.INS.Matricule)
	return header, pdf, nil
}

// exchange runs the exchange over the network on the embedded operator:
// build and check the message, send it, receive and acknowledge it, read
// the acknowledgements back, verify the trace log.
func exchange(step func(int, string, ...any), more func(string, ...any), id *ins.Identity, box annuaire.Mailbox,
	header *cda.Header, pdf []byte, logPath string, keep *files) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// 4. The message, written once: the bytes checked are the bytes sent.
	msg := &mssante.Message{
		From:      mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "Centre de santé des Lilas"},
		To:        []string{box.Address},
		Text:      "Bonjour,\nveuillez trouver ci-joint le compte rendu de consultation.\n",
		Documents: []mssante.Document{{Header: header, PDF: mssante.BytesOpener(pdf)}},
		XDM: xdm.Options{
			SourceID:     "1.2.250.1.999.1.2",
			ContentType:  xdm.Code{Code: "04"},
			Sender:       "Dr Marcel CAMPARINI",
			Organization: "Centre de santé des Lilas",
			Application:  xdm.Application{Name: "gomss quickstart", Version: "dev", Vendor: "gomss"},
		},
		Product:     product,
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}
	var eml bytes.Buffer
	if _, err := msg.WriteTo(&eml); err != nil {
		return err
	}
	keep.add("message.eml", eml.Bytes())
	asReceived, err := mssante.Parse(io.MultiReader(strings.NewReader("Return-Path: <"+msg.From.Address+">\r\n"), bytes.NewReader(eml.Bytes())), nil)
	if err != nil {
		return err
	}
	if ps := asReceived.Check(); len(ps) > 0 {
		return fmt.Errorf("the message breaks Ref#2 rules: %v", ps)
	}
	step(4, "message %s: %d bytes, from %q <%s>, subject %q", msg.MessageID, eml.Len(), msg.From.Label(), msg.From.Address, msg.EffectiveSubject())
	more("X-MSS-CODECDA %v, X-MSS-INS %s, X-MSS-NIL %s; attachments %s; Ref#2 check: 0 rule broken",
		asReceived.MSS.CodeCDA, asReceived.MSS.INS, asReceived.MSS.NIL, attachmentNames(asReceived))
	if asReceived.XDM == nil || len(asReceived.XDM.Documents) != 1 {
		return fmt.Errorf("the message carries no readable archive: %v", asReceived.XDMErr)
	}
	entry := asReceived.XDM.Documents[0].Entry
	more("%s: %s %s (%d bytes, SHA-1 %s), type %s %s, class %s, format %s, patientId %s",
		xdm.ArchiveName, asReceived.XDM.Subset, entry.URI, entry.Size, entry.Hash,
		entry.Type.Code, entry.Type.Display, entry.Class.Code, entry.Format.Code, asReceived.PatientID)

	// 5. The embedded operator and the signed trace log.
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
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return err
	}
	// Each checkpoint is also kept away from the log (here in memory; in a
	// product another host or the syslog collector) to verify against.
	var kept []string
	tl, err := trace.OpenFileLog(trace.FileLogConfig{Path: logPath, Signer: signer, Verifier: verifier, Durable: true,
		OnCheckpoint: func(c *trace.Checkpoint) { kept = append(kept, c.Note) }})
	if err != nil {
		return err
	}
	defer tl.Close()
	step(5, "test operator up in %v: SMTP %s, IMAP %s; IGC-Santé-like PKI, CRLs served; trace log %s",
		time.Since(t0).Round(time.Millisecond), op.SMTPAddr, op.IMAPAddr, filepath.Base(logPath))

	trust := &bal.Trust{Roots: []*x509.Certificate{pki.RootFort.Cert, pki.RootElementaire.Cert}}
	lps, err := bal.NewCertificate(pki.ORG.TLSCertificate()) // the applicative BAL's software certificate
	if err != nil {
		return err
	}
	cps, err := bal.NewCertificate(pki.CPS.TLSCertificate()) // the recipient's certificate
	if err != nil {
		return err
	}
	smtpEP, err := setup.ParseEndpoint("SMTP", op.SMTPAddr, 0) // STARTTLS ports
	if err != nil {
		return err
	}
	imapEP, err := setup.ParseEndpoint("IMAP", op.IMAPAddr, 0)
	if err != nil {
		return err
	}
	sender := func(auth bal.Authenticator, addr string) *bal.Sender {
		return &bal.Sender{Server: smtpEP, ServerName: "localhost", Trust: trust, Auth: auth,
			Mailbox: trace.Mailbox{Address: addr}, Trace: tl, Software: "gomss quickstart"}
	}
	receiver := func(auth bal.Authenticator, addr string) *bal.Receiver {
		return &bal.Receiver{Server: imapEP, ServerName: "localhost", Trust: trust, Auth: auth,
			Mailbox: trace.Mailbox{Address: addr}, Trace: tl, Software: "gomss quickstart"}
	}

	// 6. Send the checked bytes.
	t1 := time.Now()
	batch, err := sender(lps, baltest.ORGUser).Batch(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w\n%s", err, op.Log())
	}
	res, err := batch.SendRaw(ctx, msg.Envelope(), msg.MessageID, eml.Bytes())
	batch.Close()
	if err != nil {
		return fmt.Errorf("send: %w\n%s", err, op.Log())
	}
	step(6, "sent from %s over STARTTLS with its software certificate in %v: %d bytes accepted for %v, DSN requested %v",
		baltest.ORGUser, time.Since(t1).Round(time.Millisecond), res.Size, res.Accepted, res.DSN)

	// 7. The recipient's receive loop: integrate, then acknowledge.
	wantSum := sha256.Sum256(pdf)
	var integrated []string
	loop := &bal.Loop{
		Receiver: receiver(cps, box.Address),
		Sender:   sender(cps, box.Address),
		From:     mssante.Sender{Address: box.Address, Kind: mssante.Personal, GivenName: box.Owner.Given, FamilyName: box.Owner.Family},
		Product:  product,
		Handler: func(ctx context.Context, m *mssante.Received) error {
			// A failure here is sent back as an MDN processed/Error with
			// the integration code returned.
			if m.XDM == nil || len(m.XDM.Documents) != 1 {
				return mssante.IntegrationOther
			}
			// Reading the document to its end checks its SHA-1 and size
			// against METADATA.XML (xdm.Document.Open): one pass.
			rc, err := m.XDM.Documents[0].Open()
			if err != nil {
				return mssante.IntegrationOther
			}
			cdaDoc, err := io.ReadAll(rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return mssante.IntegrationOther
			}
			cr := cda.NewReader(bytes.NewReader(cdaDoc), nil)
			doc, err := cr.Header()
			if err != nil || doc.PatientErr != nil {
				return mssante.IntegrationOther
			}
			if got := doc.Patient.Identity.INS.Matricule; got != id.INS.Matricule {
				return mssante.IntegrationINSMismatch
			}
			var body bytes.Buffer
			if _, err := cr.Body(&body); err != nil || sha256.Sum256(body.Bytes()) != wantSum {
				return mssante.IntegrationOther
			}
			// The DPI files the document into the patient's record
			// (filing.go: mssante/intake on the practice's records).
			filed, err := fileIntoPatient(ctx, m, cdaDoc, tl, cps.Actor(), trace.Mailbox{Address: box.Address})
			if err != nil {
				return err
			}
			keep.add("message-received.eml", m.Raw)
			if a := m.Attachment(xdm.ArchiveName); a != nil {
				keep.add(xdm.ArchiveName, a.Data)
			}
			keep.add(m.XDM.Documents[0].Entry.URI, cdaDoc)
			integrated = append(integrated,
				fmt.Sprintf("archive %s verified (SHA-1 and size), %q by %s, patient INS %s, PDF identical (%d bytes); %s",
					m.XDM.Subset, doc.Header.Title, authorName(doc.Header), doc.Patient.Identity.INS.Matricule, body.Len(), filed))
			return nil
		},
	}
	t2 := time.Now()
	n, err := loop.ProcessOnce(ctx)
	if err != nil || n != 1 || len(integrated) != 1 {
		return fmt.Errorf("receive loop: %d handled, %d integrated, %v\n%s", n, len(integrated), err, op.Log())
	}
	step(7, "received by %s and integrated in %v: %s", box.Address, time.Since(t2).Round(time.Millisecond), integrated[0])
	more("MDN sent, message moved to Traites")

	// 8. Back at the sender: the DSN from the operator, the MDN from the
	// recipient.
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
			keep.add("mdn.eml", f.Message.Raw)
		}
	}
	if len(acks) < 2 {
		return fmt.Errorf("expected a DSN and an MDN back, got %v", acks)
	}
	step(8, "back at %s: %s", baltest.ORGUser, strings.Join(acks, ", "))

	// 9. The trace log: every action above, verified.
	if err := tl.Close(); err != nil {
		return err
	}
	vr, err := trace.VerifyAgainst(logPath, verifier, kept...)
	if err != nil {
		return err
	}
	counts := map[trace.Action]int{}
	var actors []string
	seen := map[string]bool{}
	if _, err := trace.Scan(logPath, trace.Filter{}, func(_ int64, e trace.Event) error {
		if e.Response.OK {
			counts[e.Action]++
		}
		if a := e.Mailbox.Address; !seen[a] {
			seen[a] = true
			actors = append(actors, a)
		}
		return nil
	}); err != nil {
		return err
	}
	step(9, "trace log verified: %d records, %d signed checkpoint(s), %d kept elsewhere; mailboxes %s; successful actions %v",
		vr.Records, vr.Checkpoints, vr.Witnessed, strings.Join(actors, ", "), counts)
	return nil
}

func attachmentNames(m *mssante.Received) string {
	var names []string
	for _, a := range m.Attachments {
		names = append(names, fmt.Sprintf("%s (%d bytes)", a.Name, len(a.Data)))
	}
	return strings.Join(names, " + ")
}

func authorName(h cda.Header) string {
	if len(h.Authors) == 0 || h.Authors[0].Person == nil {
		return "?"
	}
	n := h.Authors[0].Person.Name
	return strings.TrimSpace(n.Suffix + " " + n.Given + " " + n.Family)
}
