// SPDX-License-Identifier: Apache-2.0

package cda

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ecdaf744/gomss/ins"
)

// ErrNoBody is returned by Reader.Body when the document has no level-1
// body to decode (structured body, no body, or Body already called).
var ErrNoBody = errors.New("cda: no non-structured body to decode")

// ErrBase64 is wrapped by the error of Reader.Body when a B64 body is not
// valid base64; the error's text gives the offset in the encoded text
// ("cda: body: invalid base64 at encoded byte 4").
var ErrBase64 = errors.New("cda: body: invalid base64")

// bodyKind reads the start of component: structuredBody (level 3, not
// read further) or nonXMLBody up to its <text> start tag.
func (r *Reader) bodyKind(doc *Document) error {
	depth := 0
	for {
		tok, err := r.token()
		if err != nil {
			return r.malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Space != ins.NamespaceHL7 {
				continue
			}
			switch {
			case depth == 1 && t.Name.Local == "structuredBody":
				doc.Level = 3
				return nil
			case depth == 1 && t.Name.Local == "nonXMLBody":
				doc.Level = 1
			case depth == 2 && doc.Level == 1 && t.Name.Local == "text":
				// CDA schema defaults: mediaType text/plain, representation TXT.
				doc.MediaType, doc.Representation = "text/plain", "TXT"
				for _, a := range t.Attr {
					switch {
					case a.Name.Space != "":
					case a.Name.Local == "mediaType":
						doc.MediaType = a.Value
					case a.Name.Local == "representation":
						doc.Representation = a.Value
					}
				}
				r.inText = true
				return nil
			}
		case xml.EndElement:
			depth--
			if depth < 0 {
				return nil // </component> without body
			}
		}
	}
}

// Body decodes the non-structured body of a level-1 document into w and
// returns the number of bytes written. A base64 body (representation B64)
// is decoded as it is read, without holding it: the raw text is taken from
// the input between <text> and </text>, whitespace, comments and CDATA
// sections tolerated. A TXT body, or any body of an ISO-8859-1 document, is
// read through the XML decoder (entities resolved) and so held once.
// Body may be called once, after Header (it calls Header itself if needed).
func (r *Reader) Body(w io.Writer) (int64, error) {
	doc, err := r.Header()
	if err != nil {
		return 0, err
	}
	if doc.Level != 1 || !r.inText || r.bodyDone {
		return 0, ErrNoBody
	}
	r.bodyDone = true
	b64 := strings.EqualFold(doc.Representation, "B64")
	if r.latin1 || !b64 {
		var text []byte
		for {
			tok, err := r.dec.Token()
			if err != nil {
				return 0, r.malformed(err)
			}
			if cd, ok := tok.(xml.CharData); ok {
				text = append(text, cd...)
				continue
			}
			if _, ok := tok.(xml.EndElement); ok {
				break
			}
		}
		if !b64 {
			n, err := w.Write(text)
			return int64(n), err
		}
		n, err := io.Copy(w, base64.NewDecoder(base64.StdEncoding, &rawText{src: bytes.NewReader(text), plain: true}))
		return n, base64Error(err)
	}
	n, err := io.Copy(w, base64.NewDecoder(base64.StdEncoding, &rawText{src: r.br}))
	return n, base64Error(err)
}

// base64Error wraps a base64 decoding error in ErrBase64, with its offset.
func base64Error(err error) error {
	var ce base64.CorruptInputError
	if errors.As(err, &ce) {
		return fmt.Errorf("%w at encoded byte %d", ErrBase64, int64(ce))
	}
	return err
}

type byteReader interface {
	io.Reader
	io.ByteReader
	UnreadByte() error
}

// rawText reads the raw character content of <text> from src up to its end
// tag, dropping XML whitespace, comments and CDATA markers, so that only
// base64 characters reach the decoder. plain input has no markup at all.
type rawText struct {
	src   byteReader
	plain bool
	cdata bool
	end   bool
}

// b64 marks the bytes of the base64 alphabet.
var b64 = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()

// peeker is the buffered source that allows copying runs of base64 bytes
// without a call per byte (bufio.Reader).
type peeker interface {
	Peek(int) ([]byte, error)
	Discard(int) (int, error)
	Buffered() int
}

func (t *rawText) Read(p []byte) (int, error) {
	n := 0
	pk, fast := t.src.(peeker)
	for n < len(p) && !t.end {
		if fast {
			if pk.Buffered() == 0 {
				pk.Peek(1) // refill; an error surfaces through ReadByte below
			}
			buf, _ := pk.Peek(pk.Buffered())
			k := 0
			for k < len(buf) && n < len(p) && b64[buf[k]] {
				p[n] = buf[k]
				n++
				k++
			}
			pk.Discard(k)
			if k > 0 {
				continue
			}
		}
		c, err := t.src.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if t.plain {
					t.end = true
					break
				}
				return n, fmt.Errorf("%w: the input ends inside nonXMLBody/text", ErrMalformed)
			}
			return n, err
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case t.cdata && c == ']':
			if err := t.expect("]>"); err != nil {
				return n, err
			}
			t.cdata = false
		case t.plain || t.cdata:
			p[n] = c
			n++
		case c == '<':
			if err := t.markup(); err != nil {
				return n, err
			}
		case c == '&':
			if err := t.charRef(); err != nil {
				return n, err
			}
		default:
			p[n] = c
			n++
		}
	}
	if n == 0 && t.end {
		return 0, io.EOF
	}
	return n, nil
}

func (t *rawText) expect(s string) error {
	for i := 0; i < len(s); i++ {
		c, err := t.src.ReadByte()
		if err != nil || c != s[i] {
			return fmt.Errorf("%w: unexpected markup in nonXMLBody/text", ErrMalformed)
		}
	}
	return nil
}

// markup handles what follows '<': the end tag, a comment or a CDATA
// section.
func (t *rawText) markup() error {
	c, err := t.src.ReadByte()
	if err != nil {
		return fmt.Errorf("%w: the input ends inside nonXMLBody/text", ErrMalformed)
	}
	switch c {
	case '/':
		var name []byte
		for {
			c, err := t.src.ReadByte()
			if err != nil {
				return fmt.Errorf("%w: the input ends inside an end tag", ErrMalformed)
			}
			if c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				break
			}
			name = append(name, c)
			if len(name) > 64 {
				break
			}
		}
		local := string(name)
		if i := strings.IndexByte(local, ':'); i >= 0 {
			local = local[i+1:]
		}
		// </text> ends the body; </nonXMLBody> means <text/> was empty.
		if local != "text" && local != "nonXMLBody" {
			return fmt.Errorf("%w: unexpected end tag </%s> in nonXMLBody/text", ErrMalformed, name)
		}
		t.end = true
		return nil
	case '!':
		b := make([]byte, 2)
		if _, err := io.ReadFull(t.src, b); err != nil {
			return fmt.Errorf("%w: the input ends inside nonXMLBody/text", ErrMalformed)
		}
		if string(b) == "--" {
			return t.skipComment()
		}
		if string(b) == "[C" {
			if err := t.expect("DATA["); err != nil {
				return err
			}
			t.cdata = true
			return nil
		}
	}
	return fmt.Errorf("%w: unexpected markup in nonXMLBody/text", ErrMalformed)
}

func (t *rawText) skipComment() error {
	dashes := 0
	for {
		c, err := t.src.ReadByte()
		if err != nil {
			return fmt.Errorf("%w: the input ends inside a comment", ErrMalformed)
		}
		switch {
		case c == '-':
			dashes++
		case c == '>' && dashes >= 2:
			return nil
		default:
			dashes = 0
		}
	}
}

// charRef accepts character references to whitespace (&#10; &#xD; …),
// which some producers use for line breaks; anything else cannot be base64.
func (t *rawText) charRef() error {
	var ref []byte
	for len(ref) < 8 {
		c, err := t.src.ReadByte()
		if err != nil {
			break
		}
		if c == ';' {
			switch strings.ToLower(string(ref)) {
			case "#10", "#13", "#9", "#32", "#xa", "#xd", "#x9", "#x20", "#x0a", "#x0d", "#x09":
				return nil
			}
			break
		}
		ref = append(ref, c)
	}
	return fmt.Errorf("%w: entity &%s in a base64 body", ErrMalformed, ref)
}
