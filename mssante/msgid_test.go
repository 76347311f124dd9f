// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// Issue 15 point 10: a Message-ID given without its angle brackets (as the
// doc described it, random@domain) is accepted and written as <...>, and
// so are In-Reply-To and References.
func TestMessageIDWithOrWithoutBrackets(t *testing.T) {
	for _, id := range []string{"abc.1@lilas.mssante.fr", "<abc.1@lilas.mssante.fr>", " abc.1@lilas.mssante.fr "} {
		m := reportMessage()
		m.MessageID = id
		m.DSN.Notify = []string{"SUCCESS", "FAILURE"}
		m.LinkTo("orig.1@chu.mssante.fr", "<first.1@chu.mssante.fr>")
		raw := write(t, m)
		assert.Contains(t, string(raw), "\r\nMessage-ID: <abc.1@lilas.mssante.fr>\r\n", id)
		assert.Contains(t, string(raw), "\r\nIn-Reply-To: <orig.1@chu.mssante.fr>\r\n", id)
		assert.Contains(t, string(raw), "\r\nReferences: <first.1@chu.mssante.fr> <orig.1@chu.mssante.fr>\r\n", id)
		assert.Equal(t, "<abc.1@lilas.mssante.fr>", m.MessageID, "the id kept in m is the one written")
		assert.Equal(t, "abc.1@lilas.mssante.fr", m.Envelope().DSN.EnvelopeID, "ENVID is the id without brackets")
		r := parse(t, raw)
		assert.Equal(t, m.MessageID, r.MessageID)
		assert.Empty(t, r.Check())
	}
	// Neither form: refused, naming the field.
	for _, bad := range []string{"abc", "<abc@lilas.mssante.fr", "a b@c", "<a@b>\r\nBcc: x@y"} {
		m := reportMessage()
		m.MessageID = bad
		err := m.Validate()
		require.Error(t, err, bad)
		assert.ErrorIs(t, err, mssante.ErrInvalid)
		assert.Contains(t, err.Error(), "Message-ID", bad)
		var ve *mssante.ValidationError
		if assert.ErrorAs(t, err, &ve, bad) {
			assert.True(t, slices.ContainsFunc(ve.Problems, func(p mssante.Problem) bool { return p.Rule == "RFC5322" && p.Field == "Message-ID" }),
				"%q: no RFC5322 Message-ID problem in %v", bad, ve.Problems)
		}
	}
	for in, want := range map[string]string{"a@b": "<a@b>", " <a@b> ": "<a@b>", "": "", "<a@b": "<a@b", "a@b>": "a@b>"} {
		assert.Equal(t, want, mssante.NormalizeMessageID(in), "%q", in)
	}

	// The same form on the receiving side: a Message-ID received without
	// brackets (Check still says so), an MDN's Original-Message-ID, an
	// MDN's own id.
	r := parse(t, []byte("From: A <a@b.mssante.fr>\r\nMessage-ID: bare.1@b.mssante.fr\r\nX-MSS-NIL: P\r\n\r\nx\r\n"))
	assert.Equal(t, "<bare.1@b.mssante.fr>", r.MessageID)
	assert.True(t, rules(r.Check())["ECO.2.2.1"], "a Message-ID without brackets is still reported")
	rep, err := mssante.ParseMDN(parse(t, []byte(strings.Replace(ansStyleMDN, "Original-Message-ID: <199509192301.23456@chb.mssante.fr>", "Original-Message-ID: 199509192301.23456@chb.mssante.fr", 1))))
	require.NoError(t, err)
	assert.Equal(t, "<199509192301.23456@chb.mssante.fr>", rep.OriginalMessageID)
	orig := received(t, reportMessage())
	ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Product: "DEV1", MessageID: "mdn.1@chu-exemple.mssante.fr"})
	require.NoError(t, err)
	assert.Equal(t, "<mdn.1@chu-exemple.mssante.fr>", ack.MessageID)
	ack, err = mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Product: "DEV1", MessageID: "<mdn.1@chu-exemple.mssante.fr>\r\nBcc: x@y"})
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = ack.WriteTo(&b)
	assert.ErrorIs(t, err, mssante.ErrInvalid, "an MDN id that would inject a header")
	assert.Zero(t, b.Len())
}
