// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	err := m.Validate()
	require.ErrorIs(t, err, mssante.ErrInvalid, "an unlinked replacement was accepted")
	var ve *mssante.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Problems, mssante.Problem{Rule: "ECO.2.2.2", Field: "In-Reply-To", Detail: "a replacement (RPLC) must be linked to the original message"})
	m.LinkTo(orig.MessageID, orig.References...)
	r := parse(t, write(t, m))
	assert.Equal(t, first.MessageID, r.InReplyTo, "link: In-Reply-To")
	assert.Equal(t, []string{first.MessageID}, r.References, "link: References")
	require.NotNil(t, r.XDM, "XDM: %v", r.XDMErr)
	var rplc bool
	for _, a := range r.XDM.Metadata.Associations {
		if a.Type == xdm.AssociationReplace && a.Target == xdm.EntryUUIDFor(old.String()) {
			rplc = true
		}
	}
	assert.True(t, rplc, "no RPLC association to the replaced entry")
	require.NotEmpty(t, r.XDM.Documents)
	rc, err := r.XDM.Documents[0].Open()
	require.NoError(t, err)
	doc, err := cda.ReadHeader(rc, nil)
	cerr := rc.Close()
	require.NoError(t, err, "reading the CDA")
	require.NoError(t, cerr, "checking it against METADATA.XML")
	if assert.NotNil(t, doc.Header.Replaces, "CDA relatedDocument") {
		assert.Equal(t, old, *doc.Header.Replaces, "CDA replaced id")
	}
	assert.Equal(t, 2, doc.Header.Version, "CDA version")
}

func TestDeletionNotice(t *testing.T) {
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	m := mssante.DeletionNotice(reportMessage().From, []string{"secretariat@chu-exemple.mssante.fr"}, h, "<20261124103000.1@lilas.mssante.fr>", "DEV935997")
	var b bytes.Buffer
	_, err := m.WriteTo(&b)
	require.NoError(t, err)
	assert.NotContains(t, b.String(), "X-MSS-CODECDA", "a deletion notice carries no document headers")
	assert.NotContains(t, b.String(), "X-MSS-INS", "a deletion notice carries no document headers")
	r := parse(t, b.Bytes())
	assert.Equal(t, "<20261124103000.1@lilas.mssante.fr>", r.InReplyTo)
	assert.Contains(t, r.Text, "1.2.250.1.999.1.1.4242^20261124103000")
	assert.Equal(t, "Suppression du document : Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979", r.Subject)
	assert.False(t, r.IsDocumentMessage(), "a deletion notice is not a document message")
}
