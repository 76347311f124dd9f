package mssante_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/emersion/go-message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
)

// topPart is one direct child of a message's top-level multipart.
type topPart struct {
	Type, Name string
	Body       []byte
}

// topParts reads the direct children of raw's top-level multipart with
// go-message (not with this package's parser, so that a parser bug cannot
// hide a writer bug).
func topParts(t *testing.T, raw []byte) (string, map[string]string, []topPart) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	require.NoError(t, err)
	mt, params, err := e.Header.ContentType()
	require.NoError(t, err)
	mr := e.MultipartReader()
	require.NotNil(t, mr, "not a multipart message: %s", mt)
	var out []topPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		pt, pp, _ := p.Header.ContentType()
		_, dp, _ := p.Header.ContentDisposition()
		name := dp["filename"]
		if name == "" {
			name = pp["name"]
		}
		body, err := io.ReadAll(p.Body)
		require.NoError(t, err)
		out = append(out, topPart{pt, name, body})
	}
	return mt, params, out
}

// documentMessage is the report message with a PDF of about size bytes,
// as received (Return-Path added by the delivering server).
func documentMessage(t *testing.T, size int) *mssante.Received {
	m := reportMessage()
	m.Documents[0].PDF = mssante.BytesOpener(testdocs.PDF("Compte rendu", size))
	return received(t, m)
}

// Issue 15 point 8: an MDN is the multipart/report of RFC 6522 §3 / RFC
// 8098 §3 — the human text, the message/disposition-notification part and
// the original message — and nothing else: the documents travel back
// inside the original (message/rfc822), never re-attached beside it. Its
// size is the original's plus a bounded overhead, not twice the
// attachments.
func TestMDNHasOnlyTheReportParts(t *testing.T) {
	orig := documentMessage(t, 400_000)
	require.NotNil(t, orig.Attachment("IHE_XDM.ZIP"), "fixture: the original carries IHE_XDM.ZIP")
	for _, ie := range []*mssante.IntegrationError{nil, &mssante.IntegrationPatientUnknown} {
		ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Error: ie, Product: "DEV935997"})
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = ack.WriteTo(&b)
		require.NoError(t, err)
		mt, params, parts := topParts(t, b.Bytes())
		assert.Equal(t, "multipart/report", mt)
		assert.Equal(t, "disposition-notification", params["report-type"])
		var types []string
		for _, p := range parts {
			types = append(types, p.Type)
			assert.Empty(t, p.Name, "part %s is a named attachment", p.Type)
		}
		assert.Equal(t, []string{"text/plain", "message/disposition-notification", "message/rfc822"}, types)
		if len(parts) == 3 {
			assert.True(t, bytes.Equal(orig.Raw, bytes.TrimSuffix(parts[2].Body, []byte("\r\n"))) ||
				bytes.Equal(orig.Raw, parts[2].Body), "the third part is the original message as received")
		}
		assert.LessOrEqual(t, b.Len(), len(orig.Raw)+4096, "MDN of %d bytes for an original of %d", b.Len(), len(orig.Raw))
	}
}
