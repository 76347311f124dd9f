// SPDX-License-Identifier: Apache-2.0

// Command send-report sends a PDF report to an MSSanté mailbox through a
// real operator, from an applicative (or organisational) BAL authenticated
// by its IGC-Santé software certificate (PKCS#12), or from a health
// professional's personal BAL authenticated by a CPS card (PKCS#11).
//
// The PDF becomes the body of a CI-SIS CDA level-1 document, carried in an
// IHE_XDM.ZIP with the PDF beside it, in a message following the
// Référentiel socle MSSanté #2 (X-MSS-NIL, X-MSS-CODECDA, X-MSS-INS,
// XDM/1.0/DDM+ subject). The patient's matricule INS is written only
// because the command treats the identity given as qualified (INSi call
// plus identity document check): pass -ins only for such an identity.
// Every mailbox action is written to a signed trace log (package trace).
//
// Usage:
//
//	send-report -smtp host:port | -domain DOMAIN
//	    -p12 FILE [-p12-password-env VAR] | -pkcs11 MODULE [-token-label LABEL] [-pin-env VAR] [-cps-mode MODE] [-chain FILE]
//	    -roots FILE
//	    -from ADDR -to ADDR[,ADDR…] -pdf FILE -product NIL -oid OID
//	    -ins MATRICULE [-ins-oid OID] -family NAME -given "NAMES" -birth YYYYMMDD -sex F|M -cog CODE
//	    -rpps IDNPS -author-family NAME -author-given NAME -org-idnst IDNST -org-name NAME
//	    [-type 11488-4] [-title TITLE] [-specialty CODE] [-mdn]
//	    -trace FILE -trace-signer FILE -trace-verifier FILE
//	    [-dry-run DIR]
//
// -smtp is the operator's submission server (port 465 means implicit TLS,
// anything else STARTTLS); -domain finds it instead by DNS SRV
// (_submission._tcp, RFC 6186). -server-name overrides the name checked in
// the operator's certificate. -roots is a PEM file of the IGC-Santé root
// certificates (the only authority accepted); the certificate chain is
// checked against the CRLs of its distribution points. The PKCS#12
// password is read from the environment variable named by
// -p12-password-env (MSS_P12_PASSWORD by default), never from the command
// line.
//
// -pkcs11 is the PKCS#11 library of the card (for a CPS, the Cryptolib CPS
// library installed by the ANS package); -token-label selects the card
// when several are present; the PIN is read from the environment variable
// named by -pin-env (MSS_CPS_PIN by default). The sender is then the card
// holder's personal BAL, labelled with the names the card's certificate
// carries. -cps-mode is tls13-pss (default: cards that sign RSA-PSS) or
// tls12-pkcs1 (cards that only sign PKCS#1 v1.5, TLS 1.2). -chain is a PEM
// file of the intermediate certificates sent after the card's own (a card
// holds only its certificate; an operator that names its acceptable
// authorities needs the chain to the IGC-Santé root). PKCS#11 needs
// cgo: a CGO_ENABLED=0 build refuses -pkcs11 with a clear error.
//
// -oid is the OID of the sending system: XDS sourceId and root of the
// document identifiers. -rpps is the author's IDNPS (8 followed by the
// RPPS number), -org-idnst the structure's IDNST; -org-name also labels the
// sending BAL.
//
// -trace-signer and -trace-verifier are files holding the note key pair
// (golang.org/x/mod/sumdb/note format) that signs the trace checkpoints;
// check the log afterwards with the trace-verify example.
//
// With -dry-run DIR nothing is sent and no network or certificate is
// needed: the message is written to DIR/message.eml and its archive to
// DIR/IHE_XDM.ZIP, and the message is checked against the Ref#2 rules.
//
// Exit status: 0 sent (or written), 1 failure, 2 usage error.
package main

import (
	"github.com/ecdaf744/gomss/examples/internal/setup"

	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	smtp, domain, serverName                   string
	p12, p12PasswordEnv, roots                 string
	pkcs11, tokenLabel, pinEnv, cpsMode, chain string
	from, to, pdf, product, oid                string
	matricule, insOID, family, given, birth    string
	sex, cog                                   string
	rpps, authorFamily, authorGiven, specialty string
	orgIDNST, orgName                          string
	docType, title                             string
	mdn                                        bool
	tracePath, traceSigner, traceVerifier      string
	dryRun                                     string
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.smtp, "smtp", "", "operator submission server `host:port`")
	fs.StringVar(&o.domain, "domain", "", "mail domain whose submission server is found by DNS SRV")
	fs.StringVar(&o.serverName, "server-name", "", "name checked in the operator's certificate (host of -smtp by default)")
	fs.StringVar(&o.p12, "p12", "", "PKCS#12 `file` of the BAL's software certificate")
	fs.StringVar(&o.p12PasswordEnv, "p12-password-env", "MSS_P12_PASSWORD", "environment `variable` holding the PKCS#12 password")
	fs.StringVar(&o.pkcs11, "pkcs11", "", "PKCS#11 `module` of the CPS card (instead of -p12)")
	fs.StringVar(&o.tokenLabel, "token-label", "", "`label` of the card's token when several are present")
	fs.StringVar(&o.pinEnv, "pin-env", "MSS_CPS_PIN", "environment `variable` holding the card's PIN")
	fs.StringVar(&o.cpsMode, "cps-mode", "tls13-pss", "card signature `mode`: tls13-pss or tls12-pkcs1")
	fs.StringVar(&o.chain, "chain", "", "PEM `file` of the intermediate certificates sent after the card's")
	fs.StringVar(&o.roots, "roots", "", "PEM `file` of the IGC-Santé root certificates")
	fs.StringVar(&o.from, "from", "", "sending BAL address")
	fs.StringVar(&o.to, "to", "", "recipient addresses, comma separated")
	fs.StringVar(&o.pdf, "pdf", "", "PDF `file` of the report")
	fs.StringVar(&o.product, "product", "", "product reference declared on Convergence (X-MSS-NIL)")
	fs.StringVar(&o.oid, "oid", "", "`OID` of the sending system (XDS sourceId, root of document ids)")
	fs.StringVar(&o.matricule, "ins", "", "patient's matricule INS (qualified identity only)")
	fs.StringVar(&o.insOID, "ins-oid", string(ins.AuthorityNIR), "assigning authority `OID` of the matricule INS")
	fs.StringVar(&o.family, "family", "", "patient's birth family name")
	fs.StringVar(&o.given, "given", "", "patient's birth given names, space separated, first one first")
	fs.StringVar(&o.birth, "birth", "", "patient's birth date `YYYYMMDD`")
	fs.StringVar(&o.sex, "sex", "", "patient's sex, F or M")
	fs.StringVar(&o.cog, "cog", "", "COG `code` of the patient's birth place")
	fs.StringVar(&o.rpps, "rpps", "", "author's IDNPS (8 + RPPS)")
	fs.StringVar(&o.authorFamily, "author-family", "", "author's family name")
	fs.StringVar(&o.authorGiven, "author-given", "", "author's given name")
	fs.StringVar(&o.specialty, "specialty", "G15_10/SM26", "author's specialty `code` (JDV_J01)")
	fs.StringVar(&o.orgIDNST, "org-idnst", "", "IDNST of the author's structure")
	fs.StringVar(&o.orgName, "org-name", "", "name of the author's structure (also the sending BAL's label)")
	fs.StringVar(&o.docType, "type", "11488-4", "document type, LOINC `code` of JDV_J07")
	fs.StringVar(&o.title, "title", "Compte rendu", "document title")
	fs.BoolVar(&o.mdn, "mdn", false, "ask for a read receipt (MDN)")
	fs.StringVar(&o.tracePath, "trace", "", "trace log `file` (JSON Lines)")
	fs.StringVar(&o.traceSigner, "trace-signer", "", "`file` holding the note signer key of the trace")
	fs.StringVar(&o.traceVerifier, "trace-verifier", "", "`file` holding the note verifier key of the trace")
	fs.StringVar(&o.dryRun, "dry-run", "", "write the message into `DIR` instead of sending it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "send-report:", err)
		fs.Usage()
		return 2
	}
	if err := send(context.Background(), &o, stdout); err != nil {
		fmt.Fprintln(stderr, "send-report:", err)
		return 1
	}
	return 0
}

func (o *options) check() error {
	var missing []string
	for name, v := range map[string]string{
		"-from": o.from, "-to": o.to, "-pdf": o.pdf, "-product": o.product, "-oid": o.oid,
		"-ins": o.matricule, "-family": o.family, "-given": o.given, "-birth": o.birth, "-sex": o.sex, "-cog": o.cog,
		"-rpps": o.rpps, "-author-family": o.authorFamily, "-author-given": o.authorGiven,
		"-org-idnst": o.orgIDNST, "-org-name": o.orgName,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if o.dryRun == "" {
		if (o.smtp == "") == (o.domain == "") {
			missing = append(missing, "-smtp or -domain (one of them)")
		}
		if (o.p12 == "") == (o.pkcs11 == "") {
			missing = append(missing, "-p12 or -pkcs11 (one of them)")
		}
		for name, v := range map[string]string{"-roots": o.roots, "-trace": o.tracePath,
			"-trace-signer": o.traceSigner, "-trace-verifier": o.traceVerifier} {
			if v == "" {
				missing = append(missing, name)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// identity is the patient as the DPI holds it once qualified.
func (o *options) identity() (*ins.Identity, error) {
	m, err := ins.ParseMatricule(o.matricule)
	if err != nil {
		return nil, err
	}
	auth, err := ins.ParseAuthority(o.insOID)
	if err != nil {
		return nil, err
	}
	birth, err := ins.ParseDate(o.birth)
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(o.given), " ")
	id := &ins.Identity{
		Status: ins.Qualified,
		INS:    ins.INS{Matricule: m, Authority: auth},
		Traits: ins.Traits{BirthFamilyName: strings.ToUpper(o.family), FirstBirthGivenName: strings.ToUpper(first),
			BirthGivenNames: strings.ToUpper(o.given), BirthDate: birth, Sex: ins.Sex(strings.ToUpper(o.sex)), BirthPlace: o.cog},
	}
	if err := id.Validate(); err != nil {
		return nil, err
	}
	if c := id.Coherence(); len(c) > 0 {
		return nil, fmt.Errorf("the traits contradict the matricule INS: %s", strings.Join(c, "; "))
	}
	return id, nil
}

func (o *options) message() (*mssante.Message, error) {
	id, err := o.identity()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(o.pdf); err != nil {
		return nil, err
	}
	now := time.Now()
	org := &cda.Organization{ID: cda.II{Extension: o.orgIDNST}, Name: o.orgName}
	author := &cda.Person{
		ID:           cda.II{Extension: o.rpps},
		Name:         cda.Name{Given: o.authorGiven, Family: o.authorFamily},
		Specialty:    cda.Code{Code: o.specialty},
		Organization: org,
	}
	header := &cda.Header{
		ID:                 cda.II{Root: o.oid, Extension: now.Format("20060102150405.000")},
		Type:               cda.Code{Code: o.docType},
		Title:              o.title,
		EffectiveTime:      cda.At(now),
		Patient:            id,
		Authors:            []cda.Author{{Time: cda.At(now), Person: author}},
		Custodian:          *org,
		LegalAuthenticator: cda.LegalAuthenticator{Time: cda.At(now), Person: *author},
		ServiceEvents:      []cda.ServiceEvent{{Low: cda.At(now), PracticeSetting: cda.Code{Code: "AMBULATOIRE"}}},
		Encounter:          cda.Encounter{Low: cda.At(now), FacilityType: cda.Code{Code: "SA07"}},
	}
	if err := header.Validate(); err != nil {
		return nil, err
	}
	var to []string
	for _, a := range strings.Split(o.to, ",") {
		if a = strings.TrimSpace(a); a != "" {
			to = append(to, a)
		}
	}
	m := &mssante.Message{
		From:        mssante.Sender{Address: o.from, Kind: mssante.Applicative, Entity: o.orgName},
		To:          to,
		Text:        "Bonjour,\nveuillez trouver ci-joint : " + o.title + ".\n",
		Documents:   []mssante.Document{{Header: header, PDF: mssante.FileOpener(o.pdf)}},
		XDM:         xdm.Options{SourceID: o.oid, ContentType: xdm.Code{Code: "04"}, Organization: o.orgName},
		Product:     o.product,
		ReadReceipt: o.mdn,
	}
	return m, m.Validate()
}

func send(ctx context.Context, o *options, w io.Writer) error {
	m, err := o.message()
	if err != nil {
		return err
	}
	if o.dryRun != "" {
		return dryRun(m, o.dryRun, w)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	server, err := o.endpoint(ctx)
	if err != nil {
		return err
	}
	serverName := o.serverName
	if serverName == "" {
		serverName = server.Host
	}
	roots, err := setup.ReadCertificates(o.roots)
	if err != nil {
		return err
	}
	var auth bal.Authenticator
	if o.pkcs11 != "" {
		card, closeCard, from, err := openCard(ctx, o)
		if err != nil {
			return err
		}
		defer closeCard()
		auth, m.From = card, from
	} else {
		cert, err := setup.OpenPKCS12(o.p12, o.p12PasswordEnv)
		if err != nil {
			return err
		}
		auth = cert
	}
	tl, err := setup.OpenTrace(o.tracePath, o.traceSigner, o.traceVerifier, o.from)
	if err != nil {
		return err
	}
	s := &bal.Sender{Server: server, ServerName: serverName, Trust: &bal.Trust{Roots: roots}, Auth: auth,
		Mailbox: trace.Mailbox{Address: o.from}, Trace: tl, Software: "gomss send-report"}
	res, err := s.Send(ctx, m)
	if cerr := tl.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sent %s (%d bytes, subject %q) from %q <%s>, accepted for %s\n",
		res.MessageID, res.Size, m.EffectiveSubject(), m.From.Label(), o.from, strings.Join(res.Accepted, ", "))
	return nil
}

func (o *options) endpoint(ctx context.Context) (bal.Endpoint, error) {
	if o.domain != "" {
		op, err := bal.Discover(ctx, o.domain, net.DefaultResolver, bal.Operator{})
		if err != nil {
			return bal.Endpoint{}, err
		}
		return op.SMTP, nil
	}
	return setup.ParseEndpoint("-smtp", o.smtp, 465)
}

// dryRun writes the message and its archive into dir and checks the
// message against the Ref#2 rules.
func dryRun(m *mssante.Message, dir string, w io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var eml bytes.Buffer
	if _, err := m.WriteTo(&eml); err != nil {
		return err
	}
	problems, err := mssante.Check(bytes.NewReader(eml.Bytes()))
	if err != nil {
		return err
	}
	r, err := mssante.Parse(bytes.NewReader(eml.Bytes()), nil)
	if err != nil {
		return err
	}
	files := map[string][]byte{"message.eml": eml.Bytes()}
	if p := r.Attachment(xdm.ArchiveName); p != nil {
		files[xdm.ArchiveName] = p.Data
	}
	for _, name := range []string{"message.eml", xdm.ArchiveName} {
		if data, ok := files[name]; ok {
			fn := filepath.Join(dir, name)
			if err := os.WriteFile(fn, data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s (%d bytes)\n", fn, len(data))
		}
	}
	fmt.Fprintf(w, "message %s, subject %q, to %s\n", m.MessageID, m.EffectiveSubject(), strings.Join(m.To, ", "))
	if len(problems) > 0 {
		var b strings.Builder
		for _, p := range problems {
			b.WriteString("\n  " + p.String())
		}
		return errors.New("the message breaks Ref#2 rules:" + b.String())
	}
	return nil
}
