// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/annuaire/annuairetest"
	"github.com/stretchr/testify/require"
)

const fixture = "../../testdata/annuaire/Extraction_Correspondance_MSSante_202608260215.txt"

func lookup(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestExtraction(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string // addresses, in order
	}{
		{[]string{"-address", "HELOISE.FICTIF@medecin.mssante.fr"}, []string{"heloise.fictif@medecin.mssante.fr"}},
		{[]string{"-rpps", "810000000025"}, []string{"heloise.fictif@medecin.mssante.fr"}},
		{[]string{"-name", "exem"}, []string{"jeanne.exemple@medecin.mssante.fr", "marie.exemple@ch-exemple.mssante.fr"}},
		{[]string{"-name", "exemple", "-given", "mar"}, []string{"marie.exemple@ch-exemple.mssante.fr"}},
		{[]string{"-name", "lefevre"}, []string{"jerome.lefevre@chirurgien-dentiste.mssante.fr"}},
	} {
		code, out, errs := lookup(t, append([]string{"-extraction", fixture}, c.args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", c.args, code, errs)
			continue
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			got = append(got, strings.Split(l, "\t")[0])
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%v: got %v, want %v\n%s", c.args, got, c.want, out)
		}
	}
	code, out, _ := lookup(t, "-extraction", fixture, "-rpps", "810000000025")
	if code != 0 || !strings.Contains(out, "PER\tDR Héloïse FICTIF (810000000025)\tCENTRE HOSPITALIER D'EXEMPLE") {
		t.Errorf("line: %q", out)
	}
	if code, _, _ := lookup(t, "-extraction", fixture, "-address", "personne@nulle-part.mssante.fr"); code != 1 {
		t.Errorf("unknown address: exit %d, want 1", code)
	}
}

func TestAPI(t *testing.T) {
	files, err := filepath.Glob("../../testdata/annuaire/fhir/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	var resources [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		resources = append(resources, b)
	}
	srv, err := annuairetest.NewServer("test-key", resources...)
	require.NoError(t, err)
	defer srv.Close()
	t.Setenv("TEST_ESANTE_KEY", "test-key")
	api := []string{"-api", srv.BaseURL(), "-key-env", "TEST_ESANTE_KEY"}

	code, out, errs := lookup(t, append(api, "-address", "heloise.fictif@medecin.mssante.fr")...)
	if code != 0 || !strings.HasPrefix(out, "heloise.fictif@medecin.mssante.fr\tPER\t") {
		t.Errorf("-address: exit %d %q %s", code, out, errs)
	}
	code, out, errs = lookup(t, append(api, "-rpps", "10000000025")...)
	if code != 0 || !strings.Contains(out, "heloise.fictif@medecin.mssante.fr") {
		t.Errorf("-rpps: exit %d %q %s", code, out, errs)
	}
	code, out, errs = lookup(t, append(api, "-name", "fict")...)
	if code != 0 || !strings.Contains(out, "heloise.fictif@medecin.mssante.fr") {
		t.Errorf("-name: exit %d %q %s", code, out, errs)
	}
	code, out, errs = lookup(t, append(api, "-address", "dpi@ch-exemple.mssante.fr")...)
	if code != 0 || !strings.Contains(out, "dpi@ch-exemple.mssante.fr") {
		t.Errorf("organisation mailbox: exit %d %q %s", code, out, errs)
	}
	// a wrong key is refused by the API
	t.Setenv("TEST_ESANTE_KEY", "wrong")
	if code, _, errs := lookup(t, append(api, "-address", "heloise.fictif@medecin.mssante.fr")...); code != 1 {
		t.Errorf("wrong key: exit %d %s", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-address", "a@b.mssante.fr"},
		{"-extraction", fixture},
		{"-extraction", fixture, "-address", "a@b.mssante.fr", "-name", "x"},
	} {
		if code, _, _ := lookup(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
