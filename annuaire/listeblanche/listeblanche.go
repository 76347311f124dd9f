// SPDX-License-Identifier: Apache-2.0

package listeblanche

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/annuaire"
)

// Namespace is the XML namespace of the liste blanche.
const Namespace = "https://listeblanche.mssante.fr/schema"

// URL is where the ANS publishes the liste blanche (served over
// TLS chained to IGC-Santé, not to a public root).
const URL = "https://espacedeconfiance.mssante.fr/listeblanchemssante.xml"

// Sentinel errors: every error of Read and Parse wraps one of them.
var (
	// ErrChecksum: the liste blanche does not match its published SHA-256.
	ErrChecksum = errors.New("listeblanche: checksum mismatch")
	// ErrFormat: the input is not a readable liste blanche.
	ErrFormat = errors.New("listeblanche: unreadable liste blanche")
	// ErrLimit: the input goes past one of the reader's Limits (size,
	// nesting depth, number of elements and attributes) or holds an XML
	// token over 1 MiB; it is refused before it costs memory in proportion
	// to what it holds.
	ErrLimit = errors.New("listeblanche: liste blanche beyond the reader's limits")
)

var _ annuaire.TrustList = (*List)(nil)

// Default limits of the reader, used when a Limits field is 0. The
// published file of 2025-03 is 340 KB: 619 entries of about 550 bytes and
// 7 elements each, nested 4 deep (ListeBlancheMSSante, ListeDomaines,
// Domaine, Nom), one attribute (the root's xmlns); a 2026 count gives
// 8,655 entries, about 4.8 MB and 61,000 elements at that size. The
// defaults leave room for three times that size and eight times that
// number of elements, and for elements the schema does not have. Within
// them, the worst input found costs 150 to 200 MB of allocations to refuse
// or read (see the package documentation).
const (
	DefaultMaxSize     = 16 << 20
	DefaultMaxDepth    = 32
	DefaultMaxElements = 500_000
)

// maxToken bounds the bytes the XML decoder reads for one token: a tag
// with its attributes, the text between two tags, a comment. The decoder
// may read one byte past a token (the "<" that ends a text), so a token is
// at most maxToken-1 bytes. A real token is a few hundred bytes; the
// decoder builds a token whole, spending about 50 times the size of a tag
// of many attributes on it, so one is stopped at 1 MiB, before it is built.
const maxToken = 1 << 20

// Limits bound what the reader accepts; past one, reading fails with an
// error wrapping ErrLimit. Zero fields take the defaults, so the zero value
// (or a nil *Limits) is ready to use.
type Limits struct {
	// MaxSize is the largest input read, in bytes (DefaultMaxSize when 0).
	// The input is read, up to MaxSize+1 bytes, before it is parsed: a
	// larger one is refused for the cost of those bytes, not of parsing
	// them.
	MaxSize int64
	// MaxDepth is the deepest element nesting, the root element being at
	// depth 1 (DefaultMaxDepth when 0).
	MaxDepth int
	// MaxElements is the largest number of elements and attributes
	// together, those outside the list that are skipped included
	// (DefaultMaxElements when 0).
	MaxElements int
}

func (l *Limits) withDefaults() Limits {
	var out Limits
	if l != nil {
		out = *l
	}
	if out.MaxSize <= 0 {
		out.MaxSize = DefaultMaxSize
	}
	if out.MaxDepth <= 0 {
		out.MaxDepth = DefaultMaxDepth
	}
	if out.MaxElements <= 0 {
		out.MaxElements = DefaultMaxElements
	}
	return out
}

// Domain is one entry of the liste blanche: a mail domain of the MSSanté
// trust space and the operator certificate allowed to serve it.
type Domain struct {
	// Name is the domain as published (it may hold Unicode characters).
	Name string
	// ASCII is the comparable form (lower case, IDNA A-labels): see DomainASCII.
	ASCII              string
	Description        string
	OperatorDN         string // DNCertificatOperateur
	ResponsibleContact string // ResponsableContact
	SupportContact     string
	Updated            time.Time // DateMAJ (zero when absent or unreadable)
}

// List is the liste blanche: the domains of the MSSanté trust space. A
// domain appears once per operator certificate, so Domains may hold a name
// several times (619 entries for 516 names in the 2025-03 file). A *List
// is a Resolver's Trust source (annuaire.TrustList).
type List struct {
	// Generated is DateDeGeneration.
	Generated time.Time
	// Domains are the entries in file order.
	Domains []Domain
	// SHA256 is the SHA-256 of the bytes read.
	SHA256 [32]byte
	// Tolerated lists what was accepted outside the schema, such as the
	// missing closing root tag of every published version.
	Tolerated []string

	byName map[string][]int
}

// Read reads a liste blanche and verifies it against its
// published checksum, the hexadecimal SHA-256 of the file (the ANS GitHub
// copy's "checksum" file: 64 characters, no newline; surrounding spaces and
// upper case are accepted). A mismatch fails with ErrChecksum and no list.
// Read applies the default Limits (see ReadWithLimits).
func Read(r io.Reader, checksum string) (*List, error) {
	return ReadWithLimits(r, checksum, nil)
}

// ReadWithLimits is Read within limits (nil: the defaults).
func ReadWithLimits(r io.Reader, checksum string, limits *Limits) (*List, error) {
	want, err := hex.DecodeString(strings.TrimSpace(checksum))
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("%w: checksum %q is not a hexadecimal SHA-256 (64 characters)", ErrChecksum, clip(checksum))
	}
	lb, err := ParseWithLimits(r, limits)
	if err != nil {
		return nil, err
	}
	if string(lb.SHA256[:]) != string(want) {
		return nil, fmt.Errorf("%w: file SHA-256 %x, published %x", ErrChecksum, lb.SHA256, want)
	}
	return lb, nil
}

// Parse reads a liste blanche without checking a checksum
// (SHA256 is still computed). Reading is tolerant of the published file's
// quirks — missing closing root tag, duplicate names, upper case — and
// records them in Tolerated; it fails with ErrFormat on a wrong root
// element or namespace, an entry without Nom, or broken XML elsewhere.
//
// The domains are those of the first <ListeDomaines>. Whatever follows its
// closing tag inside the root element — other elements (a second
// <ListeDomaines> included, whose entries are not read) and text — and any
// text after the root element is ignored and named in Tolerated: a domain
// published outside the list is not trusted, and the caller can see that
// something was left out. An element after the root element is broken XML.
//
// Parse applies the default Limits (see ParseWithLimits).
func Parse(r io.Reader) (*List, error) {
	return ParseWithLimits(r, nil)
}

// ParseWithLimits is Parse within limits (nil: the defaults). The input is
// read whole (at most MaxSize+1 bytes) before it is parsed, so a file too
// large costs MaxSize bytes of memory and is not parsed; while parsing,
// an element nested deeper than MaxDepth, one more element or attribute
// than MaxElements, or a token (tag, text, comment) over 1 MiB stops the
// reading at once. Each fails with an error wrapping ErrLimit and no list.
func ParseWithLimits(r io.Reader, limits *Limits) (*List, error) {
	lim := limits.withDefaults()
	h := sha256.New()
	src, err := readLimited(r, lim.MaxSize, h)
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(src) // an io.ByteReader: read as is, without a bufio.Reader
	dec.Strict = true
	depth, elements := 0, 0
	lb := &List{byName: make(map[string][]int)}
	fail := func(format string, args ...any) (*List, error) {
		return nil, fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	var path []string
	var cur *Domain
	var text strings.Builder
	sawList := false // the first </ListeDomaines> was read
	rootSeen := false
	repeats := 0
	// What follows </ListeDomaines>, for Tolerated: the first few items
	// (an element's name or a text) and how many more.
	var after []string
	afterMore := 0
	ignore := func(item string) {
		if len(after) < 5 {
			after = append(after, item)
		} else {
			afterMore++
		}
	}
	for {
		src.start = dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			if len(path) != 0 {
				return fail("unexpected end of file inside %s", strings.Join(path, "/"))
			}
			break
		}
		if err == errToken {
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("%w: line %d: an XML token (tag, text or comment) longer than %d bytes", ErrLimit, line, maxToken-1)
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) && len(path) == 1 && sawList && strings.Contains(se.Msg, "unexpected EOF") {
				lb.Tolerated = append(lb.Tolerated, "closing tag </ListeBlancheMSSante> missing at end of file")
				break
			}
			line, _ := dec.InputPos()
			return fail("line %d: %v", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			elements += 1 + len(t.Attr)
			if depth > lim.MaxDepth {
				line, _ := dec.InputPos()
				return nil, fmt.Errorf("%w: line %d: elements nested more than %d deep", ErrLimit, line, lim.MaxDepth)
			}
			if elements > lim.MaxElements {
				line, _ := dec.InputPos()
				return nil, fmt.Errorf("%w: line %d: more than %d elements and attributes", ErrLimit, line, lim.MaxElements)
			}
			switch {
			case len(path) == 0 && rootSeen:
				return fail("element <%s> after the root element", t.Name.Local)
			case sawList && len(path) == 1:
				// After the list, beside it: skipped as a whole (no
				// Domaine is read once the list is closed).
				ignore("<" + t.Name.Local + ">")
			case len(path) == 0:
				rootSeen = true
				if t.Name.Local != "ListeBlancheMSSante" {
					return fail("root element <%s>, want <ListeBlancheMSSante>", t.Name.Local)
				}
				if t.Name.Space != Namespace {
					if t.Name.Space != "" {
						return fail("namespace %q, want %q", t.Name.Space, Namespace)
					}
					lb.Tolerated = append(lb.Tolerated, "no namespace on the root element")
				}
			}
			path = append(path, t.Name.Local)
			text.Reset()
			if len(path) == 3 && t.Name.Local == "Domaine" && path[1] == "ListeDomaines" && !sawList {
				cur = &Domain{}
			}
		case xml.CharData:
			if len(path) >= 2 {
				text.Write(t)
			} else if v := strings.TrimSpace(string(t)); sawList && v != "" {
				ignore(fmt.Sprintf("text %q", clip(v)))
			}
		case xml.EndElement:
			depth--
			v := strings.TrimSpace(text.String())
			switch {
			case sawList:
				// After the list (the root's own end tag, or what was
				// named in Tolerated when it began): nothing to read.
			case len(path) == 2 && t.Name.Local == "DateDeGeneration":
				ts, err := time.Parse(time.RFC3339, v)
				if err != nil {
					lb.Tolerated = append(lb.Tolerated, fmt.Sprintf("DateDeGeneration %q is not RFC 3339", clip(v)))
				}
				lb.Generated = ts
			case len(path) == 2 && t.Name.Local == "ListeDomaines":
				sawList = true
			case len(path) == 4 && cur != nil:
				switch t.Name.Local {
				case "Nom":
					cur.Name = v
				case "Description":
					cur.Description = v
				case "DNCertificatOperateur":
					cur.OperatorDN = v
				case "ResponsableContact":
					cur.ResponsibleContact = v
				case "SupportContact":
					cur.SupportContact = v
				case "DateMAJ":
					ts, err := time.Parse(time.RFC3339, v)
					if err != nil && v != "" {
						lb.Tolerated = append(lb.Tolerated, fmt.Sprintf("entry %d: DateMAJ %q is not RFC 3339", len(lb.Domains)+1, clip(v)))
					}
					cur.Updated = ts
				}
			case len(path) == 3 && cur != nil:
				n := len(lb.Domains) + 1
				if cur.Name == "" {
					line, _ := dec.InputPos()
					return fail("entry %d (line %d): no <Nom>", n, line)
				}
				a, err := DomainASCII(cur.Name)
				if err != nil {
					lb.Tolerated = append(lb.Tolerated, fmt.Sprintf("entry %d: domain %q skipped: %v", n, clip(cur.Name), err))
					cur = nil
					break
				}
				cur.ASCII = a
				if _, dup := lb.byName[a]; dup {
					repeats++
				}
				lb.byName[a] = append(lb.byName[a], len(lb.Domains))
				lb.Domains = append(lb.Domains, *cur)
				cur = nil
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if !sawList {
		return fail("no <ListeDomaines>")
	}
	if len(after) > 0 {
		more := ""
		if afterMore > 0 {
			more = fmt.Sprintf(" and %d more", afterMore)
		}
		lb.Tolerated = append(lb.Tolerated, fmt.Sprintf("content after </ListeDomaines> ignored: %s%s", strings.Join(after, ", "), more))
	}
	if repeats > 0 {
		lb.Tolerated = append(lb.Tolerated, fmt.Sprintf("%d entries repeat a domain already listed (one entry per operator certificate)", repeats))
	}
	copy(lb.SHA256[:], h.Sum(nil))
	return lb, nil
}

// readLimited reads r whole, at most max bytes, writing what it reads to
// h, and returns a source of it for the decoder. A reader announcing its
// length (Len, as bytes.Reader and strings.Reader do) longer than max is
// refused before anything is read; any other is read through a LimitReader
// of max+1 bytes, in chunks kept as read (never joined nor copied again),
// and refused once past max, before anything is parsed.
func readLimited(r io.Reader, max int64, h io.Writer) (*source, error) {
	next := int64(64 << 10)
	if l, ok := r.(interface{ Len() int }); ok {
		if n := int64(l.Len()); n > max {
			return nil, fmt.Errorf("%w: %d bytes, larger than %d", ErrLimit, n, max)
		} else if n > 0 {
			next = n + 1 // one chunk, and one byte to see the end
		}
	}
	lr := io.LimitReader(r, max+1)
	src := &source{max: maxToken}
	var total int64
	for {
		c := make([]byte, min(next, max+1-total))
		n, err := io.ReadFull(lr, c)
		total += int64(n)
		if n > 0 {
			h.Write(c[:n])
			src.chunks = append(src.chunks, c[:n])
		}
		if total > max {
			return nil, fmt.Errorf("%w: larger than %d bytes", ErrLimit, max)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return src, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading: %w", ErrFormat, err)
		}
		next = min(2*next, 4<<20)
	}
}

// errToken is returned by source past its max: the decoder returns it as
// is, and ParseWithLimits turns it into an ErrLimit error naming the line.
var errToken = errors.New("listeblanche: token too long")

// source is the input read by readLimited, as the decoder reads it: byte
// by byte (an io.ByteReader, which the decoder does not buffer), so that
// it knows how far the decoder went. It refuses to give more than max
// bytes past start, the decoder's offset when the current token began.
type source struct {
	chunks     [][]byte
	pos        int64 // bytes given
	start, max int64
}

func (s *source) ReadByte() (byte, error) {
	if s.pos-s.start >= s.max {
		return 0, errToken
	}
	for len(s.chunks) > 0 && len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	b := s.chunks[0][0]
	s.chunks[0] = s.chunks[0][1:]
	s.pos++
	return b, nil
}

// Read is there for io.Reader; the decoder calls ReadByte.
func (s *source) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		b, err := s.ReadByte()
		if err != nil {
			if n > 0 && err == io.EOF {
				return n, nil
			}
			return n, err
		}
		p[n] = b
		n++
	}
	return n, nil
}

// Len returns the number of distinct domain names.
func (lb *List) Len() int { return len(lb.byName) }

// Contains reports whether domain is in the trust space: equal, ignoring
// case and in IDNA form, to a listed name. Sub-domains of a listed name are
// not in the trust space unless listed themselves.
func (lb *List) Contains(domain string) bool {
	return len(lb.Lookup(domain)) > 0
}

// Lookup returns the entries of a domain (one per operator certificate).
func (lb *List) Lookup(domain string) []Domain {
	if lb == nil {
		return nil
	}
	a, err := DomainASCII(domain)
	if err != nil {
		return nil
	}
	var out []Domain
	for _, i := range lb.byName[a] {
		out = append(out, lb.Domains[i])
	}
	return out
}

// Trusted reports whether addrOrDomain belongs to the trust space. It takes
// an address or a bare domain: a domain is trusted when it is listed (as
// Contains says: ignoring case, in IDNA form, no sub-domain), an address
// when its domain is. Anything holding an "@" is read as an address and
// must be one (see SplitAddress): "a@b@c.mssante.fr", "@medecin.mssante.fr"
// or an address with spaces is not trusted.
func (lb *List) Trusted(addrOrDomain string) bool {
	if !strings.Contains(addrOrDomain, "@") {
		return lb.Contains(addrOrDomain)
	}
	_, d, err := annuaire.SplitAddress(addrOrDomain)
	return err == nil && lb.Contains(d)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
