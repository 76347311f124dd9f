// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// A compliant document message broken in the ways senders break mail is
// still read (its archive too when it survives), and Check still fails
// it: tolerance recovers content, it never makes a broken message pass.
func TestTolerantDocumentMessageFlagged(t *testing.T) {
	zipData := editedZip(t, func(_ string, b []byte) []byte { return b })
	pdf := "%PDF-1.4 compte rendu"
	good := string(handMessage(handHeaders, [3]string{"IHE_XDM.ZIP", "application/zip", zipData}, [3]string{pdfName, "application/pdf", pdf}))
	require.Empty(t, check(t, []byte(good)), "control: the message is compliant")
	edit := func(old, new string) []byte {
		require.Contains(t, good, old, "fixture")
		return []byte(strings.Replace(good, old, new, 1))
	}
	pdfB64 := base64.StdEncoding.EncodeToString([]byte(pdf))
	cases := []struct {
		name   string
		raw    []byte
		detail string // in the MIME problem
		xdm    bool   // the archive is still read
		rules  []string
	}{
		{"no close delimiter", []byte(strings.TrimSuffix(good, "--XYZ--\r\n")), "no close delimiter: 3 part(s) read", true, nil},
		{"close delimiter with text after, and an epilogue", edit("--XYZ--\r\n", "--XYZ-->\r\nTexte caché\r\n"), "delimiter line followed by other text", true, nil},
		{"undecodable PDF", edit(pdfB64, "%%%"+pdfB64), "base64 not decodable", true, nil},
		// The header ends at the line that is not a field: the message
		// is then a text/plain one whose subject announces documents.
		{"a message header line that is not a field", edit("X-MSS-NIL:", "ceci n'est pas un champ\r\nX-MSS-NIL:"), "line 5 is not a header field", false, []string{"ECO.2.1.1", "ECO.2.4.3"}},
		// The archive's header ends early: its transfer encoding is
		// lost, the archive cannot be read.
		{"a part header line that is not a field", edit("Content-Type: application/zip; name=\"IHE_XDM.ZIP\"\r\n", "Content-Type: application/zip; name=\"IHE_XDM.ZIP\"\r\nceci n'est pas un champ\r\n"),
			"part 2 header: line 2 is not a header field", false, []string{"IHE-XDM"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := mssante.Parse(bytes.NewReader(c.raw), nil)
			require.NoError(t, err)
			assert.True(t, m.IsDocumentMessage(), "still a document message")
			assert.True(t, slices.ContainsFunc(m.Problems, func(p string) bool { return strings.Contains(p, c.detail) }), "Problems %q", m.Problems)
			if c.xdm {
				assert.NotNil(t, m.XDM, "the archive is recovered: %v", m.XDMErr)
			} else {
				assert.Nil(t, m.XDM)
			}
			ps := check(t, c.raw)
			assert.True(t, slices.ContainsFunc(ps, func(p mssante.Problem) bool {
				return p.Rule == "MIME" && strings.Contains(p.Detail, c.detail)
			}), "Check: %v", ps)
			for _, r := range c.rules {
				assert.True(t, rules(ps)[r], "rule %s: %v", r, ps)
			}
		})
	}
	// Text after the close delimiter is shown nowhere.
	m, err := mssante.Parse(bytes.NewReader(cases[1].raw), nil)
	require.NoError(t, err)
	assert.NotContains(t, m.Text+allData(m), "Texte caché")
}

func parseStr(t *testing.T, raw string) *mssante.Received {
	t.Helper()
	m, err := mssante.Parse(strings.NewReader(raw), nil)
	require.NoError(t, err)
	return m
}

// The rules of the tolerant reading, one by one.
func TestTolerantReading(t *testing.T) {
	t.Run("no header at all", func(t *testing.T) {
		for _, raw := range []string{"// Not an RFC-822 Document", "texte\r\nFrom: a@b\r\n\r\nx", " indented\r\ntext\r\n"} {
			_, err := mssante.Parse(strings.NewReader(raw), nil)
			assert.ErrorIs(t, err, mssante.ErrParse, "%q", raw)
		}
	})
	t.Run("empty header", func(t *testing.T) {
		// A blank first line is an empty header (as before), not a
		// defect; an empty input too.
		m := parseStr(t, "\r\nBonjour\r\n")
		assert.Equal(t, "Bonjour\n", m.Text)
		assert.Empty(t, m.Problems)
		m = parseStr(t, "")
		assert.Empty(t, m.Problems)
	})
	t.Run("field name with a blank", func(t *testing.T) {
		m := parseStr(t, "From: a@b.fr\r\nFrom x@y Tue Dec  8 00:08:25 2026\r\nSubject: s\r\n\r\nx\r\n")
		assert.Equal(t, "s", m.Subject, "the fields after it are read")
		assert.Equal(t, []string{"header: line 2 has no valid field name before its colon: skipped"}, m.Problems)
	})
	t.Run("preamble and LF line breaks", func(t *testing.T) {
		m := parseStr(t, "Content-Type: multipart/mixed; boundary=b\n\nThis is a multi-part message.\n--b\n\nun\n--b\nContent-Type: text/plain; name=a.txt\n\ndeux\n--b--\n")
		assert.Equal(t, "un", m.Text)
		require.Len(t, m.Attachments, 1)
		assert.Equal(t, "deux", string(m.Attachments[0].Data))
		assert.Empty(t, m.Problems, "a preamble is allowed (RFC 2046 §5.1.1)")
	})
	t.Run("a longer boundary is not a delimiter", func(t *testing.T) {
		m := parseStr(t, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nun\r\n--bb\r\nencore\r\n--b--\r\n")
		assert.Equal(t, "un\n--bb\nencore", m.Text)
		assert.Empty(t, m.Problems)
	})
	t.Run("nested multipart without close delimiter", func(t *testing.T) {
		m := parseStr(t, "Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n"+
			"--in\r\n\r\ntexte\r\n--out\r\nContent-Type: application/octet-stream; name=a.bin\r\n\r\nAB\r\n--out--\r\n")
		assert.Equal(t, "texte", m.Text)
		require.Len(t, m.Attachments, 1, "the outer multipart goes on")
		assert.Equal(t, "AB", string(m.Attachments[0].Data))
		assert.Equal(t, []string{"part 1 multipart/alternative: no close delimiter: 1 part(s) read, the last one runs to the end of the body"}, m.Problems)
	})
	t.Run("multipart without delimiter", func(t *testing.T) {
		m := parseStr(t, "Content-Type: multipart/mixed; boundary=b\r\n\r\nrien de MIME\r\n")
		assert.Equal(t, "rien de MIME\n", m.Text)
		assert.Equal(t, []string{"multipart/mixed: no delimiter line: the body is read as one text/plain part"}, m.Problems)
	})
	t.Run("close delimiter before any part", func(t *testing.T) {
		m := parseStr(t, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n")
		assert.Empty(t, m.Text)
		assert.Empty(t, m.Attachments)
		assert.Equal(t, []string{"multipart/mixed: close delimiter before any part: no part"}, m.Problems)
	})
	t.Run("problems never quote a line", func(t *testing.T) {
		m := parseStr(t, "Subject: x\r\nPAT-TROIS DOMINIQUE né le 28/03/1979\r\n\r\nx\r\n")
		require.NotEmpty(t, m.Problems)
		assert.NotContains(t, strings.Join(m.Problems, "\n"), "DOMINIQUE")
	})
}

// A header block larger than 1 MiB (go-message's bound) is refused,
// wrapping ErrTooLarge.
func TestParseHeaderTooLarge(t *testing.T) {
	raw := "Subject: x\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 70)+"\r\n", (1<<20)/79+10) + "\r\nx\r\n"
	_, err := mssante.Parse(strings.NewReader(raw), nil)
	require.ErrorIs(t, err, mssante.ErrParse)
	require.ErrorIs(t, err, mssante.ErrTooLarge)
}
