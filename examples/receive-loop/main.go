// Command receive-loop is the integration loop of an applicative BAL (the
// PFI pattern of the ANS volet "Transmission au LPS d'un document CDA
// provenant d'un courriel MSSanté"), built on bal.Loop: it reads the new
// messages of a folder over IMAP, hands each document message to a
// handler that writes the documents to a directory, then acknowledges it
// over SMTP (the MDN the sender asked for, "processed" or carrying the
// integration error) and files it in the processed or failed folder.
//
// The handler verifies the IHE_XDM.ZIP archive (hash and size of every
// document against its metadata) and writes, for each document, the CDA
// file (<id>.xml) and the PDF of its level-1 body (<id>.pdf) into -out,
// <id> being the document's unique id (so a message handled again after a
// lost session, as bal.Loop's at-least-once delivery allows, rewrites the
// same files rather than adding copies). A message without a readable,
// verified archive is refused with integration error 906 ("Autre"). A
// document about a fictitious patient (INS-NIR de test or de
// démonstration, as on an operator's test platform) is refused with error
// 902 ("Identifiant patient inconnu") unless -test-patients is given: such
// a patient does not exist, and a production system must not file the
// document in a real record.
//
// Usage:
//
//	receive-loop -imap host:port -smtp host:port | -domain DOMAIN
//	    -p12 FILE [-p12-password-env VAR] -roots FILE
//	    -mailbox ADDR -entity LABEL -product NIL -out DIR
//	    [-folder INBOX] [-processed Traites] [-failed Erreurs] [-error-mailbox ADDR]
//	    -trace FILE -trace-signer FILE -trace-verifier FILE
//	    [-once] [-test-patients]
//
// -mailbox is the applicative BAL, authenticated by the software
// certificate of -p12 (its password in the environment variable named by
// -p12-password-env, MSS_P12_PASSWORD by default) on both servers; -entity
// labels it in the acknowledgements. Port 993 (IMAP) and 465 (SMTP) mean
// implicit TLS, other ports STARTTLS; -domain finds both servers by DNS SRV
// instead (RFC 6186). -roots is a PEM file of the IGC-Santé roots.
// -error-mailbox receives the standard error e-mail of a failed
// integration when the sender asked for no read receipt.
//
// With -once the loop processes what is in the folder and exits;
// otherwise it waits for new messages (IDLE) until interrupted (SIGINT,
// SIGTERM). Every mailbox action is written to the signed trace log.
//
// Exit status: 0 done, 1 failure, 2 usage error.
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
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
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
	once := fs.Bool("once", false, "process the folder once and exit")
	testPatients := fs.Bool("test-patients", false, "accept documents about fictitious (test or demonstration) patients")
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
		folder: *folder, processed: *processed, failed: *failed, errorMailbox: *errorMailbox, out: *out, once: *once, testPatients: *testPatients,
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
	once, testPatients                           bool
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
		Handler: func(_ context.Context, m *mssante.Received) error {
			files, err := integrate(m, c.out, c.testPatients)
			if err != nil {
				fmt.Fprintf(stderr, "refused %s: %v\n", m.MessageID, err)
				return err
			}
			fmt.Fprintf(stdout, "integrated %s %q: %s\n", m.MessageID, m.DisplaySubject(), strings.Join(files, ", "))
			return nil
		},
		OnError: func(err error) { fmt.Fprintln(stderr, "receive-loop:", err) },
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

// integrate writes the CDA documents of m and their PDF into dir. An error
// is returned as an integration error, which the loop reports in the MDN.
// Documents about fictitious patients are refused unless testPatients.
func integrate(m *mssante.Received, dir string, testPatients bool) ([]string, error) {
	if m.XDM == nil {
		return nil, fmt.Errorf("%w (archive: %v)", mssante.IntegrationOther, m.XDMErr)
	}
	// Refused before any document is read.
	if p := m.PatientID; p != nil && p.Fictitious() && !testPatients {
		return nil, fmt.Errorf("%w (the patient's identifier %s is from a test or demonstration authority; -test-patients accepts it)",
			mssante.IntegrationPatientUnknown, p.Authority)
	}
	if err := m.XDM.Verify(); err != nil {
		return nil, fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
	}
	var files []string
	for _, d := range m.XDM.Documents {
		rc, err := d.Open()
		if err != nil {
			return files, fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
		}
		doc, err := io.ReadAll(rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return files, fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
		}
		base := filepath.Join(dir, fileName(d.Entry.UniqueID))
		if err := os.WriteFile(base+".xml", doc, 0o600); err != nil {
			return files, err
		}
		files = append(files, base+".xml")
		r := cda.NewReader(bytes.NewReader(doc), nil)
		h, err := r.Header()
		if err != nil {
			return files, fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
		}
		if h.Level != 1 || h.MediaType != cda.MediaTypePDF {
			continue
		}
		var pdf bytes.Buffer
		if _, err := r.Body(&pdf); err != nil {
			return files, fmt.Errorf("%w (%v)", mssante.IntegrationOther, err)
		}
		if err := os.WriteFile(base+".pdf", pdf.Bytes(), 0o600); err != nil {
			return files, err
		}
		files = append(files, base+".pdf")
	}
	return files, nil
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
