// SPDX-License-Identifier: Apache-2.0

package cda

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/ecdaf744/gomss/ins"
)

// ErrNotCDA is returned when the input is not a CDA R2 ClinicalDocument.
var ErrNotCDA = errors.New("cda: not a CDA R2 ClinicalDocument")

// ErrMalformed wraps XML syntax errors of the input.
var ErrMalformed = errors.New("cda: malformed XML")

// Document is what the reader found: the header, the patient as the
// recordTarget describes it, and what the body is.
type Document struct {
	Header Header
	// Patient is the recordTarget as read by ins.ReadRecordTarget. Header.
	// Patient points to its Identity, whose Status is empty: a received INS
	// is not qualified until the receiver's identitovigilance says so, so it
	// cannot be re-emitted by accident.
	Patient *ins.Patient
	// PatientErr is the error ins.ReadRecordTarget returned (an invalid INS
	// key, for instance); the rest of the header is still read.
	PatientErr error
	// Level is 1 for a nonXMLBody, 3 for a structuredBody, 0 when the
	// document has no body.
	Level int
	// MediaType and Representation are those of nonXMLBody/text.
	MediaType      string
	Representation string
	// Tolerated lists what the reader accepted although CI-SIS forbids it
	// (Validate tells whether the ANS rules are met).
	Tolerated []string

	// tree is the header as read (HL7 elements before the body), which
	// Validate judges.
	tree *etree.Element
}

// ReadOptions tune the reader. The zero value is ready to use.
type ReadOptions struct {
	// Location is the zone of time stamps written without UTC offset
	// (time.Local when nil).
	Location *time.Location
}

// Reader reads a CDA document in one pass: Header stops at the body, Body
// then streams the decoded content of a level-1 document. Nothing of the
// body is decoded or held unless Body is called, so headers of documents
// of tens of megabytes are read in microseconds.
type Reader struct {
	br   *bufio.Reader
	dec  *xml.Decoder
	opts ReadOptions
	doc  *Document
	// component is set when the header tree stopped at <component>.
	component bool
	// latin1 is set when the input declared ISO-8859-1: the decoder then
	// reads through a converting reader and the body is read through it.
	latin1 bool
	// inText is set when the decoder has just returned <text> of a
	// nonXMLBody: its content follows in br (UTF-8 input).
	inText   bool
	bodyDone bool
	wrapped  string // tolerance note when the document is embedded
	// rootAttrs are the attributes of the ClinicalDocument start tag.
	rootAttrs []xml.Attr
}

// copyAttrs copies to the tree the attributes without namespace (not the
// namespace declarations), and those of XML Schema instance (xsi:type) with
// an xsi: prefix.
func copyAttrs(el *etree.Element, attrs []xml.Attr) {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local != "xmlns" {
			el.CreateAttr(a.Name.Local, a.Value)
		} else if a.Name.Space == "http://www.w3.org/2001/XMLSchema-instance" {
			el.CreateAttr("xsi:"+a.Name.Local, a.Value)
		}
	}
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader, opts *ReadOptions) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10)}
	if opts != nil {
		rd.opts = *opts
	}
	rd.dec = xml.NewDecoder(rd.br)
	rd.dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		out, err := charsetReader(label, in)
		if _, conv := out.(*latin1Reader); conv {
			rd.latin1 = true
		}
		return out, err
	}
	rd.dec.Strict = true
	return rd
}

// ReadHeader reads the header of the CDA document in r (see Reader.Header).
func ReadHeader(r io.Reader, opts *ReadOptions) (*Document, error) {
	return NewReader(r, opts).Header()
}

// charsetReader accepts the encodings CDA documents are seen in: UTF-8
// (the CI-SIS rule), US-ASCII and ISO-8859-1. encoding/xml never expands
// entities declared in a DTD: an undeclared entity is an error.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return &latin1Reader{r: bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("cda: unsupported encoding %q (CI-SIS documents are UTF-8)", label)
}

type latin1Reader struct {
	r   *bufio.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.buf) < len(p) {
		b, err := l.r.ReadByte()
		if err != nil {
			if len(l.buf) > 0 {
				break
			}
			return 0, err
		}
		l.buf = append(l.buf, string(rune(b))...)
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

// Header reads up to the body and returns the header. Elements outside the
// CDA namespace are ignored; missing elements leave zero values (use
// Header.Validate to check the rules). The error is ErrNotCDA, ErrMalformed
// (with the byte offset) or an I/O error; a recordTarget that cannot be
// read is reported in Document.PatientErr instead.
func (r *Reader) Header() (*Document, error) {
	if r.doc != nil {
		return r.doc, nil
	}
	root, err := r.readHeaderTree()
	if err != nil {
		return nil, err
	}
	doc := &Document{}
	if r.component {
		if err := r.bodyKind(doc); err != nil {
			return nil, err
		}
	}
	if r.wrapped != "" {
		doc.Tolerated = append(doc.Tolerated, r.wrapped)
	}
	parseHeader(doc, root, &r.opts)
	doc.tree = root
	r.doc = doc
	return doc, nil
}

func (r *Reader) malformed(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: line %d: %s", ErrMalformed, se.Line, se.Msg)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: unexpected end of input at byte %d", ErrMalformed, r.dec.InputOffset())
	}
	if strings.HasPrefix(err.Error(), "cda:") {
		return err
	}
	return fmt.Errorf("%w: at byte %d: %w", ErrMalformed, r.dec.InputOffset(), err)
}

// readHeaderTree builds an element tree of the ClinicalDocument's header
// (every child before component), in the HL7 namespace only.
func (r *Reader) readHeaderTree() (*etree.Element, error) {
	// Find the ClinicalDocument: the root element, or an element inside
	// another root (self-presenting documents wrap it in an XSLT stylesheet).
	var first *xml.Name
	for {
		tok, err := r.dec.Token()
		if err != nil {
			if first != nil && errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: root element is {%s}%s", ErrNotCDA, first.Space, first.Local)
			}
			return nil, r.malformed(err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local == "ClinicalDocument" && se.Name.Space == ins.NamespaceHL7 {
			r.rootAttrs = se.Attr
			if first != nil {
				r.wrapped = fmt.Sprintf("the ClinicalDocument is inside a {%s}%s element", first.Space, first.Local)
			}
			break
		}
		if first == nil {
			if se.Name.Local == "ClinicalDocument" {
				return nil, fmt.Errorf("%w: ClinicalDocument in namespace %q, want %s", ErrNotCDA, se.Name.Space, ins.NamespaceHL7)
			}
			n := se.Name
			first = &n
		}
	}
	root := etree.NewElement("ClinicalDocument")
	copyAttrs(root, r.rootAttrs)
	cur := root
	depth := 0 // depth below root; skip > 0 while inside a foreign element
	skip := 0
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, r.malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 {
				skip++
				continue
			}
			if t.Name.Space != ins.NamespaceHL7 {
				skip = 1
				continue
			}
			if depth == 0 && t.Name.Local == "component" {
				r.component = true
				return root, nil
			}
			el := cur.CreateElement(t.Name.Local)
			copyAttrs(el, t.Attr)
			cur = el
			depth++
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			if depth == 0 {
				return root, nil // </ClinicalDocument>: no body
			}
			cur = cur.Parent()
			depth--
		case xml.CharData:
			if skip == 0 && depth > 0 {
				cur.CreateText(string(t))
			}
		}
	}
}
