// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the whole program and checks that every step
// printed its result and that -out kept the files of the exchange, each
// readable by the package that reads such a file.
func TestQuickstart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(&out, dir); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"matricule INS 279035121518989 valid",
		"status RECUP: INS withheld",
		`<id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>`,
		"279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH",
		"279035121518989@patient.mssante.fr",
		"10 mailboxes, 0 malformed lines",
		"4 domains, SHA-256 verified",
		"closing tag </ListeBlancheMSSante> missing",
		"accepted jean.dupont@test.mssante.fr: published in the bulk extraction as PER mailbox of Jean DUPONT, Médecin; domain in the liste blanche",
		"refused dr.dupont.jean@gmail.com: not published",
		"RPPS 10002813839",
		"class 10, format urn:ihe:iti:xds-sd:pdf:2008",
		"X-MSS-CODECDA [11488-4], X-MSS-INS O, X-MSS-NIL DEV000000",
		"Ref#2 check: 0 rule broken",
		"accepted for [jean.dupont@test.mssante.fr], DSN requested true",
		"verified (SHA-1 and size)",
		"patient INS 279035121518989, PDF identical",
		"filed into record DUPONT-0042 automatically (qualified INS on both sides, strict traits equal)",
		"homonym DUPONT-0107 born another day not a candidate",
		"integrate:2",
		"MDN sent, message moved to Traites",
		"DSN delivered 2.0.0, MDN processed",
		"trace log verified:",
		"1 kept elsewhere",
		"mdn-sent:1",
		"send:1",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	if b := read("recordTarget.xml"); !bytes.Contains(b, []byte("<recordTarget>")) {
		t.Errorf("recordTarget.xml has no recordTarget")
	}
	// message.eml is the message as sent: it parses and passes the Ref#2
	// checks once the server's Return-Path is added.
	sent, err := mssante.Parse(io.MultiReader(strings.NewReader("Return-Path: <lps@test.mssante.fr>\r\n"), bytes.NewReader(read("message.eml"))), nil)
	require.NoError(t, err)
	if ps := sent.Check(); len(ps) > 0 {
		t.Errorf("message.eml breaks rules: %v", ps)
	}
	if sent.XDM == nil || sent.XDM.Verify() != nil {
		t.Errorf("message.eml: archive %v", sent.XDMErr)
	}
	zipped := read(xdm.ArchiveName)
	a, err := xdm.OpenReader(bytes.NewReader(zipped), int64(len(zipped)), nil)
	require.NoError(t, err)
	assert.NoError(t, a.Verify())
	if doc := read("DOC0001.XML"); !bytes.Contains(doc, []byte("<nonXMLBody")) {
		t.Error("DOC0001.XML is not a level-1 CDA document")
	}
	mdn, err := mssante.Parse(bytes.NewReader(read("mdn.eml")), nil)
	require.NoError(t, err)
	r, err := mssante.ParseMDN(mdn)
	assert.NoError(t, err, "mdn.eml")
	assert.EqualValues(t, sent.MessageID, r.OriginalMessageID, "mdn.eml")
	if _, err := os.Stat(filepath.Join(dir, "trace.jsonl.checkpoints")); err != nil {
		t.Error(err)
	}
	n := 0
	if _, err := trace.Scan(filepath.Join(dir, "trace.jsonl"), trace.Filter{}, func(_ int64, e trace.Event) error {
		n++
		return nil
	}); err != nil || n < 10 {
		t.Errorf("trace.jsonl: %d events, %v", n, err)
	}
	if bytes.Contains(read("trace.jsonl"), []byte("PAT-TROIS")) {
		t.Error("the trace log holds the patient's name")
	}
}

// TestResolveRefusesUnknownRecipient: the program stops before building
// anything when the recipient is not a published MSSanté mailbox.
func TestResolveRefusesUnknownRecipient(t *testing.T) {
	step := func(n int, f string, a ...any) {}
	more := func(f string, a ...any) {}
	for _, to := range []string{"inconnu@test.mssante.fr", "quelquun@exemple.fr", "pas une adresse"} {
		_, err := resolve(step, more, to)
		if err == nil {
			t.Errorf("%s: accepted", to)
			continue
		}
		assert.ErrorContains(t, err, to, "the error names the address")
	}
	box, err := resolve(step, more, recipient)
	assert.NoError(t, err, "%s", recipient)
	assert.EqualValues(t, "DUPONT", box.Owner.Family, "%s", recipient)
}
