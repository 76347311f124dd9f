// SPDX-License-Identifier: Apache-2.0

// Command receive-loop is the integration loop of an applicative BAL (the
// PFI pattern of the ANS volet "Transmission au LPS d'un document CDA
// provenant d'un courriel MSSanté"), built on bal.Loop: it reads the new
// messages of a folder over IMAP, hands each document message to a
// handler that decides, with mssante/intake, which local patient each
// document belongs to, files it there or puts it on the worklist, then
// acknowledges the message over SMTP (the MDN the sender asked for,
// "processed" or carrying the integration error) and files it in the
// processed or failed folder.
//
// The DPI side is deliberately small: the patient index is a
// semicolon-separated file (-patients; without it, the embedded
// patients.csv of three test patients), the document store is the -out
// directory. For each document of a verified IHE_XDM.ZIP archive the
// handler reads the CDA header and lets intake.Decider.Process apply the
// Ségur rules (SC.MSS/UX.02–17, SC.CDA/MSS.01–04; see go doc
// ./mssante/intake):
//
//   - automatic integration only when the document's INS matches a
//     qualified local INS strictly and every strict trait agrees: the CDA
//     file and the PDF of its level-1 body go to -out/<patient id>/, and
//     -out/held.csv records the id, set id and version;
//   - a document already held is a duplicate (acknowledged, not filed
//     again: bal.Loop delivers at least once); an older version is refused
//     with 900; a newer one replaces the version held, which stays in
//     the patient's folder (history.csv);
//   - anything else waits in the worklist: the document stays in
//     -out/incoming/ and -out/worklist/<key>.txt says why and which
//     records could be the patient; the message is acknowledged as taken
//     in charge. This example does not resolve the worklist (a DPI shows
//     it to a person: Decider.Resolve);
//   - a message without a readable, verified archive is refused with 906;
//     a document about a fictitious patient (INS-NIR de test or de
//     démonstration) with 902 unless -test-patients is given, and even
//     then only into a fictitious patient's record.
//
// Every decision and filing is written to the signed trace log, beside
// the mailbox actions (SC.MSS/UX.37–38).
//
// Usage:
//
//	receive-loop -imap host:port -smtp host:port | -domain DOMAIN
//	    -p12 FILE [-p12-password-env VAR] -roots FILE
//	    -mailbox ADDR -entity LABEL -product NIL -out DIR [-patients FILE]
//	    [-folder INBOX] [-processed Traites] [-failed Erreurs] [-error-mailbox ADDR]
//	    -trace FILE -trace-signer FILE -trace-verifier FILE
//	    [-once] [-test-patients] [-auto-on-traits]
//
// -mailbox is the applicative BAL, authenticated by the software
// certificate of -p12 (its password in the environment variable named by
// -p12-password-env, MSS_P12_PASSWORD by default) on both servers; -entity
// labels it in the acknowledgements. Port 993 (IMAP) and 465 (SMTP) mean
// implicit TLS, other ports STARTTLS; -domain finds both servers by DNS SRV
// instead (RFC 6186). -roots is a PEM file of the IGC-Santé roots.
// -error-mailbox receives the standard error e-mail of a failed
// integration when the sender asked for no read receipt.
// -auto-on-traits lets a document without a usable INS be integrated into
// the one record whose strict traits all agree (SC.MSS/UX.08: only if the
// establishment allows it).
//
// With -once the loop processes what is in the folder and exits;
// otherwise it waits for new messages (IDLE) until interrupted (SIGINT,
// SIGTERM). Every mailbox action is written to the signed trace log.
//
// Exit status: 0 done, 1 failure, 2 usage error.
package main

import (
	"github.com/ecdaf744/gomss/examples/internal/setup"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("receive-loop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	imapAddr := fs.String("imap", "", "operator IMAP server `host:port`")
	smtpAddr := fs.String("smtp", "", "operator submission server `host:port`")
	domain := fs.String("domain", "", "mail domain whose servers are found by DNS SRV")
	serverName := fs.String("server-name", "", "name checked in the operator's certificates (host of each server by default)")
	p12 := fs.String("p12", "", "PKCS#12 `file` of the BAL's software certificate")
	p12Env := fs.String("p12-password-env", "MSS_P12_PASSWORD", "environment `variable` holding the PKCS#12 password")
	rootsFile := fs.String("roots", "", "PEM `file` of the IGC-Santé root certificates")
	mailbox := fs.String("mailbox", "", "address of the applicative BAL")
	entity := fs.String("entity", "", "label of the applicative BAL")
	product := fs.String("product", "", "product reference declared on Convergence (X-MSS-NIL)")
	folder := fs.String("folder", "INBOX", "folder read")
	processed := fs.String("processed", "Traites", "folder receiving the integrated messages")
	failed := fs.String("failed", "Erreurs", "folder receiving the messages that could not be integrated")
	errorMailbox := fs.String("error-mailbox", "", "mailbox receiving the error e-mails when no MDN was requested")
	out := fs.String("out", "", "`directory` the documents (CDA and PDF) are written to")
	seenPath := fs.String("seen", "", "`file` remembering the messages handled, so that a second copy is recognised across restarts (in memory when empty)")
	once := fs.Bool("once", false, "process the folder once and exit")
	testPatients := fs.Bool("test-patients", false, "accept documents about fictitious (test or demonstration) patients, into fictitious records only")
	autoOnTraits := fs.Bool("auto-on-traits", false, "integrate automatically on strict traits when no INS can decide (SC.MSS/UX.08)")
	patients := fs.String("patients", "", "patient index `file` (semicolon separated; the embedded patients.csv when empty)")
	tracePath := fs.String("trace", "", "trace log `file` (JSON Lines)")
	traceSigner := fs.String("trace-signer", "", "`file` holding the note signer key of the trace")
	traceVerifier := fs.String("trace-verifier", "", "`file` holding the note verifier key of the trace")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *mailbox == "" || *entity == "" || *product == "" || *out == "" || *p12 == "" || *rootsFile == "" ||
		*tracePath == "" || *traceSigner == "" || *traceVerifier == "" ||
		(*domain == "" && (*imapAddr == "" || *smtpAddr == "")) {
		fmt.Fprintln(stderr, "receive-loop: -imap and -smtp (or -domain), -p12, -roots, -mailbox, -entity, -product, -out, -trace, -trace-signer and -trace-verifier are required")
		fs.Usage()
		return 2
	}
	if err := receive(ctx, config{
		imap: *imapAddr, smtp: *smtpAddr, domain: *domain, serverName: *serverName,
		p12: *p12, p12Env: *p12Env, roots: *rootsFile, mailbox: *mailbox, entity: *entity, product: *product,
		folder: *folder, processed: *processed, failed: *failed, errorMailbox: *errorMailbox, out: *out, seen: *seenPath, once: *once, testPatients: *testPatients,
		autoOnTraits: *autoOnTraits, patients: *patients,
		tracePath: *tracePath, traceSigner: *traceSigner, traceVerifier: *traceVerifier,
	}, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "receive-loop:", err)
		return 1
	}
	return 0
}

type config struct {
	imap, smtp, domain, serverName               string
	p12, p12Env, roots, mailbox, entity, product string
	folder, processed, failed, errorMailbox, out string
	once, testPatients, autoOnTraits             bool
	patients, seen                               string
	tracePath, traceSigner, traceVerifier        string
}

func receive(ctx context.Context, c config, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	var op bal.Operator
	var err error
	if op.IMAP, err = setup.ParseEndpoint("-imap", c.imap, 993); err != nil {
		return fmt.Errorf("-imap: %w", err)
	}
	if op.SMTP, err = setup.ParseEndpoint("-smtp", c.smtp, 465); err != nil {
		return fmt.Errorf("-smtp: %w", err)
	}
	if c.domain != "" {
		if op, err = bal.Discover(ctx, c.domain, net.DefaultResolver, op); err != nil {
			return err
		}
	}
	name := func(e bal.Endpoint) string {
		if c.serverName != "" {
			return c.serverName
		}
		return e.Host
	}
	roots, err := setup.ReadCertificates(c.roots)
	if err != nil {
		return err
	}
	cert, err := setup.OpenPKCS12(c.p12, c.p12Env)
	if err != nil {
		return err
	}
	tl, err := setup.OpenTrace(c.tracePath, c.traceSigner, c.traceVerifier, c.mailbox)
	if err != nil {
		return err
	}
	defer tl.Close()
	trust := &bal.Trust{Roots: roots}
	box := trace.Mailbox{Address: c.mailbox}
	const software = "gomss receive-loop"
	h, err := newHandler(c, cert.Actor(), box, tl, stdout)
	if err != nil {
		return err
	}
	// The messages handled, so that a second copy (a sender's resend of
	// a message whose acceptance it could not know, a relay's
	// redelivery) is filed without being integrated twice, across
	// restarts too.
	var seen bal.SeenStore // nil: the Loop's in-memory set
	if c.seen != "" {
		f, err := bal.OpenSeenFile(c.seen, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		seen = f
	}
	loop := &bal.Loop{
		Receiver: &bal.Receiver{Server: op.IMAP, ServerName: name(op.IMAP), Trust: trust, Auth: cert,
			Mailbox: box, Trace: tl, Software: software},
		Sender: &bal.Sender{Server: op.SMTP, ServerName: name(op.SMTP), Trust: trust, Auth: cert,
			Mailbox: box, Trace: tl, Software: software},
		From:         mssante.Sender{Address: c.mailbox, Kind: mssante.Applicative, Entity: c.entity},
		Product:      c.product,
		Folder:       c.folder,
		Processed:    c.processed,
		Failed:       c.failed,
		ErrorMailbox: c.errorMailbox,
		Handler:      h.handle,
		Seen:         seen,
		OnError:      func(err error) { fmt.Fprintln(stderr, "receive-loop:", err) },
	}
	if c.once {
		n, err := loop.ProcessOnce(ctx)
		fmt.Fprintf(stdout, "%d messages handled\n", n)
		if err != nil {
			return err
		}
		return tl.Close()
	}
	if err := loop.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return tl.Close()
}

// fileName makes a document unique id (root^extension) a file name.
func fileName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		return "doc" + string(b)
	}
	return string(b)
}
