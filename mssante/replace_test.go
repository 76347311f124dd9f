package mssante_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

func TestReplacement(t *testing.T) {
	first := reportMessage()
	firstRaw := write(t, first)
	orig := parse(t, firstRaw)

	m := reportMessage()
	m.MessageID = ""
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created.Add(time.Hour))
	old := first.Documents[0].Header.ID
	h.SetID, h.Version, h.Replaces = old, 2, &old
	m.Documents[0].Header = h
	if err := m.Validate(); err == nil {
		t.Fatal("an unlinked replacement was accepted")
	}
	m.LinkTo(orig.MessageID, orig.References...)
	r := parse(t, write(t, m))
	if r.InReplyTo != first.MessageID || len(r.References) != 1 || r.References[0] != first.MessageID {
		t.Errorf("link: %q %v", r.InReplyTo, r.References)
	}
	var rplc bool
	for _, a := range r.XDM.Metadata.Associations {
		if a.Type == xdm.AssociationReplace && a.Target == xdm.EntryUUIDFor(old.String()) {
			rplc = true
		}
	}
	if !rplc {
		t.Error("no RPLC association to the replaced entry")
	}
	rc, err := r.XDM.Documents[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := cda.ReadHeader(rc, nil)
	if cerr := rc.Close(); err != nil || cerr != nil {
		t.Fatalf("reading the CDA: %v; checking it against METADATA.XML: %v", err, cerr)
	}
	if doc.Header.Replaces == nil || *doc.Header.Replaces != old || doc.Header.Version != 2 {
		t.Errorf("CDA: %+v v%d", doc.Header.Replaces, doc.Header.Version)
	}
}

func TestDeletionNotice(t *testing.T) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	m := mssante.DeletionNotice(reportMessage().From, []string{"secretariat@chu-exemple.mssante.fr"}, h, "<20261124103000.1@lilas.mssante.fr>", "DEV935997")
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("X-MSS-CODECDA")) || bytes.Contains(b.Bytes(), []byte("X-MSS-INS")) {
		t.Error("a deletion notice carries no document headers")
	}
	r := parse(t, b.Bytes())
	if r.InReplyTo != "<20261124103000.1@lilas.mssante.fr>" || !strings.Contains(r.Text, "1.2.250.1.999.1.1.4242^20261124103000") ||
		r.Subject != "Suppression du document : Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979" || r.IsDocumentMessage() {
		t.Errorf("%q %q\n%s", r.InReplyTo, r.Subject, r.Text)
	}
}
