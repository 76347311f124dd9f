// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// fields builds a header in wire order, with the exact spelling of every
// field name (go-message canonicalises names unless AddRaw is used, and
// writes fields in the reverse order of addition).
type fields struct {
	lines    []string
	boundary string
}

func newFields() *fields { return &fields{} }

// raw adds a field whose value is ASCII and already in wire form, folded
// at spaces when longer than 78 characters.
func (f *fields) raw(name, value string) {
	f.lines = append(f.lines, fold(name+": "+value))
}

// text adds an unstructured field, RFC 2047-encoded when not ASCII.
func (f *fields) text(name, value string) {
	f.raw(name, mime.QEncoding.Encode("utf-8", value))
}

// address adds a single mailbox with an optional display name.
func (f *fields) address(name, display, addr string) {
	f.raw(name, formatAddress(display, addr))
}

func (f *fields) addressList(name string, addrs []string) {
	if len(addrs) == 0 {
		return
	}
	var out []string
	for _, a := range addrs {
		out = append(out, "<"+a+">")
	}
	f.list(name, out, ", ")
}

func (f *fields) list(name string, values []string, sep string) {
	f.raw(name, strings.Join(values, sep))
}

func (f *fields) header() message.Header {
	var h message.Header
	for i := len(f.lines) - 1; i >= 0; i-- {
		h.AddRaw([]byte(f.lines[i] + "\r\n"))
	}
	return h
}

// phraseSpecials may not appear in an RFC 2047 encoded-word that stands
// for a display name (RFC 2047 §5(3)): such a name is B-encoded.
const phraseSpecials = "\"#$%&'(),.:;<>@[]^`{|}~"

// formatAddress writes "display" <addr>, the display name quoted when it
// needs to be, RFC 2047-encoded when not ASCII (Q, or B when the name has
// characters an encoded word in a phrase may not carry).
func formatAddress(display, addr string) string {
	if display == "" {
		return "<" + addr + ">"
	}
	enc := mime.QEncoding.Encode("utf-8", display)
	switch {
	case enc == display:
		if strings.ContainsAny(display, `()<>[]:;@\,."`) {
			enc = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(display) + `"`
		}
	case strings.ContainsAny(display, phraseSpecials):
		enc = mime.BEncoding.Encode("utf-8", display)
	}
	return enc + " <" + addr + ">"
}

// fold breaks a header line longer than 78 characters at spaces (RFC 5322
// §2.2.3); a word longer than the line stays whole.
func fold(line string) string {
	if len(line) <= 78 {
		return line
	}
	var b strings.Builder
	col := 0
	for i, word := range strings.Split(line, " ") {
		if i > 0 {
			if col+1+len(word) > 78 {
				b.WriteString("\r\n ")
				col = 1
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// multipart adds a multipart Content-Type with a fresh boundary, which
// createMIME / (*mimeWriter).multipart then use.
func (f *fields) multipart(mediaType string, params map[string]string) {
	if params == nil {
		params = map[string]string{}
	}
	f.boundary = boundary()
	params["boundary"] = f.boundary
	f.raw("Content-Type", mime.FormatMediaType(mediaType, params))
}

// mimeWriter writes a multipart body. It encodes parts itself (base64 in
// 76-character lines, quoted-printable) with buffered writers: go-message's
// line wrapper allocates once per line, 366,000 times for a 10 MB report.
type mimeWriter struct{ mw *textproto.MultipartWriter }

// createMIME writes the header h (which must have been given a multipart
// Content-Type) and returns the writer of its parts.
func createMIME(w io.Writer, h *fields) (*mimeWriter, error) {
	if err := textproto.WriteHeader(w, h.header().Header); err != nil {
		return nil, err
	}
	mw := textproto.NewMultipartWriter(w)
	if err := mw.SetBoundary(h.boundary); err != nil {
		return nil, err
	}
	return &mimeWriter{mw}, nil
}

// multipart starts a nested multipart part.
func (m *mimeWriter) multipart(h *fields) (*mimeWriter, error) {
	pw, err := m.mw.CreatePart(h.header().Header)
	if err != nil {
		return nil, err
	}
	mw := textproto.NewMultipartWriter(pw)
	if err := mw.SetBoundary(h.boundary); err != nil {
		return nil, err
	}
	return &mimeWriter{mw}, nil
}

// Encodings of part bodies.
const (
	encBase64 = "base64"
	encQP     = "quoted-printable"
	enc7bit   = "7bit"
)

// part writes a part header (adding Content-Transfer-Encoding for enc)
// and returns the body writer, which encodes; it must be closed.
func (m *mimeWriter) part(h *fields, enc string) (io.WriteCloser, error) {
	if enc != enc7bit {
		h.raw("Content-Transfer-Encoding", enc)
	}
	pw, err := m.mw.CreatePart(h.header().Header)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(pw, 32<<10)
	switch enc {
	case encBase64:
		lw := &lineWriter{w: bw}
		return &flushCloser{inner: base64.NewEncoder(base64.StdEncoding, lw), bw: bw}, nil
	case encQP:
		return &flushCloser{inner: quotedprintable.NewWriter(bw), bw: bw}, nil
	}
	return &flushCloser{bw: bw}, nil
}

func (m *mimeWriter) Close() error { return m.mw.Close() }

// flushCloser closes the encoder, then flushes the buffer.
type flushCloser struct {
	inner io.WriteCloser
	bw    *bufio.Writer
}

func (f *flushCloser) Write(p []byte) (int, error) {
	if f.inner == nil {
		return f.bw.Write(p)
	}
	return f.inner.Write(p)
}

func (f *flushCloser) Close() error {
	if f.inner != nil {
		if err := f.inner.Close(); err != nil {
			return err
		}
	}
	return f.bw.Flush()
}

var crlf = []byte("\r\n")

// lineWriter breaks its input into lines of 76 characters (RFC 2045
// §6.8).
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n += k
		l.col += k
		p = p[k:]
		if l.col == 76 {
			if _, err := l.w.Write(crlf); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}
