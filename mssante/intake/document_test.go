// SPDX-License-Identifier: Apache-2.0

package intake_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/mssante/intake"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// message writes and parses a document message about p, the header
// changed by edit.
func message(t *testing.T, p *ins.Identity, edit func(*cda.Header)) *mssante.Received {
	t.Helper()
	return messageTo(t, p, edit, "")
}

// messageTo is message, linked to an original message when one is given
// (a replacement must be: ECO.2.2.2).
func messageTo(t *testing.T, p *ins.Identity, edit func(*cda.Header), original string) *mssante.Received {
	t.Helper()
	h := testdocs.Header(p, "11488-4", time.Date(2026, 11, 30, 10, 0, 0, 0, testdocs.Paris))
	if edit != nil {
		edit(h)
	}
	msg := &mssante.Message{
		From:      mssante.Sender{Address: "jean.dupont@test.mssante.fr", Kind: mssante.Personal, GivenName: "Jean", FamilyName: "Dupont"},
		To:        []string{"pfi@ch-test.mssante.fr"},
		Text:      "Bonjour\n",
		Documents: []mssante.Document{{Header: h, PDF: mssante.BytesOpener(testdocs.PDF("CR", 2000))}},
		XDM:       xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:   "DEV000000",
	}
	if original != "" {
		msg.LinkTo(original)
	}
	var b bytes.Buffer
	_, err := msg.WriteTo(&b)
	require.NoError(t, err)
	m, err := mssante.Parse(&b, nil)
	require.NoError(t, err)
	return m
}

// FromReceived reads what the decision needs from a real message: ids,
// version, type and its class (SC.CDA/MSS.04), the patient as read (no
// status), X-MSS-INS and the submission set's patientId.
func TestFromReceived(t *testing.T) {
	p := testdocs.Patient("nir", true)
	m := messageTo(t, p, func(h *cda.Header) {
		h.Version = 2
		h.SetID = cda.II{Root: h.ID.Root, Extension: "set-1"}
		h.Replaces = &cda.II{Root: h.ID.Root, Extension: "old"}
	}, "<first@test.mssante.fr>")
	docs, err := intake.FromReceived(m)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	d := docs[0]
	assert.Equal(t, m.MessageID, d.MessageID)
	assert.NotEmpty(t, d.ID.Root)
	assert.Equal(t, "set-1", d.SetID.Extension)
	assert.Equal(t, 2, d.Version)
	require.NotNil(t, d.Replaces)
	assert.Equal(t, "old", d.Replaces.Extension)
	assert.Equal(t, "11488-4", d.Type.Code)
	assert.Equal(t, "10", d.Class, "ASS_X04: 11488-4 is class 10")
	assert.Equal(t, ins.Status(""), d.Patient.Status, "a received identity is never qualified here")
	assert.Empty(t, d.Patient.LocalIDs, "the sender's IPP is not ours")
	assert.Equal(t, p.INS, d.Patient.INS)
	assert.True(t, ins.CompareTraits(&p.Traits, &d.Patient.Traits).Strict())
	assert.Equal(t, "O", d.INSHeader)
	require.NotNil(t, d.SubmissionPatient)
	assert.Equal(t, p.INS.Matricule.String(), d.SubmissionPatient.ID)
	assert.NoError(t, d.PatientErr)

	// and the whole chain decides on it
	e := newEnv(t, intake.Policy{}, nil, intake.Patient{ID: "IPP1", Identity: ins.Identity{Status: ins.Qualified, INS: p.INS, Traits: p.Traits}})
	dec := e.decide(t, d)
	assert.Equal(t, intake.Integrate, dec.Outcome, "%v", dec.Reasons)
}

// A message without a readable archive cannot be decided on.
func TestFromReceivedNoArchive(t *testing.T) {
	m, err := mssante.Parse(bytes.NewReader([]byte("From: a@b.mssante.fr\r\nTo: c@d.mssante.fr\r\nSubject: x\r\nMessage-ID: <1@b>\r\n\r\nhello\r\n")), nil)
	require.NoError(t, err)
	_, err = intake.FromReceived(m)
	assert.ErrorIs(t, err, intake.ErrDocument)
	_, err = intake.FromReceived(nil)
	assert.ErrorIs(t, err, intake.ErrDocument)
}

// A document whose bytes are not those of the metadata (tampered in the
// archive) is an ErrDocument, not a decision.
func TestFromReceivedTampered(t *testing.T) {
	m := message(t, testdocs.Patient("nir", true), nil)
	require.NotNil(t, m.XDM)
	m.XDM.Documents[0].Entry.Hash = "0000000000000000000000000000000000000000"
	_, err := intake.FromReceived(m)
	assert.ErrorIs(t, err, intake.ErrDocument)
	assert.ErrorIs(t, err, xdm.ErrHashMismatch)
}
