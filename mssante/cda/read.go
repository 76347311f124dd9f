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

// ErrLimit is wrapped by the error of Header when the part of the input
// read before the body goes past ReadOptions' MaxDepth, MaxElements or
// MaxHeaderBytes: a hostile document (deeply nested, or a header of
// millions of elements) is refused before it costs memory in proportion to
// its size.
var ErrLimit = errors.New("cda: document beyond the reader's limits")

// Default limits of the header reader, used when the ReadOptions field is
// 0. A CI-SIS header is some tens of kilobytes, a few hundred elements,
// nested about ten deep; the defaults leave room for large headers and for
// the XSLT stylesheet of a self-presenting document, which is read before
// the ClinicalDocument.
const (
	DefaultMaxDepth       = 100
	DefaultMaxElements    = 100_000
	DefaultMaxHeaderBytes = 16 << 20
)

// ReadOptions tune the reader. The zero value is ready to use.
type ReadOptions struct {
	// Location is the zone of time stamps written without UTC offset
	// (time.Local when nil).
	Location *time.Location
	// MaxDepth is the deepest element nesting read before the body,
	// counted from the document's root element (DefaultMaxDepth when 0).
	MaxDepth int
	// MaxElements is the largest number of elements read before the body,
	// foreign and skipped ones included (DefaultMaxElements when 0).
	MaxElements int
	// MaxHeaderBytes is the largest number of bytes read from the input
	// before the body starts (DefaultMaxHeaderBytes when 0). The reader
	// reads ahead by up to 64 KiB, so a header that ends that close to the
	// limit may be refused. The body itself is not bounded here: Body
	// streams it (its size is the caller's, e.g. xdm.Limits).
	MaxHeaderBytes int64
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
	// src counts the bytes read before the body; depth and elements count
	// the elements the header reader has seen (see ReadOptions).
	src      *headerLimit
	depth    int
	elements int
}

// headerLimit reads from r and fails once more than max bytes have been
// read, until lifted (when the header is read, so that Body streams).
type headerLimit struct {
	r      io.Reader
	n, max int64
	lifted bool
}

func (h *headerLimit) Read(p []byte) (int, error) {
	if h.lifted {
		return h.r.Read(p)
	}
	if h.n >= h.max {
		return 0, fmt.Errorf("%w: more than %d bytes before the body", ErrLimit, h.max)
	}
	if rest := h.max - h.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	return n, err
}

// token returns the decoder's next token, counting elements and nesting
// against the limits. Every token read before the body goes through it.
func (r *Reader) token() (xml.Token, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		r.depth++
		r.elements++
		if r.depth > r.opts.MaxDepth {
			return nil, fmt.Errorf("%w: elements nested more than %d deep", ErrLimit, r.opts.MaxDepth)
		}
		if r.elements > r.opts.MaxElements {
			return nil, fmt.Errorf("%w: more than %d elements before the body", ErrLimit, r.opts.MaxElements)
		}
	case xml.EndElement:
		r.depth--
	}
	return tok, nil
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
	rd := &Reader{}
	if opts != nil {
		rd.opts = *opts
	}
	if rd.opts.MaxDepth <= 0 {
		rd.opts.MaxDepth = DefaultMaxDepth
	}
	if rd.opts.MaxElements <= 0 {
		rd.opts.MaxElements = DefaultMaxElements
	}
	if rd.opts.MaxHeaderBytes <= 0 {
		rd.opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	rd.src = &headerLimit{r: r, max: rd.opts.MaxHeaderBytes}
	rd.br = bufio.NewReaderSize(rd.src, 64<<10)
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
// Header.Validate to check the rules). Only the header is built in memory,
// within the limits of ReadOptions; nothing of the body is read past its
// first element. The error is ErrNotCDA, ErrMalformed (with the byte
// offset), ErrLimit or an I/O error; a recordTarget that cannot be read is
// reported in Document.PatientErr instead.
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
	r.src.lifted = true
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
	if errors.Is(err, ErrLimit) || strings.HasPrefix(err.Error(), "cda:") {
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
		tok, err := r.token()
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
		tok, err := r.token()
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
