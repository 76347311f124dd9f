// SPDX-License-Identifier: Apache-2.0

// Command insi-lookup searches a patient's INS in the INSi téléservice by
// traits, with the structure's IGC-Santé software certificate (mTLS, CN
// INSI-AUTO or INSI-MANU, read from a PKCS#12 file), using the search
// strategy of package ins/insi (first given name, each further one, the
// whole list).
//
// Usage:
//
//	insi-lookup -endpoint URL|qualification|production -p12 FILE [-p12-pass-env VAR]
//	    -ca PEM -idam IDAM -software NAME -version V -instance UUID
//	    -name NOM -given "PRENOM1 PRENOM2" -sex F|M -birth YYYY-MM-DD [-cog COG]
//	    [-dry-run]
//
// The PKCS#12 password is read from the environment variable named by
// -p12-pass-env (INSI_P12_PASSWORD by default), never from the command line.
// -ca names a PEM file with the roots that verify the server (IGC-Santé
// "AC RACINE IGC-SANTE ELEMENTAIRE" and "AC IGC-SANTE ELEMENTAIRE
// ORGANISATIONS" for the real service). -dry-run prints the first request
// the search would send, and the given names it would try next, without
// sending anything.
//
// Each call is printed (given name tried, CR or error); then the INS, its
// history and the INS traits, with the status RECUP: qualification needs a
// person's check of an identity document, which this command does not do.
//
// Exit status: 0 identity found (or dry run), 1 not found or failure, 2
// usage error.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("insi-lookup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "", "service `URL`, or \"qualification\" / \"production\" (mTLS platforms); required")
	p12 := fs.String("p12", "", "PKCS#12 `file` of the INSI-AUTO or INSI-MANU certificate")
	passEnv := fs.String("p12-pass-env", "INSI_P12_PASSWORD", "environment `variable` holding the PKCS#12 password")
	caFile := fs.String("ca", "", "PEM `file` of the roots that verify the server")
	idam := fs.String("idam", "", "CNDA authorisation number of the software")
	software := fs.String("software", "", "software name")
	version := fs.String("version", "", "software version")
	instance := fs.String("instance", "", "`UUID` of this installation")
	name := fs.String("name", "", "birth family name (nom de naissance)")
	given := fs.String("given", "", "birth given names, space separated, first one first")
	sex := fs.String("sex", "", "F or M")
	birth := fs.String("birth", "", "birth date YYYY-MM-DD")
	cog := fs.String("cog", "", "birth place COG (optional)")
	dryRun := fs.Bool("dry-run", false, "print the request without sending it")
	timeout := fs.Duration("timeout", 2*time.Minute, "bound of the whole search")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "insi-lookup: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	switch *endpoint {
	case "":
		return usage("-endpoint is required (there is no default)")
	case "qualification":
		*endpoint = insi.EndpointQualificationMTLS
	case "production":
		*endpoint = insi.EndpointProductionMTLS
	}
	if *p12 == "" || *caFile == "" {
		return usage("-p12 and -ca are required")
	}
	date, err := ins.ParseDate(*birth)
	if err != nil || !strings.Contains(*birth, "-") {
		return usage("-birth %q: want YYYY-MM-DD", *birth)
	}
	traits := ins.Traits{BirthFamilyName: *name, BirthGivenNames: strings.Join(strings.Fields(*given), " "), Sex: ins.Sex(*sex), BirthDate: date, BirthPlace: *cog}
	traits.FirstBirthGivenName, _, _ = strings.Cut(traits.BirthGivenNames, " ")

	fail := func(err error) int {
		fmt.Fprintln(stderr, "insi-lookup:", err)
		return 1
	}
	pfx, err := os.ReadFile(*p12)
	if err != nil {
		return fail(err)
	}
	cert, err := bal.NewCertificateFromPKCS12(pfx, getenv(*passEnv))
	if err != nil {
		return fail(fmt.Errorf("%s (password from $%s): %w", *p12, *passEnv, err))
	}
	cred, err := insi.NewMTLS(cert.Cert)
	if err != nil {
		return fail(err)
	}
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		return fail(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fail(fmt.Errorf("%s: no PEM certificate", *caFile))
	}
	c, err := insi.New(insi.Config{
		Endpoint:    *endpoint,
		Software:    insi.Software{IDAM: *idam, Name: *software, Version: *version, Instance: *instance},
		Credentials: cred,
		TLS:         &tls.Config{RootCAs: roots},
	})
	if err != nil {
		return fail(err)
	}
	defer c.Close()

	names := insi.GivenNameCandidates("", traits.BirthGivenNames)
	if *dryRun {
		if len(names) == 0 {
			return usage("-given is required")
		}
		req, err := c.NewTraitsRequest(insi.TraitsQuery{BirthFamilyName: traits.BirthFamilyName, GivenName: names[0], Sex: traits.Sex, BirthDate: date, BirthPlace: traits.BirthPlace})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "# POST %s\n# SOAPAction %s\n", *endpoint, req.Operation.Action())
		if _, err := req.WriteTo(stdout); err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout)
		for _, n := range names[1:] {
			fmt.Fprintf(stdout, "# then, unless CR 00: Prenom %q\n", n)
		}
		return 0
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	sr, err := c.Search(ctx, traits)
	if sr != nil {
		for i, a := range sr.Attempts {
			outcome := "error: " + fmt.Sprint(a.Err)
			if a.Result != nil {
				outcome = "CR " + a.Result.CR + " " + a.Result.Label
			}
			fmt.Fprintf(stdout, "call %d: Prenom %q: %s\n", i+1, a.Query.GivenName, outcome)
		}
	}
	switch {
	case errors.Is(err, insi.ErrNotFound):
		fmt.Fprintln(stdout, "no identity found with these traits (the person may still have an INS: check the traits, add the COG)")
		return 1
	case errors.Is(err, insi.ErrSeveralIdentities):
		fmt.Fprintln(stdout, "several identities match: add the birth place COG or the other given names")
		return 1
	case err != nil:
		return fail(err)
	}
	r := sr.Result
	fmt.Fprintf(stdout, "INS %s %s (%s)\n", r.INS.Matricule, r.INS.Authority.TypeCode(), r.INS.Authority)
	for _, h := range r.History {
		fmt.Fprintf(stdout, "history %s %s\n", h.INS.Matricule, h.INS.Authority.TypeCode())
	}
	t := r.Traits
	fmt.Fprintf(stdout, "traits %s / %s / %s / %s / %s / %s\n", t.BirthFamilyName, t.FirstBirthGivenName, t.BirthGivenNames, t.Sex, r.BirthDateAsReceived, t.BirthPlace)
	for _, d := range insi.Compare(r, ins.Identity{Traits: traits}) {
		fmt.Fprintf(stdout, "differs %s: local %q, INSi %q\n", d.Trait, d.Local, d.INSi)
	}
	for _, tol := range r.Tolerated {
		fmt.Fprintln(stdout, "tolerated:", tol)
	}
	fmt.Fprintf(stdout, "status RECUP (answer of %s); qualify after checking an identity document\n", r.ReceivedAt.Format(time.RFC3339))
	return 0
}
