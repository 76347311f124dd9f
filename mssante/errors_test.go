// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
)

// TestOneValidationError proves issue 16's "one concept, one type": a
// message that breaks a Ref#2 rule and a CDA header that breaks a CI-SIS
// rule fail with the same *ValidationError type, which both packages'
// names reach with errors.As, and both match the one sentinel whichever
// package's name for it the caller uses.
func TestOneValidationError(t *testing.T) {
	m := reportMessage()
	m.Product = ""
	msgErr := m.Validate()
	h := testdocs.Header(testdocs.Patient("test", true), "11488-4", created)
	h.Title = ""
	cdaErr := h.Validate()
	require.Error(t, msgErr)
	require.Error(t, cdaErr)

	assert.Same(t, cda.ErrInvalid, mssante.ErrInvalid, "one sentinel")
	assert.Equal(t, reflect.TypeOf(cdaErr), reflect.TypeOf(msgErr), "one error type")
	for name, err := range map[string]error{"message": msgErr, "CDA header": cdaErr} {
		require.ErrorIs(t, err, mssante.ErrInvalid, name)
		require.ErrorIs(t, err, cda.ErrInvalid, name)
		var mve *mssante.ValidationError
		require.ErrorAs(t, err, &mve, name)
		var cve *cda.ValidationError
		require.ErrorAs(t, err, &cve, name)
		assert.Same(t, mve, cve, name)
		require.NotEmpty(t, mve.Problems, name)
	}

	// Each keeps the wording a user sees: what was judged, then the
	// problems (a rule identifier for a message; the element for a CDA
	// header, whose rule is named in the sentence).
	assert.Equal(t, "mssante: invalid message: ECO.2.4.3 X-MSS-NIL: the product reference (Convergence) is required on every message", msgErr.Error())
	assert.Equal(t, "cda: invalid header: title: the title is required (StrucMin SMDS_CDAClinicalDocument)", cdaErr.Error())
	var ve *mssante.ValidationError
	require.ErrorAs(t, msgErr, &ve)
	assert.Equal(t, []mssante.Problem{{Rule: "ECO.2.4.3", Field: mssante.HeaderNIL, Detail: "the product reference (Convergence) is required on every message"}}, ve.Problems)
	require.ErrorAs(t, cdaErr, &ve)
	assert.Equal(t, []cda.Problem{{Field: "title", Detail: "the title is required (StrucMin SMDS_CDAClinicalDocument)"}}, ve.Problems)
}

// TestMessageErrorReachesCauses: a message's problems keep the error
// behind them (Problem.Err), so errors.Is and errors.As see through the
// message's ValidationError to an invalid recipient address, to the
// header's own ValidationError and to the ins error behind it.
func TestMessageErrorReachesCauses(t *testing.T) {
	m := reportMessage()
	m.To = []string{"pas une adresse"}
	err := m.Validate()
	require.ErrorIs(t, err, mssante.ErrInvalid)
	require.ErrorIs(t, err, mssante.ErrAddress)

	// A document whose header cannot be written: a non-qualified identity
	// without local identifier has no recordTarget id.
	m = reportMessage()
	m.Documents[0].Header.Patient.Status = ins.Recovered
	m.Documents[0].Header.Patient.LocalIDs = nil
	err = m.Validate()
	require.ErrorIs(t, err, mssante.ErrInvalid)
	var outer *mssante.ValidationError
	require.ErrorAs(t, err, &outer)
	require.Len(t, outer.Problems, 1, "%v", err)
	p := outer.Problems[0]
	assert.Equal(t, "ECO.2.1.1", p.Rule)
	assert.Equal(t, "document 1", p.Field)
	var inner *cda.ValidationError
	require.ErrorAs(t, p.Err, &inner, "the document's problem carries the header's error")
	assert.NotSame(t, outer, inner)
	require.Len(t, inner.Problems, 1, "%v", inner)
	assert.Equal(t, "recordTarget", inner.Problems[0].Field)
	assert.Equal(t, inner.Error(), p.Detail, "the detail is the header's error text")
	assert.Contains(t, err.Error(), "mssante: invalid message: ECO.2.1.1 document 1: cda: invalid header: recordTarget: ins: recordTarget: ")
	require.ErrorIs(t, err, ins.ErrRecordTarget, "through the message and the header to the ins cause")

	// A patient recipient whose address cannot be built: the identity is
	// not qualified.
	m = reportMessage()
	addr, err := m.Documents[0].Header.Patient.MonEspaceSanteAddress()
	require.NoError(t, err)
	m.To = []string{addr}
	m.Documents[0].Header.Patient.Status = ins.Validated
	err = m.Validate()
	require.ErrorIs(t, err, mssante.ErrInvalid)
	require.ErrorIs(t, err, ins.ErrNotQualified)
	require.ErrorAs(t, err, &outer)
	var rules []string
	for _, p := range outer.Problems {
		if errors.Is(p.Err, ins.ErrNotQualified) {
			rules = append(rules, p.Rule+" "+p.Field)
		}
	}
	assert.Contains(t, rules, "ECO.2.2.6 To", "%v", err)
}

func TestProblemString(t *testing.T) {
	for want, p := range map[string]mssante.Problem{
		"ECO.2.2.7 From: x":    {Rule: "ECO.2.2.7", Field: "From", Detail: "x"},
		"title: x":             {Field: "title", Detail: "x"},
		"MES.6: x":             {Rule: "MES.6", Detail: "x"},
		"x":                    {Detail: "x"},
		"RFC5322 Message-ID: ": {Rule: "RFC5322", Field: "Message-ID"},
	} {
		assert.Equal(t, want, p.String())
	}
	assert.Equal(t, "gomss: invalid: a: b", (&cda.ValidationError{Problems: []cda.Problem{{Field: "a", Detail: "b"}}}).Error(), "no What: the sentinel's text")
}
