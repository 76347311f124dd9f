// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"bytes"
	"fmt"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// Tolerant reading of the MIME structure (issue 20, "tolerant reading
// that recovers"). Parse holds the whole message in memory, so the header
// blocks and the parts of a multipart are read here as slices of it, with
// no copy: what go-message would reject whole (a header line that is not
// a field, a multipart without boundary or without its close delimiter,
// text after the close delimiter) is read as far as it goes, each defect
// said in Received.Problems and counted for Check (rule MIME). go-message
// still decodes each leaf (transfer encoding, charset).
//
// The problems name line numbers and field names, never the content of a
// line: a header line may carry the patient's name (Subject).

// maxHeaderBytes bounds one header block, as go-message does (1 MiB).
const maxHeaderBytes = 1 << 20

// headerResult is a header block as read by readHeaderBlock.
type headerResult struct {
	header message.Header
	body   []byte   // what follows the header block
	fields int      // fields read
	faults []string // what was tolerated
	// noHeader is set when a line that is neither a field, a
	// continuation nor the blank line comes before any field: there is no
	// header at all, body is b from that line.
	noHeader bool
}

// nextLine returns the line of b starting at i: its content (without the
// line break) and the index after it.
func nextLine(b []byte, i int) (content []byte, next int) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		return b[i:], len(b)
	}
	content = b[i : i+j]
	if n := len(content); n > 0 && content[n-1] == '\r' {
		content = content[:n-1]
	}
	return content, i + j + 1
}

// fieldName returns the length of the field name of line (before its
// colon, trailing blanks allowed as go-message does) and whether it is a
// valid name (RFC 5322 §2.2: printable US-ASCII but the colon); -1 when
// the line has no colon.
func fieldName(line []byte) (colon int, valid bool) {
	colon = bytes.IndexByte(line, ':')
	if colon < 0 {
		return -1, false
	}
	name := bytes.TrimRight(line[:colon], " \t")
	if len(name) == 0 {
		return colon, false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return colon, false
		}
	}
	return colon, true
}

// readHeaderBlock reads the header block at the start of b (RFC 5322
// §2.2, §3.5), tolerating what senders in the field write:
//
//   - an indented first line (a continuation of nothing) is skipped;
//   - a line with a colon but no valid field name (empty, or with a blank
//     or a control character in it) is skipped;
//   - a line without a colon after a field whose value ends with ";" is
//     read as the continuation of that field's parameters, which the
//     sender forgot to indent;
//   - any other line without a colon ends the header: the sender left out
//     the blank line, and that line starts the body. When it is the very
//     first line there is no header at all (noHeader).
//
// Each line break of the fields kept is written CRLF, as go-message's
// reader does. what names the block in the problems ("header" or
// "part 3 header").
func readHeaderBlock(b []byte, what string) (headerResult, error) {
	var r headerResult
	var fields [][]byte // raw fields, CRLF line breaks
	var cur []byte      // the field being read
	flush := func() {
		if cur != nil {
			fields = append(fields, cur)
			cur = nil
		}
	}
	fault := func(format string, args ...any) {
		r.faults = append(r.faults, what+": "+fmt.Sprintf(format, args...))
	}
	i, n := 0, 0
	for i < len(b) {
		if i > maxHeaderBytes {
			return r, fmt.Errorf("%w: %s larger than %d bytes", ErrTooLarge, what, maxHeaderBytes)
		}
		line, next := nextLine(b, i)
		n++
		switch colon, valid := fieldName(line); {
		case len(line) == 0: // the blank line
			flush()
			r.body = b[next:]
			r.header = buildHeader(fields)
			r.fields = len(fields)
			return r, nil
		case line[0] == ' ' || line[0] == '\t':
			if cur == nil {
				fault("line %d is indented but continues no field: skipped", n)
				break
			}
			cur = append(append(cur, line...), '\r', '\n')
		case valid:
			flush()
			cur = append(append(make([]byte, 0, len(line)+2), line...), '\r', '\n')
		case colon >= 0:
			flush()
			fault("line %d has no valid field name before its colon: skipped", n)
		case cur != nil && bytes.HasSuffix(bytes.TrimRight(cur, " \t\r\n"), []byte(";")):
			fault("line %d continues the parameters of %s without being indented: read as its continuation", n, fieldKey(cur))
			cur = append(append(append(cur, ' '), line...), '\r', '\n')
		default:
			flush()
			if len(fields) == 0 {
				r.noHeader = true
				r.body = b[i:]
				return r, nil
			}
			fault("line %d is not a header field: the blank line ending the header is missing, the body starts there", n)
			r.body = b[i:]
			r.header = buildHeader(fields)
			r.fields = len(fields)
			return r, nil
		}
		i = next
	}
	// End of input in the header: a header without a body.
	flush()
	r.header = buildHeader(fields)
	r.fields = len(fields)
	return r, nil
}

// fieldKey is the name of a raw field, as written.
func fieldKey(raw []byte) string {
	colon, _ := fieldName(raw)
	return string(bytes.TrimRight(raw[:colon], " \t"))
}

// buildHeader makes a go-message header of raw fields in message order.
// textproto.Header keeps its fields last first: AddRaw puts a field on
// top, so they are added from the last.
func buildHeader(fields [][]byte) message.Header {
	var h textproto.Header
	for i := len(fields) - 1; i >= 0; i-- {
		h.AddRaw(fields[i])
	}
	return message.Header{Header: h}
}

// multipartScanner gives the body parts of a multipart body one by one
// (RFC 2046 §5.1.1), as slices of it. A line is a delimiter when it is
// "--" boundary, then blanks only; the close delimiter when "--" follows.
// The line break before a delimiter belongs to it. What does not follow
// the rule is read as far as it goes and said in faults:
//
//   - the body ends before the close delimiter: the parts read are kept,
//     the last running to the end of the body (dropped when it holds
//     blanks only: the remains of a lost close delimiter);
//   - a delimiter or close delimiter followed by other text on its line:
//     read as the delimiter;
//   - a close delimiter before any part: no part.
//
// Non-blank text after the close delimiter (the epilogue) is allowed and
// ignored (RFC 2046 §5.1.1); since no reader shows it, it is said in
// notes (Problems, not a defect).
type multipartScanner struct {
	body   []byte
	dash   []byte // "--" boundary
	pos    int    // where the search goes on
	start  int    // start of the current part, -1 before the first delimiter
	done   bool
	faults []string // defects of the structure
	// notes are what is allowed but not shown: text in the epilogue
	// (RFC 2046 §5.1.1 lets it be, and has it ignored).
	notes []string
	what  string // "multipart/mixed", for the faults
	parts int
	// noDelimiter is set when the body has no delimiter line at all.
	noDelimiter bool
}

func newMultipartScanner(body []byte, boundary, what string) *multipartScanner {
	return &multipartScanner{body: body, dash: []byte("--" + boundary), start: -1, what: what}
}

func (s *multipartScanner) fault(format string, args ...any) {
	s.faults = append(s.faults, s.what+": "+fmt.Sprintf(format, args...))
}

// next returns the next body part, false when there is none left.
func (s *multipartScanner) next() ([]byte, bool) {
	for !s.done {
		j := bytes.Index(s.body[s.pos:], s.dash)
		if j < 0 {
			return s.end()
		}
		i := s.pos + j
		s.pos = i + 1
		if i > 0 && s.body[i-1] != '\n' {
			continue // not at the start of a line
		}
		line, next := nextLine(s.body, i)
		rest := line[len(s.dash):]
		closing := bytes.HasPrefix(rest, []byte("--"))
		if closing {
			rest = rest[2:]
		}
		trimmed := bytes.TrimLeft(rest, " \t")
		if len(trimmed) > 0 && !closing && len(trimmed) == len(rest) {
			continue // "--boundaryX": another boundary, or text
		}
		if len(trimmed) > 0 {
			kind := "delimiter"
			if closing {
				kind = "close delimiter"
			}
			s.fault("delimiter line followed by other text: read as the %s", kind)
		}
		var part []byte
		ok := false
		if s.start >= 0 {
			end := i
			if end > s.start && s.body[end-1] == '\n' {
				end--
				if end > s.start && s.body[end-1] == '\r' {
					end--
				}
			}
			part, ok = s.body[s.start:end], true
		}
		s.pos = next
		s.start = next
		if closing {
			s.done = true
			if !ok {
				s.fault("close delimiter before any part: no part")
			}
			if ep := s.body[next:]; len(bytes.TrimSpace(ep)) > 0 {
				s.notes = append(s.notes, fmt.Sprintf("%s: %d bytes of text after the close delimiter (epilogue) ignored", s.what, len(ep)))
			}
		}
		if ok {
			s.parts++
			return part, true
		}
	}
	return nil, false
}

// end is reached when no delimiter is left and the close delimiter was
// not seen.
func (s *multipartScanner) end() ([]byte, bool) {
	s.done = true
	if s.start < 0 {
		s.noDelimiter = true
		return nil, false
	}
	last := s.body[s.start:]
	if len(bytes.TrimSpace(last)) == 0 {
		s.fault("no close delimiter: %d part(s) read, the body ends after the last delimiter", s.parts)
		return nil, false
	}
	s.fault("no close delimiter: %d part(s) read, the last one runs to the end of the body", s.parts+1)
	s.parts++
	return last, true
}
