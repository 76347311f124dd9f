// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// The applicative BAL of a practice's software sends a consultation
// report, authenticated by its IGC-Santé software certificate, then runs
// its receive loop once: each report received is handed to the software,
// then answered with the read receipt (MDN) its sender asked for, and
// filed.
//
// The program needs an MSSanté operator, its servers named by the DNS SRV
// records of the BAL's domain (RFC 6186); the BAL's PKCS#12 file, its
// password in MSS_P12_PASSWORD; the IGC-Santé root certificates (PEM); the
// note keys that sign the trace log (made once by note.GenerateKey, see
// trace.ExampleVerify) in MSS_TRACE_SIGNER and MSS_TRACE_VERIFIER; and the
// PDF. So it is not run here: TestExample runs lpsBAL.run against the
// in-process test operator of bal/baltest.
func Example() {
	lps := &lpsBAL{
		Address:       "lps@centre-lilas.mssante.fr",
		PKCS12:        "lps.p12",
		Password:      os.Getenv("MSS_P12_PASSWORD"),
		Roots:         "igc-sante-roots.pem",
		TraceLog:      "trace.jsonl",
		TraceSigner:   os.Getenv("MSS_TRACE_SIGNER"),
		TraceVerifier: os.Getenv("MSS_TRACE_VERIFIER"),
	}
	if err := lps.run(context.Background(), "secretariat@chu-exemple.mssante.fr", "report.pdf"); err != nil {
		log.Fatal(err)
	}
}

// lpsBAL is the applicative BAL and what it needs to reach its operator.
type lpsBAL struct {
	Address  string
	Operator bal.Operator // explicit endpoints; the others found by DNS SRV
	PKCS12   string       // the BAL's software certificate
	Password string
	Roots    string // IGC-Santé roots, the only ones trusted (Ref#2 ECO.1.1.10)
	// The trace log of every action, and its note keys.
	TraceLog, TraceSigner, TraceVerifier string
}

// run sends the PDF report to recipient, then processes the BAL's INBOX.
func (b *lpsBAL) run(ctx context.Context, recipient, pdf string) (err error) {
	pfx, err := os.ReadFile(b.PKCS12)
	if err != nil {
		return err
	}
	cert, err := bal.NewCertificateFromPKCS12(pfx, b.Password)
	if err != nil {
		return fmt.Errorf("%s: %w", b.PKCS12, err)
	}
	roots, err := readCertificates(b.Roots)
	if err != nil {
		return err
	}
	_, domain, _ := strings.Cut(b.Address, "@")
	op, err := bal.Discover(ctx, domain, net.DefaultResolver, b.Operator)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(b.TraceSigner)
	if err != nil {
		return fmt.Errorf("trace signer key: %w", err)
	}
	verifier, err := note.NewVerifier(b.TraceVerifier)
	if err != nil {
		return fmt.Errorf("trace verifier key: %w", err)
	}
	traces, err := trace.OpenFileLog(trace.FileLogConfig{Path: b.TraceLog, Signer: signer, Verifier: verifier, Durable: true})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := traces.Close(); err == nil {
			err = cerr
		}
	}()

	trust := &bal.Trust{Roots: roots} // checks the operator's chain against the CRLs
	mailbox := trace.Mailbox{Address: b.Address, Kind: "APP"}
	sender := &bal.Sender{Server: op.SMTP, Trust: trust, Auth: cert, Mailbox: mailbox, Trace: traces}
	receiver := &bal.Receiver{Server: op.IMAP, Trust: trust, Auth: cert, Mailbox: mailbox, Trace: traces}
	from := mssante.Sender{Address: b.Address, Kind: mssante.Applicative, Entity: "Centre de santé des Lilas"}

	m, err := consultationReport(from, recipient, mssante.FileOpener(pdf))
	if err != nil {
		return err
	}
	res, err := sender.Send(ctx, m)
	if err != nil {
		return err
	}
	fmt.Println("accepted:", res.Accepted)

	loop := &bal.Loop{Receiver: receiver, Sender: sender, From: from, Product: "DEV935997", Handler: integrate}
	n, err := loop.ProcessOnce(ctx)
	fmt.Println("handled:", n)
	return err
}

// integrate hands a received report to the software (which would file the
// document in the patient's record; an error is answered with the MDN of
// an integration error).
func integrate(_ context.Context, r *mssante.Received) error {
	if r.XDM == nil {
		return fmt.Errorf("IHE_XDM.ZIP: %w", r.XDMErr)
	}
	if r.PatientID == nil {
		return mssante.IntegrationINSAbsent
	}
	if err := r.XDM.Verify(); err != nil {
		return err
	}
	fmt.Println("integrating:", r.DisplaySubject())
	return nil
}

// consultationReport is the message carrying the report: its CDA header
// (see cda.ExampleWrite for the fields) about the ANS test patient, whose
// INS, qualified, is of the test authority that production systems
// refuse.
func consultationReport(from mssante.Sender, to string, pdf mssante.Opener) (*mssante.Message, error) {
	m, err := ins.ParseMatricule("279035121518989")
	if err != nil {
		return nil, err
	}
	patient := &ins.Identity{
		Status: ins.Qualified,
		INS:    ins.INS{Matricule: m, Authority: ins.AuthorityNIRTest},
		Traits: ins.Traits{
			BirthFamilyName: "PAT-TROIS", FirstBirthGivenName: "DOMINIQUE", BirthGivenNames: "DOMINIQUE MARIE-LOUISE",
			BirthDate: ins.Date{Year: 1979, Month: 3, Day: 28}, Sex: ins.Female, BirthPlace: "51215",
		},
	}
	doctor := &cda.Person{
		ID:           cda.II{Extension: "801234567890"}, // 8 + RPPS
		Name:         cda.Name{Given: "Marcel", Family: "CAMPARINI", Suffix: "DR"},
		Specialty:    cda.Code{Code: "G15_10/SM26"},
		Organization: &cda.Organization{ID: cda.II{Extension: "1750803447"}, Name: "Centre de santé des Lilas"},
	}
	now := time.Now()
	at := cda.At(now)
	header := &cda.Header{
		ID:                 cda.II{Root: "1.2.250.1.999.1.1.4242", Extension: now.Format("20060102150405")},
		Type:               cda.Code{Code: "11488-4"},
		Title:              "Compte rendu de consultation",
		EffectiveTime:      at,
		Patient:            patient,
		Authors:            []cda.Author{{Time: at, Person: doctor}},
		Custodian:          *doctor.Organization,
		LegalAuthenticator: cda.LegalAuthenticator{Time: at, Person: *doctor},
		ServiceEvents:      []cda.ServiceEvent{{Low: at, PracticeSetting: cda.Code{Code: "AMBULATOIRE"}}},
		Encounter:          cda.Encounter{Low: at, FacilityType: cda.Code{Code: "SA07"}},
	}
	return &mssante.Message{
		From:        from,
		To:          []string{to},
		Text:        "Compte rendu ci-joint.",
		Documents:   []mssante.Document{{Header: header, PDF: pdf}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV935997", // X-MSS-NIL
		ReadReceipt: true,
		DSN:         mssante.DSN{Notify: []string{"SUCCESS", "FAILURE"}, Return: "HDRS"},
	}, nil
}

// readCertificates reads the certificates of a PEM file.
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return certs, nil
}
