// SPDX-License-Identifier: Apache-2.0

// Command mssoperator is a test MSSanté operator for any vendor's CI,
// whatever its language: it starts on loopback, in about a second, without
// root or system package,
//
//   - the in-process operator of bal/baltest (SMTP submission with STARTTLS
//     and implicit TLS, IMAP, client-certificate, XOAUTH2/OAUTHBEARER and
//     password login, DSN and MDN behaviour) with a fresh IGC-Santé-like
//     test PKI whose CRLs it serves over HTTP;
//   - the Annuaire Santé FHIR fake (annuaire/annuairetest) listing the CPS
//     holder's mailbox, and the INSi téléservice fake (ins/insitest) with
//     an ANS test identity;
//   - a JSON HTTP API (token-protected; OpenAPI 3 at /api/v1/openapi.yaml) to
//     list and fetch what was sent, with the Référentiel socle #2 check of
//     each message, inject messages, answer with a DSN, an MDN or a Mon
//     espace santé bounce, set faults, reset, and wait for N messages;
//   - a web page showing the same: the messages per mailbox, each with its
//     check result, header fields, attachments to download and CDA header
//     in words, updated live (its address, with the token, is printed; the
//     first visit trades the token for an HttpOnly cookie). It is tested
//     in headless Chromium (internal/opserver/page_test.go).
//
// It writes into -dir the PKI (roots, CA bundle, CRLs, and for each test
// certificate its PEM certificate and key and PKCS#12 files in modern and
// legacy encryption), a small Annuaire Santé extraction and liste blanche
// naming its mailboxes, operator.json and operator.env (addresses, ports,
// mailboxes, passwords, tokens, file paths), and keeps no state outside
// it. SIGINT or SIGTERM stops it.
//
//	go run github.com/ecdaf744/gomss/bal/baltest/cmd/mssoperator@latest -dir ./mss
//
// See docs/ci.md for CI jobs (GitHub Actions, GitLab CI) and keystore
// imports (Java, .NET).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecdaf744/gomss/bal/baltest/internal/opserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mssoperator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg opserver.Config
	fs.StringVar(&cfg.Dir, "dir", "mssoperator", "`directory` receiving the PKI files, operator.json and operator.env")
	fs.StringVar(&cfg.SMTP, "smtp", "", "submission listener with STARTTLS, `host:port` (127.0.0.1 and a free port when empty)")
	fs.StringVar(&cfg.SMTPS, "smtps", "", "submission listener with implicit TLS, `host:port`")
	fs.StringVar(&cfg.IMAP, "imap", "", "IMAP listener with STARTTLS, `host:port`")
	fs.StringVar(&cfg.IMAPS, "imaps", "", "IMAP listener with implicit TLS, `host:port`")
	fs.StringVar(&cfg.API, "api", "", "HTTP API and web page listener, `host:port`")
	fs.StringVar(&cfg.Token, "token", "", "API `token` (random when empty; written to operator.json)")
	fs.StringVar(&cfg.Domain, "domain", "", "the operator's host name (mss.test.mssante.fr when empty)")
	jsonOut := fs.Bool("json", false, "print the settings as one JSON line instead of text")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	srv, err := opserver.Start(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "mssoperator:", err)
		return 1
	}
	defer srv.Close()
	st := srv.Settings
	if *jsonOut {
		b, _ := json.Marshal(st)
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		fmt.Fprintf(stdout, "mssoperator: test operator %s ready\n", st.Domain)
		fmt.Fprintf(stdout, "  SMTP  %s (STARTTLS), %s (TLS)\n  IMAP  %s (STARTTLS), %s (TLS)\n", st.SMTP, st.SMTPS, st.IMAP, st.IMAPS)
		fmt.Fprintf(stdout, "  API   %s/api/v1/ (Authorization: Bearer %s)\n", st.API, st.APIToken)
		fmt.Fprintf(stdout, "  page  %s/ui?token=%s\n", st.API, st.APIToken)
		fmt.Fprintf(stdout, "  CRLs  %s/   annuaire (FHIR)  %s   INSi  %s\n", st.CRLBase, st.Annuaire, st.INSi)
		for _, b := range st.Mailboxes {
			fmt.Fprintf(stdout, "  mailbox %s  password %s  token %s", b.Address, b.Password, b.Token)
			if b.Certificate != "" {
				fmt.Fprintf(stdout, "  certificate %s", st.Files[b.Certificate+"P12"])
			}
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "  settings %s/operator.json, %s/operator.env\n", st.Dir, st.Dir)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "mssoperator: stopping")
	return 0
}
