// SPDX-License-Identifier: Apache-2.0

// Command write-to-patient sends a message to a patient's Mon espace santé
// mailbox, <matricule INS>@patient.mssante.fr, through a real operator,
// from a BAL authenticated by its IGC-Santé software certificate
// (PKCS#12).
//
// The address is built from the patient's INS by package ins, which
// emits the matricule only for a qualified identity (RNIV status QUAL:
// INSi call and identity document check): with any other -status the
// command refuses to write. The traits given are checked against the
// matricule (sex, birth month and year, birth place).
//
// Usage:
//
//	write-to-patient -smtp host:port | -domain DOMAIN
//	    -p12 FILE [-p12-password-env VAR] -roots FILE
//	    -from ADDR (-entity LABEL | -from-given NAME -from-family NAME [-from-title Dr])
//	    -product NIL -subject TEXT (-text TEXT | -text-file FILE)
//	    -ins MATRICULE [-ins-oid OID] [-status QUAL] -family NAME -given "NAMES" -birth YYYYMMDD -sex F|M -cog CODE
//	    [-no-reply] [-reply-to ADDR]
//	    -trace FILE -trace-signer FILE -trace-verifier FILE
//	    [-dry-run DIR]
//
// -no-reply writes X-MSS-MES: FIN: the patient cannot answer the message
// in Mon espace santé. -reply-to names the mailbox the patient's answers go
// to (a secretariat's, say). The sending BAL is personal when -from-family
// is given, organisational otherwise (labelled by -entity).
//
// The transport flags are those of the send-report example: -smtp (port
// 465 means implicit TLS) or -domain (DNS SRV discovery), -server-name,
// -roots (PEM IGC-Santé roots), the PKCS#12 password in the environment
// variable named by -p12-password-env, and the signed trace log (-trace,
// note key files -trace-signer and -trace-verifier). With -dry-run DIR
// nothing is sent: the message is written to DIR/message.eml and checked
// against the Ref#2 rules.
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
	"github.com/ecdaf744/gomss/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("write-to-patient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	smtp := fs.String("smtp", "", "operator submission server `host:port`")
	domain := fs.String("domain", "", "mail domain whose submission server is found by DNS SRV")
	serverName := fs.String("server-name", "", "name checked in the operator's certificate (host of -smtp by default)")
	p12 := fs.String("p12", "", "PKCS#12 `file` of the BAL's software certificate")
	p12Env := fs.String("p12-password-env", "MSS_P12_PASSWORD", "environment `variable` holding the PKCS#12 password")
	rootsFile := fs.String("roots", "", "PEM `file` of the IGC-Santé root certificates")
	from := fs.String("from", "", "sending BAL address")
	entity := fs.String("entity", "", "label of an organisational sending BAL")
	fromTitle := fs.String("from-title", "", "title of a personal sending BAL's owner (Dr)")
	fromGiven := fs.String("from-given", "", "given name of a personal sending BAL's owner")
	fromFamily := fs.String("from-family", "", "family name of a personal sending BAL's owner")
	product := fs.String("product", "", "product reference declared on Convergence (X-MSS-NIL)")
	subject := fs.String("subject", "", "subject of the message")
	text := fs.String("text", "", "body of the message")
	textFile := fs.String("text-file", "", "`file` holding the body of the message (UTF-8)")
	noReply := fs.Bool("no-reply", false, "the patient may not reply (X-MSS-MES: FIN)")
	replyTo := fs.String("reply-to", "", "mailbox the patient's replies go to")
	matricule := fs.String("ins", "", "patient's matricule INS")
	insOID := fs.String("ins-oid", string(ins.AuthorityNIR), "assigning authority `OID` of the matricule INS")
	status := fs.String("status", string(ins.Qualified), "RNIV status of the identity: PROV, RECUP, VALI or QUAL")
	family := fs.String("family", "", "patient's birth family name")
	given := fs.String("given", "", "patient's birth given names, space separated, first one first")
	birth := fs.String("birth", "", "patient's birth date `YYYYMMDD`")
	sex := fs.String("sex", "", "patient's sex, F or M")
	cog := fs.String("cog", "", "COG `code` of the patient's birth place")
	tracePath := fs.String("trace", "", "trace log `file` (JSON Lines)")
	traceSigner := fs.String("trace-signer", "", "`file` holding the note signer key of the trace")
	traceVerifier := fs.String("trace-verifier", "", "`file` holding the note verifier key of the trace")
	dryRun := fs.String("dry-run", "", "write the message into `DIR` instead of sending it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "write-to-patient: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if *from == "" || *product == "" || *subject == "" || *matricule == "" {
		return usage("-from, -product, -subject and -ins are required")
	}
	if (*text == "") == (*textFile == "") {
		return usage("one of -text and -text-file is required")
	}
	if *dryRun == "" && ((*smtp == "") == (*domain == "") || *p12 == "" || *rootsFile == "" ||
		*tracePath == "" || *traceSigner == "" || *traceVerifier == "") {
		return usage("-smtp or -domain, -p12, -roots, -trace, -trace-signer and -trace-verifier are required to send")
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "write-to-patient:", err)
		return 1
	}

	// The patient's address: only a qualified identity has one.
	st, err := ins.ParseStatus(*status)
	if err != nil {
		return fail(err)
	}
	m, err := ins.ParseMatricule(*matricule)
	if err != nil {
		return fail(err)
	}
	auth, err := ins.ParseAuthority(*insOID)
	if err != nil {
		return fail(err)
	}
	bd, err := ins.ParseDate(*birth)
	if err != nil {
		return fail(fmt.Errorf("-birth: %w", err))
	}
	first, _, _ := strings.Cut(strings.TrimSpace(*given), " ")
	id := ins.Identity{Status: st, INS: ins.INS{Matricule: m, Authority: auth},
		Traits: ins.Traits{BirthFamilyName: strings.ToUpper(*family), FirstBirthGivenName: strings.ToUpper(first),
			BirthGivenNames: strings.ToUpper(*given), BirthDate: bd, Sex: ins.Sex(strings.ToUpper(*sex)), BirthPlace: *cog}}
	if err := id.Validate(); err != nil {
		return fail(err)
	}
	if c := id.Coherence(); len(c) > 0 {
		return fail(fmt.Errorf("the traits contradict the matricule INS: %s", strings.Join(c, "; ")))
	}
	to, err := id.MonEspaceSanteAddress()
	if err != nil {
		return fail(err)
	}

	body := *text
	if *textFile != "" {
		b, err := os.ReadFile(*textFile)
		if err != nil {
			return fail(err)
		}
		body = string(b)
	}
	sender := mssante.Sender{Address: *from, Kind: mssante.Organizational, Entity: *entity}
	if *fromFamily != "" {
		sender = mssante.Sender{Address: *from, Kind: mssante.Personal, Title: *fromTitle,
			GivenName: *fromGiven, FamilyName: *fromFamily, Entity: *entity}
	}
	msg := &mssante.Message{From: sender, To: []string{to}, ReplyTo: *replyTo, Subject: *subject,
		Text: body, Product: *product, EndConversation: *noReply}
	if err := msg.Validate(); err != nil {
		return fail(err)
	}

	if *dryRun != "" {
		if err := writeEML(msg, *dryRun, stdout); err != nil {
			return fail(err)
		}
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var server bal.Endpoint
	if *domain != "" {
		op, err := bal.Discover(ctx, *domain, net.DefaultResolver, bal.Operator{})
		if err != nil {
			return fail(err)
		}
		server = op.SMTP
	} else if server, err = setup.ParseEndpoint("-smtp", *smtp, 465); err != nil {
		return fail(err)
	}
	if *serverName == "" {
		*serverName = server.Host
	}
	roots, err := setup.ReadCertificates(*rootsFile)
	if err != nil {
		return fail(err)
	}
	cert, err := setup.OpenPKCS12(*p12, *p12Env)
	if err != nil {
		return fail(err)
	}
	tl, err := setup.OpenTrace(*tracePath, *traceSigner, *traceVerifier, *from)
	if err != nil {
		return fail(err)
	}
	s := &bal.Sender{Server: server, ServerName: *serverName, Trust: &bal.Trust{Roots: roots}, Auth: cert,
		Mailbox: trace.Mailbox{Address: *from}, Trace: tl, Software: "gomss write-to-patient"}
	res, err := s.Send(ctx, msg)
	if cerr := tl.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	// The address carries the matricule INS: not printed.
	fmt.Fprintf(stdout, "sent %s (%d bytes) to the patient's Mon espace santé mailbox\n", res.MessageID, res.Size)
	return 0
}

func writeEML(msg *mssante.Message, dir string, w io.Writer) error {
	var eml bytes.Buffer
	if _, err := msg.WriteTo(&eml); err != nil {
		return err
	}
	problems, err := mssante.Check(bytes.NewReader(eml.Bytes()))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fn := filepath.Join(dir, "message.eml")
	if err := os.WriteFile(fn, eml.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%d bytes)\n", fn, eml.Len())
	if len(problems) > 0 {
		var b strings.Builder
		for _, p := range problems {
			b.WriteString("\n  " + p.String())
		}
		return errors.New("the message breaks Ref#2 rules:" + b.String())
	}
	return nil
}
