// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// corpusCase is what Parse recovers from one message of enmime's test
// corpus (../testdata/enmime, see its README.md).
type corpusCase struct {
	rejected bool // Parse fails with ErrParse: no usable header at all
	// att is len(Attachments): enmime's Attachments, Inlines and
	// OtherParts together (gomss files every part that is not the body
	// text as an attachment).
	att, reports int
	text, html   string // in Text, HTML; "": empty
	problem      string // in one of Problems; "": no Problem at all
	mime         bool   // Check reports rule MIME: a defect of structure
	// goMessage is set on the 11 files go-message rejects whole (what
	// Parse did before reading the structure itself): its error.
	goMessage string
	// check tests more of what was recovered, from what enmime's own
	// tests in the module (envelope_test.go, part_test.go, error_test.go,
	// inspect_test.go) say of the file.
	check func(t *testing.T, m *mssante.Received)
}

// allData returns the data of the attachments and reports joined, to look
// for content.
func allData(m *mssante.Received) string {
	var b strings.Builder
	for _, a := range m.Attachments {
		b.Write(a.Data)
	}
	for _, a := range m.Reports {
		b.Write(a.Data)
	}
	return b.String()
}

// corpus is the expected outcome of every message file of enmime v1.3.0.
var corpus = map[string]corpusCase{
	// dsn/: enmime's dsn package tests; the report parts are Reports.
	"dsn/delayed_dsn.raw":                    {reports: 1, text: "[human-readable explanation goes here]"},
	"dsn/dsn_with_multipart_alternative.raw": {reports: 2, text: "[human-readable explanation goes here]", html: "<div>[human-readable explanation goes here]"},
	"dsn/multi_recipient_dsn.raw":            {reports: 2, text: "[human-readable explanation goes here]"},
	"dsn/simple_dsn.raw":                     {reports: 2, text: "[human-readable explanation goes here]"},
	"dsn/simple_dsn_with_html.raw":           {reports: 2, html: "<div>[human-readable explanation goes here]"},
	// encode/: the two inputs of enmime's raw-content encoding tests.
	"encode/parser-raw-content-html-option.raw": {html: "<!DOCTYPE html>"},
	"encode/parser-raw-content-text-option.raw": {text: "添付ファイル名"},

	// low-quality/: enmime's TestErrorEnvelopeWarnings names the defect
	// it reports on each (in brackets); gomss reports the structural ones
	// and the charset ones, and takes a missing Content-Type for the
	// RFC 2045 §5.2 default without a word.
	"low-quality/bad-final-boundary.raw": {att: 1, text: "A text section", problem: "no close delimiter", mime: true, // [Missing Boundary]
		goMessage: "multipart: NextPart: EOF",
		check: func(t *testing.T, m *mssante.Received) {
			a := m.Attachment("foo_9E5D72.zip")
			require.NotNil(t, a, "the attachment before the lost close delimiter")
			assert.Equal(t, "<html>\n", string(a.Data))
		}},
	"low-quality/bad-header-start.raw": {att: 1, text: "A text section", problem: "line 1 is indented but continues no field: skipped", mime: true,
		goMessage: "malformed MIME header initial line", // enmime's DecodeHeaders fails too (inspect_test.go)
		check: func(t *testing.T, m *mssante.Received) {
			assert.Nil(t, m.From, "the From of an indented first line is not taken")
			assert.Equal(t, "plain text", m.Subject)
			assert.Equal(t, "<07B7061D-2676-487E-942E-C341CE4D13DC@makita.skynet>", m.MessageID)
			assert.Equal(t, "An HTML section", string(m.Attachments[0].Data), "the part without header")
		}},
	"low-quality/bad-header-wrap.raw": {att: 1, text: "A text section", problem: "line 3 continues the parameters of Content-Type without being indented", mime: true, // [Malformed Header]
		goMessage: "malformed MIME header line",
		check: func(t *testing.T, m *mssante.Received) {
			a := m.Attachment("7DDA4_foo_9E5D72.zip")
			require.NotNil(t, a)
			assert.Equal(t, "7DDA4_foo_9E5D72.zip", a.Params["name"], "the parameter on the line not indented")
			assert.Equal(t, "0600", a.Params["x-unix-mode"])
			assert.Equal(t, "<html>\n", string(a.Data))
		}},
	"low-quality/empty-header.raw":      {att: 1, text: "A text section"},                                                                 // [Missing Content-Type]
	"low-quality/html-only-inline.raw":  {att: 1, html: "<html><head></head><body "},                                                      // [Plain Text From HTML]: enmime writes a text, gomss does not
	"low-quality/incorrect-charset.raw": {text: "Using Unicode/UTF-8, you ", problem: "part 1: text declared us-ascii holds 8-bit UTF-8"}, // [Charset Declaration]
	"low-quality/malformed-base64-attach.raw": {att: 1, text: "A text section", problem: "base64 not decodable", mime: true, // [Malformed Base64]
		check: func(t *testing.T, m *mssante.Received) {
			a := m.Attachment("some.doc")
			require.NotNil(t, a)
			assert.Equal(t, "PGh0*bWw+Cg==\n", string(a.Data), "kept as received, not a decoded prefix")
		}},
	"low-quality/missing-content-type.raw":  {text: "A plain text email"},
	"low-quality/missing-content-type2.raw": {att: 1, text: "A text section"}, // [Missing Content-Type]
	// [Charset Conversion]: the charset is in a <meta> only, which gomss
	// does not read.
	"low-quality/unk-charset-html-only.raw": {html: `<meta charset="fakescii-7">`},
	"low-quality/unk-charset-part.raw":      {att: 1, text: "A text section", problem: `part 1: unknown charset "fakescii"`},                       // [Charset Conversion]
	"low-quality/unk-encoding-part.raw":     {att: 1, text: "A text section", problem: `unknown Content-Transfer-Encoding "base9000"`, mime: true}, // [Content Encoding]

	// mail/
	"mail/attachment-application.raw": {att: 1, text: "A text section"}, // TestParseAttachmentApplication: one attachment
	"mail/attachment-octet.raw": {att: 1, text: "A text section", problem: "22 bytes of text after the close delimiter (epilogue) ignored", // TestParseAttachmentOctet: one attachment
		check: func(t *testing.T, m *mssante.Received) {
			assert.NotContains(t, m.Text+m.HTML+allData(m), "This text is ignored.")
		}},
	"mail/attachment-only-inline-quoted-printable.raw": {html: "<!DOCTYPE html PUBLIC"},
	"mail/attachment-only-inline.raw":                  {att: 1},
	"mail/attachment-only-no-disposition.raw":          {att: 1},
	"mail/attachment-only-text-attachment.raw":         {att: 1},
	"mail/attachment-only.raw":                         {att: 1},
	"mail/attachment.raw":                              {att: 1, text: "A text section"}, // TestParseAttachment: one attachment, no inline
	"mail/ctype-bug.raw":                               {text: "What's next? Head over to", html: "<html>"},
	"mail/epilogue-sample.raw": {att: 1, text: "A text section", problem: "delimiter line followed by other text: read as the close delimiter", mime: true,
		goMessage: `multipart: expecting a new Part; got line "--Enmime-Test-100-->\n"`,
		check: func(t *testing.T, m *mssante.Received) {
			// TestEnvelopeEpilogue: the epilogue is "Potentially
			// malicious content\n", kept apart from the text.
			assert.True(t, slices.ContainsFunc(m.Problems, func(p string) bool {
				return strings.Contains(p, "30 bytes of text after the close delimiter (epilogue) ignored")
			}), "%q", m.Problems)
			assert.NotContains(t, m.Text+m.HTML+allData(m), "Potentially malicious content")
			a := m.Attachment("test.html")
			require.NotNil(t, a)
			assert.Equal(t, "<html>\n", string(a.Data))
		}},
	// No header at all: one line, "// Not an RFC-822 Document". enmime
	// fails on it too (cmd/mime-dump's test: "Failed to read envelope").
	"mail/erroneous.raw": {rejected: true, goMessage: "malformed MIME header line"},
	"mail/header-only.raw": {problem: "multipart/mixed: empty body: no part", mime: true,
		goMessage: "multipart: NextPart: EOF",
		check: func(t *testing.T, m *mssante.Received) {
			// TestParseHeaderOnly: no text, no HTML, 7 header fields, a
			// Date.
			assert.Equal(t, 7, m.Header.Len())
			assert.False(t, m.Date.IsZero())
			assert.Equal(t, "Attachment", m.Subject)
		}},
	"mail/html-mime-bad-charset-inline.raw":             {att: 1, text: "Test of text section", html: "<html>", problem: `part 2.1: unknown charset "charset=us-ascii"`},
	"mail/html-mime-bad-unknown-charset-inline.raw":     {att: 1, text: "Test of text section", html: "<html>", problem: `part 2.1: unknown charset "charset=us-askey"`},
	"mail/html-mime-inline.raw":                         {att: 1, text: "Test of text section", html: "<html>"}, // TestParseInline: one inline
	"mail/html-only-inline.raw":                         {att: 1, html: "<html>"},                               // TestParseHTMLOnlyInline: one inline
	"mail/inlinemultipart.raw":                          {att: 2, text: "Simple text."},                         // TestParseInlineMultipart: one inline, one attachment
	"mail/malformed-multiple-address-header-values.raw": {att: 2, text: "Simple text.", problem: "From: mail: expected comma"},
	"mail/mime-alternative.raw":                         {att: 1, text: "Section one"}, // TestParseMultiAlernativeText: the first text only
	"mail/mime-bad-8bit-filename.raw":                   {att: 1, text: "Text part", problem: "part 2 header: Content-Type: mime: invalid media parameter: read as application/msword", mime: true},
	"mail/mime-bad-content-transfer-encoding.raw":       {text: "\xa6Z(", html: "<meta http-equiv", problem: "part 1: text declared utf-8 is not valid UTF-8"},
	"mail/mime-bad-content-type.raw": {att: 1, text: "Thank you for booking", problem: "unexpected content after media subtype: read as application/pdf", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			// enmime: the attachment Invoice_302232133150612.pdf.
			a := m.Attachment("Invoice_302232133150612.pdf")
			require.NotNil(t, a)
			assert.Equal(t, "application/pdf", a.ContentType)
			assert.True(t, bytes.HasPrefix(a.Data, []byte("%PDF")))
		}},
	"mail/mime-blank-media-name.raw": {att: 1, text: "Thank you for booking", problem: "read as application/pdf", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			require.NotNil(t, m.Attachment("Invoice_302232133150612.pdf"), "enmime: the file name of Content-Disposition")
		}},
	"mail/mime-duplicate-param.raw": {att: 1, text: "Thank you for booking"},
	"mail/mime-mixed-related.raw":   {att: 1, html: "<p>html1</p>"},
	"mail/mime-mixed.raw":           {att: 1, text: "Section one"},
	"mail/mime-signed.raw":          {att: 2, text: "Section one"},
	"mail/mime-unquoted-tspecials-param.raw": {att: 1, text: "Thank you for booking", problem: "invalid media parameter: read as application/pdf", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			require.NotNil(t, m.Attachment("Invoice_(302232133150612).pdf"), "enmime: Invoice_(302232133150612).pdf")
		}},
	"mail/multipart-wo-boundary.raw": {text: "I'm  multipart message without boundary", problem: "multipart/report: no boundary parameter: the body is read as one text/plain part", mime: true,
		goMessage: "multipart: boundary is empty", // enmime fails too, unless MultipartWOBoundaryAsSinglePart
		check: func(t *testing.T, m *mssante.Received) {
			assert.Equal(t, mssante.KindReport, m.Kind(), "a report of unknown type")
		}},
	"mail/non-mime-html-charset-header-only.raw": {html: "<html>"},
	"mail/non-mime-html.raw":                     {html: "<html>"},
	"mail/non-mime-missing-charset.raw":          {html: "<html>", problem: "body: text declared us-ascii (no charset) holds 8-bit UTF-8"},
	"mail/non-mime.raw":                          {text: "This is a test mailing"},                         // TestParseNonMime
	"mail/other-multi-related.raw":               {att: 2, text: "Plain text.", html: "<i>HTML text.</i>"}, // TestParseOtherPartsRelated: two other parts
	"mail/other-parts.raw":                       {att: 1, text: "A text section"},                         // TestParseOtherParts: one other part
	"mail/qp-ascii-header.raw":                   {text: "This is a test mailing"},
	"mail/qp-utf8-header-no-break.raw": {text: "Lorem ipsum dolor sit amet", html: "<html>", problem: "line 11 is not a header field: the blank line ending the header is missing, the body starts there", mime: true,
		goMessage: "malformed MIME header line",
		check: func(t *testing.T, m *mssante.Received) {
			// inspect_test.go: the To of this header decodes.
			require.Len(t, m.To, 1)
			assert.Equal(t, "Mirosław Marczak", m.To[0].Name)
			assert.Equal(t, "MIME UTF8 Test ¢ More Text", m.Subject)
		}},
	"mail/qp-utf8-header-recursed.raw": {text: "Lorem ipsum dolor sit amet", html: "<html>"},
	"mail/qp-utf8-header.raw":          {text: "Lorem ipsum dolor sit amet", html: "<html>"},
	"mail/quoted-printable-mime.raw":   {text: "Lorem ipsum dolor sit amet", html: "<html>"}, // TestParseQuotedPrintableMime
	"mail/quoted-printable.raw":        {text: "Lorem ipsum dolor sit amet"},                 // TestParseQuotedPrintable
	"mail/unknown-part-type.raw":       {att: 1, text: "A text section"},

	// parts/: enmime's part_test.go reads these with ReadParts.
	"parts/badboundary.raw": {text: "A text section", html: "An HTML section", problem: "no close delimiter: 2 part(s) read, the body ends after the last delimiter", mime: true,
		goMessage: "multipart: NextPart: EOF"}, // TestBadBoundaryTerm: the text/plain and the text/html part
	"parts/barren-content-type.raw": {att: 1, problem: "header: Content-Type: mime: no media type: read as text/plain", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			// TestBarrenContentType: an attachment, Missing Content-Type.
			assert.Equal(t, "attachment", m.Attachments[0].Disposition)
		}},
	"parts/bin-attach.raw":                   {att: 1, text: "A text section"},
	"parts/chardet-detection.raw":            {text: "Loggen Sie sich ein"},
	"parts/chardet-fail-non-txt.raw":         {att: 1},
	"parts/chardet-fail-not-long-enough.raw": {text: "和弟弟"},
	"parts/chardet-fail.raw":                 {att: 1},
	// enmime guesses the charset (Big5, ISO-8859-1) of text declared
	// us-ascii; gomss does not guess, and says so.
	"parts/chardet-success-big-5.raw":      {text: "\xc3C\xacO", problem: "body: text declared us-ascii is not valid UTF-8: kept as bytes"},
	"parts/chardet-success-iso-8859-1.raw": {text: "DIE Drachenk\xf6pfe", problem: "body: text declared us-ascii is not valid UTF-8: kept as bytes"},
	"parts/ctype-invalid-characters.raw": {text: "Test of text/plain section", problem: "header: Content-Type: mime: unexpected content after media subtype: read as text/plain", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			assert.Equal(t, "text/plain", m.ContentType, "enmime: text/plain")
		}},
	"parts/empty-ctype-bad-content.raw": {text: "Use the View Invoices", problem: "part 1 header: Content-Type: mime: no media type: read as text/plain", mime: true},
	"parts/empty-header.raw":            {text: "A text section", html: "An HTML section"},
	"parts/extra-base64-character.raw":  {text: "Hello World!", html: "<p>Hello World</p>"},
	"parts/header-only.raw":             {att: 1},
	"parts/malformed-content-type-params.raw": {problem: "header: Content-Type: mime: invalid media parameter: read as text/html", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			assert.Equal(t, "text/html", m.ContentType, "enmime: text/html, Malformed Header")
		}},
	"parts/missing-closing-param-quote.raw": {problem: "header: Content-Type: mime: invalid media parameter: read as text/html", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			assert.Equal(t, "text/html", m.ContentType, "enmime: text/html")
		}},
	"parts/missing-ctype-root.raw": {text: "According to RFC 822"},
	"parts/missing-ctype.raw":      {text: "A text section", html: "An HTML section"},
	"parts/multi-malformed.raw": {att: 2, text: "Section one", problem: "part 2: no header and no blank line before its body: read as a text/plain body", mime: true,
		goMessage: "malformed MIME header line",
		check: func(t *testing.T, m *mssante.Received) {
			// TestMultiSkipMalformedPart: "Section one", then "Section
			// two" (the malformed part skipped); gomss keeps the
			// malformed part's text as well.
			assert.Equal(t, "I'm section without headers\n", string(m.Attachments[0].Data))
			assert.Equal(t, "Section two\n", string(m.Attachments[1].Data))
		}},
	"parts/multialtern.raw": {text: "A text section", html: "An HTML section"},
	"parts/multibase64.raw": {att: 1, text: "A text section"},
	"parts/multimixed-no-closing-boundary.raw": {html: "<html>", problem: "no close delimiter: 1 part(s) read, the last one runs to the end of the body", mime: true,
		goMessage: "multipart: NextPart: EOF",
		check: func(t *testing.T, m *mssante.Received) {
			// TestNoClosingBoundary: the text/html part, "Missing
			// Boundary".
			assert.True(t, strings.HasSuffix(m.HTML, "Hello,\n </font></p>\n<br>\n"), "the part runs to the end: %q", m.HTML)
		}},
	"parts/multimixed.raw":               {att: 1, text: "Section one"},
	"parts/multiother.raw":               {att: 1, text: "Section one"},
	"parts/nestedmulti.raw":              {att: 2, text: "A text section", html: "An HTML section"},
	"parts/quoted-printable-invalid.raw": {text: "https://www.amazon.ca/gp/"},
	"parts/quoted-printable.raw":         {text: "Start=ABC=Finish"},
	"parts/similar-boundary.raw":         {att: 1, text: "Section one", html: "An HTML section"},
	"parts/textplain.raw":                {text: "Test of text/plain section"},
	"parts/unquoted-ctype-param-special.raw": {att: 1, problem: "header: Content-Type: mime: invalid media parameter: read as text/calendar", mime: true,
		check: func(t *testing.T, m *mssante.Received) {
			// enmime: text/calendar, attachment calendar.ics.
			a := m.Attachment("calendar.ics")
			require.NotNil(t, a)
			assert.Equal(t, "text/calendar", a.ContentType)
			assert.Equal(t, "attachment", a.Disposition)
		}},
}

// goMessageReads reads raw the way Parse did before it read the structure
// itself: go-message's reader, every part, unknown charsets and encodings
// tolerated, errors reading a part's body too.
func goMessageReads(raw []byte) error {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return err
	}
	var walk func(e *message.Entity) error
	walk = func(e *message.Entity) error {
		mr := e.MultipartReader()
		if mr == nil {
			_, _ = io.Copy(io.Discard, e.Body)
			return nil
		}
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
				return err
			}
			if err := walk(p); err != nil {
				return err
			}
		}
	}
	return walk(e)
}

// TestEnmimeCorpus: every message of enmime's test corpus gives a
// Received but the one without any header, with what enmime recovers from
// it, each defect in Problems, and Check reporting rule MIME on each
// defect of structure. go-message alone rejects 11 of the 91 whole.
func TestEnmimeCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "enmime", "*", "*.raw"))
	require.NoError(t, err)
	require.Len(t, files, 91, "the corpus")
	var read, rejected, goRejected, clean, tolerated, defective int
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.ToSlash(strings.TrimPrefix(f, filepath.Join("..", "testdata", "enmime")+string(filepath.Separator)))
		seen[name] = true
		c, ok := corpus[name]
		if !assert.True(t, ok, "%s: not in the table", name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			if gerr := goMessageReads(raw); c.goMessage != "" {
				goRejected++
				require.Error(t, gerr, "go-message")
				assert.Contains(t, gerr.Error(), c.goMessage, "go-message's error")
			} else {
				require.NoError(t, gerr, "go-message")
			}
			m, err := mssante.Parse(bytes.NewReader(raw), nil)
			if c.rejected {
				rejected++
				require.ErrorIs(t, err, mssante.ErrParse)
				assert.NotErrorIs(t, err, mssante.ErrTooLarge)
				t.Logf("rejected: %v", err)
				return
			}
			require.NoError(t, err)
			read++
			t.Logf("read: %s, %d attachment(s), %d report(s), text %d bytes, HTML %d bytes, problems %q",
				m.ContentType, len(m.Attachments), len(m.Reports), len(m.Text), len(m.HTML), m.Problems)
			assert.Len(t, m.Attachments, c.att, "attachments")
			assert.Len(t, m.Reports, c.reports, "reports")
			for _, x := range []struct{ what, got, want string }{{"text", m.Text, c.text}, {"HTML", m.HTML, c.html}} {
				if x.want == "" {
					assert.Empty(t, x.got, x.what)
				} else {
					assert.Contains(t, x.got, x.want, x.what)
				}
			}
			if c.problem == "" {
				assert.Empty(t, m.Problems)
			} else {
				assert.True(t, slices.ContainsFunc(m.Problems, func(p string) bool { return strings.Contains(p, c.problem) }),
					"no problem with %q in %q", c.problem, m.Problems)
			}
			hasMIME := slices.ContainsFunc(m.Check(), func(p mssante.Problem) bool { return p.Rule == "MIME" })
			assert.Equal(t, c.mime, hasMIME, "Check reports MIME")
			switch {
			case hasMIME:
				defective++
			case len(m.Problems) > 0:
				tolerated++
			default:
				clean++
			}
			if c.check != nil {
				c.check(t, m)
			}
		})
	}
	for name := range corpus {
		assert.True(t, seen[name], "%s: in the table, not in the corpus", name)
	}
	t.Logf("go-message: %d read, %d rejected whole; Parse: %d read (%d without problem, %d with problems of content, %d with defects of structure reported by Check), %d rejected",
		len(files)-goRejected, goRejected, read, clean, tolerated, defective, rejected)
	assert.Equal(t, 11, goRejected, "rejected by go-message")
	assert.Equal(t, 1, rejected, "rejected by Parse: mail/erroneous.raw only")
	assert.Equal(t, 90, read)
}
