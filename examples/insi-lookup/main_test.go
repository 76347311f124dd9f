// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insitest"
)

const password = "s3cret-P@ss"

// setup starts a fake INSi with one person and writes the INSI-AUTO
// certificate as a PKCS#12 file and the roots as PEM.
func setup(t *testing.T) (*insitest.Server, []string) {
	m, err := ins.ParseMatricule("109076322083489")
	require.NoError(t, err)
	srv, err := insitest.NewServer(insitest.Options{IDAMs: []string{"PDP17NF21DD0"}, People: []insitest.Person{{
		INS: ins.INS{Matricule: m, Authority: ins.AuthorityNIR},
		Traits: ins.Traits{BirthFamilyName: "ECETINSI", FirstBirthGivenName: "PIERRE-ALAIN", BirthGivenNames: "PIERRE-ALAIN MURIEL",
			Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 14}, BirthPlace: "63220"},
	}}})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	l := srv.PKI.Auto
	pfx, err := pkcs12.Modern.Encode(l.Key, l.Cert, l.Chain, password)
	require.NoError(t, err)
	p12 := filepath.Join(dir, "auto.p12")
	require.NoError(t, os.WriteFile(p12, pfx, 0o600))
	ca := filepath.Join(dir, "roots.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.PKI.RootElementaire.Cert.Raw}), 0o600))
	return srv, []string{"-endpoint", srv.URL, "-p12", p12, "-p12-pass-env", "TEST_P12_PASS", "-ca", ca,
		"-idam", "PDP17NF21DD0", "-software", "insi-lookup", "-version", "1.0", "-instance", "ff67308e-039f-4158-9dcc-0a08a20ba35c",
		"-sex", "M", "-birth", "2009-07-14"}
}

func env(k string) string {
	if k == "TEST_P12_PASS" {
		return password
	}
	return ""
}

func TestLookup(t *testing.T) {
	srv, args := setup(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), append(args, "-name", "ECETINSI", "-given", "MURIEL PIERRE-ALAIN"), env, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	o := out.String()
	assert.Contains(t, o, `call 1: Prenom "MURIEL": CR 01 Aucune identite trouvee`)
	assert.Contains(t, o, `call 2: Prenom "PIERRE-ALAIN": CR 00 OK`)
	assert.Contains(t, o, "INS 109076322083489 INS-NIR")
	assert.Contains(t, o, "status RECUP")
	assert.Contains(t, o, `differs ListePrenom: local "MURIEL PIERRE-ALAIN", INSi "PIERRE-ALAIN MURIEL"`)
	assert.Len(t, srv.Requests(), 2)
	assert.Equal(t, "INSI-AUTO", srv.Requests()[0].ClientCN)
	assert.NotContains(t, o+errOut.String(), password)

	out.Reset()
	code = run(context.Background(), append(args, "-name", "INCONNU", "-given", "MURIEL"), env, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "may still have an INS")
}

// -dry-run prints the request and sends nothing.
func TestDryRun(t *testing.T) {
	srv, args := setup(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), append(args, "-dry-run", "-name", "ECETINSI", "-given", "PIERRE-ALAIN MURIEL", "-cog", "63220"), env, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	o := out.String()
	assert.Contains(t, o, "<RECSANSVITALE")
	assert.Contains(t, o, "<Prenom>PIERRE-ALAIN</Prenom>")
	assert.Contains(t, o, "<LieuNaissance>63220</LieuNaissance>")
	assert.Contains(t, o, `# then, unless CR 00: Prenom "PIERRE-ALAIN MURIEL"`)
	assert.Empty(t, srv.Requests(), "a dry run sends nothing")
}

func TestUsageAndPassword(t *testing.T) {
	_, args := setup(t)
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"-p12", "x"}, env, &out, &errOut))
	assert.Contains(t, errOut.String(), "-endpoint is required")

	errOut.Reset()
	code := run(context.Background(), append(args, "-name", "ECETINSI", "-given", "PIERRE-ALAIN"), func(string) string { return "wrong" }, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.True(t, strings.Contains(errOut.String(), "TEST_P12_PASS"), errOut.String())
}
