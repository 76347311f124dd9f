package annuaire

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/annuaire/annuairetest"
)

func loadListeBlanche(t testing.TB) *ListeBlanche {
	t.Helper()
	f, err := os.Open("../testdata/annuaire/listeblanche.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := os.ReadFile("../testdata/annuaire/listeblanche.checksum")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := ReadListeBlanche(f, string(sum))
	if err != nil {
		t.Fatal(err)
	}
	return lb
}

func TestResolverCheck(t *testing.T) {
	srv, api, _ := newAPI(t)
	var dir Directory
	if _, err := dir.LoadFile(context.Background(), fixtureOld, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Directory: &dir, API: api, ListeBlanche: loadListeBlanche(t)}
	addrs := []string{
		"jeanne.exemple@medecin.mssante.fr",
		"h.fictif@ch-exemple.mssante.fr",
		"raphael.cab@clinique-hélios.mssante.fr",
		"zoe.oeuvre@infirmier.mssante.fr",
		"inconnu@msp-val-fleuri.mssante.fr",
		"279035121518989@patient.mssante.fr",
		"jean.dupont@patient.mssante.fr",
		"someone@gmail.com",
		"pas une adresse",
	}
	type row struct {
		kind    Kind
		trusted bool
		source  Source
		reason  string
	}
	want := []row{
		{MSSante, true, FromExtraction, "PER mailbox of Jeanne EXEMPLE, Médecin"},
		{MSSante, true, FromAPI, "the Annuaire Santé API as PER mailbox of Héloïse FICTIF"},
		{MSSante, true, FromExtraction, "domain in the liste blanche"},
		{MSSante, false, FromExtraction, "not in the liste blanche"},
		{TrustedDomain, true, 0, "not published"},
		{Patient, false, 0, "matricule INS @ patient.mssante.fr"},
		{Patient, false, 0, "is not a 15-character matricule INS"},
		{Unknown, false, 0, "not an MSSanté address"},
		{Invalid, false, 0, "invalid address"},
	}
	vs := r.Check(context.Background(), addrs)
	if len(vs) != len(want) {
		t.Fatalf("%d verdicts", len(vs))
	}
	for i, v := range vs {
		w := want[i]
		var src Source
		if len(v.Mailboxes) > 0 {
			src = v.Mailboxes[0].Source
		}
		if v.Kind != w.kind || v.Trusted != w.trusted || src != w.source || !strings.Contains(v.Reason, w.reason) {
			t.Errorf("%s: %v trusted=%v source=%v %q; want %v %v %v reason containing %q", v.Address, v.Kind, v.Trusted, src, v.Reason, w.kind, w.trusted, w.source, w.reason)
		}
		if v.Err != nil && v.Kind != Invalid {
			t.Errorf("%s: error %v", v.Address, v.Err)
		}
	}

	// The API failing does not stop the checks; the offline answer stands.
	srv.FailNext(annuairetest.Forced{Status: 400})
	vs = r.Check(context.Background(), []string{"inconnu2@msp-val-fleuri.mssante.fr", "jeanne.exemple@medecin.mssante.fr"})
	if vs[0].Err == nil || vs[0].Kind != TrustedDomain || !strings.Contains(vs[0].Reason, "API unavailable") {
		t.Errorf("API failure: %+v", vs[0])
	}
	if vs[1].Kind != MSSante || vs[1].Err != nil {
		t.Errorf("offline answer after an API failure: %+v", vs[1])
	}

	// Offline only, without liste blanche.
	off := &Resolver{Directory: &dir}
	v := off.Check(context.Background(), []string{"h.fictif@ch-exemple.mssante.fr"})[0]
	if v.Kind != Unknown || !strings.Contains(v.Reason, "liste blanche not loaded") {
		t.Errorf("offline only: %+v", v)
	}
}

func TestIsMatriculeShape(t *testing.T) {
	for s, want := range map[string]bool{"279035121518989": true, "1840275112345xx": false, "18402A5112345": false,
		"184022A11234567": true, "18402B511234567": false, "": false} {
		if got := isMatriculeShape(s); got != want {
			t.Errorf("isMatriculeShape(%q) = %v", s, got)
		}
	}
}

// Addresses that show as a trusted one but are not: Unicode spaces,
// controls or format characters around or inside the domain are invalid,
// and the patient domain is compared without Unicode case folding ("ſ" is
// not "s"); a valid accented domain still resolves (found by a review).
func TestLookalikeAddresses(t *testing.T) {
	for _, a := range []string{"x@mssante.fr\u00a0", "x@\u2003mssante.fr", "x@mssante.fr\u0085", "x@mss\u200bante.fr", "x@mssante.fr\u202e"} {
		if _, _, err := SplitAddress(a); !errors.Is(err, ErrAddress) {
			t.Errorf("SplitAddress(%q): %v", a, err)
		}
	}
	r := &Resolver{}
	if v := r.check(context.Background(), "279035121518989@patient.m\u017fsante.fr"); v.Kind == Patient {
		t.Errorf("long s taken for s: %+v", v)
	}
	if v := r.check(context.Background(), "279035121518989@PATIENT.mssante.fr"); v.Kind != Patient {
		t.Errorf("capitals: %+v", v)
	}
	if _, d, err := SplitAddress("labo@clinique-h\u00e9lios.mssante.fr"); err != nil || d != "clinique-h\u00e9lios.mssante.fr" {
		t.Errorf("accented domain: %q %v", d, err)
	}
}
