// SPDX-License-Identifier: Apache-2.0

// Command annuaire-lookup finds MSSanté mailboxes in the Annuaire Santé,
// the ANS national directory of health professionals and structures: by
// address (who is behind it), by RPPS or IDNPS (the mailboxes of a
// professional) or by name prefix (case and accent insensitive).
//
// Two sources: the daily bulk extraction Extraction_Correspondance_MSSante
// (-extraction FILE, indexed in memory by extraction.LoadIndexFile: offline,
// no key needed), or the FHIR API v2 (-api URL, through annuaire/fhir, with the ESANTE-API-KEY read
// from the environment variable named by -key-env, ESANTE_API_KEY by
// default; -api default uses the ANS gateway).
//
// Usage:
//
//	annuaire-lookup (-extraction FILE | -api URL [-key-env VAR])
//	    (-address ADDR | -rpps RPPS|IDNPS | -name FAMILY [-given GIVEN])
//
// Each mailbox found is printed on one line, tab separated: address, BAL
// type (PER, CAB, ORG, APP), owner (civility, given and family name, IDNPS)
// for a personal mailbox, structure or service, and the source (line of
// the extraction or API resource).
//
// Exit status: 0 mailboxes found, 1 none found or failure, 2 usage error.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/annuaire/extraction"
	"github.com/ecdaf744/gomss/annuaire/fhir"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("annuaire-lookup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	extraction := fs.String("extraction", "", "Extraction_Correspondance_MSSante `file`")
	api := fs.String("api", "", "FHIR API v2 base `URL` (\"default\": "+fhir.DefaultBaseURL+")")
	keyEnv := fs.String("key-env", "ESANTE_API_KEY", "environment `variable` holding the API key")
	address := fs.String("address", "", "MSSanté address to look up")
	rpps := fs.String("rpps", "", "RPPS (11 digits) or IDNPS (8 + RPPS) of a professional")
	name := fs.String("name", "", "prefix of a family name (nom d'exercice)")
	given := fs.String("given", "", "prefix of a given name, with -name")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	queries := 0
	for _, q := range []string{*address, *rpps, *name} {
		if q != "" {
			queries++
		}
	}
	if (*extraction == "") == (*api == "") || queries != 1 {
		fmt.Fprintln(stderr, "annuaire-lookup: one of -extraction and -api, and one of -address, -rpps and -name, are required")
		fs.Usage()
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var found []annuaire.Mailbox
	var err error
	if *extraction != "" {
		found, err = fromExtraction(ctx, *extraction, *address, *rpps, *name, *given)
	} else {
		base := *api
		if base == "default" {
			base = fhir.DefaultBaseURL
		}
		key := os.Getenv(*keyEnv)
		if key == "" {
			fmt.Fprintf(stderr, "annuaire-lookup: no API key in $%s\n", *keyEnv)
			return 2
		}
		c := &fhir.Client{BaseURL: base, APIKey: key}
		found, err = fromAPI(ctx, c, *address, *rpps, *name, *given)
	}
	if err != nil {
		fmt.Fprintln(stderr, "annuaire-lookup:", err)
		return 1
	}
	for _, m := range found {
		fmt.Fprintln(stdout, format(m))
	}
	if len(found) == 0 {
		fmt.Fprintln(stderr, "annuaire-lookup: no mailbox found")
		return 1
	}
	return 0
}

func fromExtraction(ctx context.Context, path, address, rpps, name, given string) ([]annuaire.Mailbox, error) {
	ix, err := extraction.LoadIndexFile(ctx, path, extraction.LoadOptions{})
	if err != nil {
		return nil, err
	}
	switch {
	case address != "":
		return ix.LookupAll(address), nil
	case rpps != "":
		return ix.ByID(rpps), nil
	}
	var out []annuaire.Mailbox
	for m := range ix.SearchName(name, given) {
		out = append(out, m)
	}
	return out, nil
}

func fromAPI(ctx context.Context, c *fhir.Client, address, rpps, name, given string) ([]annuaire.Mailbox, error) {
	if address != "" {
		return c.ResolveMailbox(ctx, address)
	}
	q := fhir.PractitionerQuery{ID: rpps, Family: name, Given: given, ActiveOnly: true}
	var out []annuaire.Mailbox
	for p, err := range c.Practitioners(ctx, q) {
		if err != nil {
			return out, err
		}
		out = append(out, p.Mailboxes()...)
	}
	return out, nil
}

func format(m annuaire.Mailbox) string {
	owner := ""
	if o := m.Owner; o.Family != "" || o.IDNPS != "" {
		owner = strings.Join(strings.Fields(o.Civility+" "+o.Given+" "+o.Family), " ")
		if o.IDNPS != "" {
			owner += " (" + o.IDNPS + ")"
		}
	}
	where := m.Structure.Name
	if m.Service != "" {
		where = strings.TrimSpace(where + " / " + m.Service)
	}
	source := m.Resource
	if m.Line > 0 {
		source = fmt.Sprintf("line %d", m.Line)
	}
	return strings.Join([]string{m.Address, string(m.Type), owner, where, source}, "\t")
}
