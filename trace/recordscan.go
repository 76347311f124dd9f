// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"time"
)

// The fast reading of a record line (issue 20 point 10). Verify must
// refuse every line that is not a record of the schema: encoding/json
// with DisallowUnknownFields decoding the line into a recordLine is the
// definition of that (checkRecordSlow). Decoding each record into an
// Event that nobody looks at was 60–70 % of Verify's time, so the lines
// are first read by scanRecord, which accepts only a subset of what the
// decoder accepts: the form FileLog writes (json.Marshal of a
// recordLine: the keys with their exact names, in the order of the
// struct fields, each at most once, no white space, no null, the line
// ending with the closing brace), every value checked against the JSON
// grammar and the type of its field. Whatever scanRecord does not
// accept goes to the decoder, so that the lines Verify refuses and the
// reasons it gives are the decoder's. For a line it accepts, the sequence
// number, the chain hash and the event's UTC time are those the decoder
// gives (FuzzScanRecord checks both points).

// fieldKind is the JSON type of a field and how it is checked.
type fieldKind uint8

const (
	kString  fieldKind = iota // a JSON string (any content the decoder accepts)
	kASCII                    // a JSON string of printable ASCII without escapes: its bytes are its value
	kTime                     // a time.Time: a JSON string that time.Time.UnmarshalJSON accepts
	kBool                     // true or false
	kInt                      // an int64 without fraction or exponent
	kStrings                  // an array of JSON strings
	kObject                   // an object of the fields in obj
)

// outField names a value scanRecord returns.
type outField uint8

const (
	outNone outField = iota
	outSeq
	outPrev
	outUTC
)

// schemaField is one field of an object, as json.Marshal writes it.
type schemaField struct {
	key  string
	kind fieldKind
	obj  []schemaField
	out  outField
}

// The schema of recordLine, its fields in struct order (the JSON tags of
// Event, Actor, Mailbox, Request and Response; TestScanRecordSchema fills
// every field of an Event by reflection and checks that its line is
// read here, so that a field added to Event without being added here is
// caught).
var (
	actorSchema = []schemaField{{key: "id"}, {key: "idType"}, {key: "name"}, {key: "auth"}}
	eventSchema = []schemaField{
		{key: "id"},
		{key: "time", kind: kTime},
		{key: "utc", kind: kTime, out: outUTC},
		{key: "actor", kind: kObject, obj: actorSchema},
		{key: "onBehalfOf", kind: kObject, obj: actorSchema},
		{key: "mailbox", kind: kObject, obj: []schemaField{{key: "address"}, {key: "kind"}}},
		{key: "action"},
		{key: "request", kind: kObject, obj: []schemaField{{key: "server"}, {key: "command"}, {key: "params", kind: kStrings}}},
		{key: "response", kind: kObject, obj: []schemaField{{key: "ok", kind: kBool}, {key: "code"}, {key: "text"}}},
		{key: "messageId"},
		{key: "correlation"},
		{key: "software"},
	}
	recordSchema = []schemaField{
		{key: "seq", kind: kInt, out: outSeq},
		{key: "prev", kind: kASCII, out: outPrev},
		{key: "event", kind: kObject, obj: eventSchema},
	}
)

// scannedRecord is what scanRecord returns: prev points into the line.
type scannedRecord struct {
	seq  int64
	prev []byte
	utc  time.Time
	// seen counts the fields of recordSchema present: all three are
	// required (a line without its event is not a record).
	seen int
}

// scanRecord reads line as a record in the form FileLog writes it. ok
// false means only that the line is not in that form: the decoder must
// then decide.
func scanRecord(line []byte) (r scannedRecord, ok bool) {
	s := recScanner{b: line}
	if !s.object(recordSchema, &r, true) || s.i != len(line) || r.seen != len(recordSchema) {
		return scannedRecord{}, false
	}
	return r, true
}

// recScanner reads a line from b[i:].
type recScanner struct {
	b []byte
	i int
}

func (s *recScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads an object whose keys are among fields, in their order,
// each once. top counts the fields seen in r.
func (s *recScanner) object(fields []schemaField, r *scannedRecord, top bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	j := 0
	for {
		key, plain, ok := s.str()
		if !ok || !plain {
			return false
		}
		for j < len(fields) && fields[j].key != string(key) {
			j++
		}
		if j == len(fields) || !s.eat(':') {
			return false
		}
		f := &fields[j]
		j++
		if top {
			r.seen++
		}
		if !s.value(f, r) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// value reads the value of field f.
func (s *recScanner) value(f *schemaField, r *scannedRecord) bool {
	switch f.kind {
	case kString:
		_, _, ok := s.str()
		return ok
	case kASCII:
		v, plain, ok := s.str()
		if !ok || !plain {
			return false
		}
		for _, c := range v {
			if c > '~' {
				return false
			}
		}
		if f.out == outPrev {
			r.prev = v
		}
		return true
	case kTime:
		start := s.i
		if _, _, ok := s.str(); !ok {
			return false
		}
		// The decoder hands the literal, quotes included, to the
		// field's UnmarshalJSON.
		var t time.Time
		if t.UnmarshalJSON(s.b[start:s.i]) != nil {
			return false
		}
		if f.out == outUTC {
			r.utc = t
		}
		return true
	case kBool:
		rest := s.b[s.i:]
		switch {
		case len(rest) >= 4 && string(rest[:4]) == "true":
			s.i += 4
		case len(rest) >= 5 && string(rest[:5]) == "false":
			s.i += 5
		default:
			return false
		}
		return true
	case kInt:
		n, ok := s.int()
		if ok && f.out == outSeq {
			r.seq = n
		}
		return ok
	case kStrings:
		if !s.eat('[') {
			return false
		}
		if s.eat(']') {
			return true
		}
		for {
			if _, _, ok := s.str(); !ok {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat(']')
		}
	case kObject:
		return s.object(f.obj, r, false)
	}
	return false
}

// int reads -?(0|[1-9][0-9]*) of at most 18 digits (so that it cannot
// overflow an int64); a fraction or an exponent is left unread, and the
// caller then finds no ',' or '}' after it.
func (s *recScanner) int() (int64, bool) {
	neg := s.eat('-')
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 18 || (digits > 1 && s.b[start] == '0') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// str reads a JSON string (RFC 8259 §7: no control character, only the
// escapes \" \\ \/ \b \f \n \r \t \uXXXX) and returns its raw content;
// plain reports that it has no escape (its bytes are then its value,
// unless they are not UTF-8, which the decoder replaces). Bytes that are
// not UTF-8 are accepted, as the decoder accepts them.
func (s *recScanner) str() (raw []byte, plain, ok bool) {
	if !s.eat('"') {
		return nil, false, false
	}
	start := s.i
	plain = true
	for i := start; i < len(s.b); i++ {
		// Skip the bytes that are their own value (most of them).
		for i < len(s.b) && strPlain[s.b[i]] {
			i++
		}
		if i == len(s.b) {
			break
		}
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(s.b) {
				return nil, false, false
			}
			i++
			switch s.b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s.b) {
					return nil, false, false
				}
				for _, h := range s.b[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				i += 4
			default:
				return nil, false, false
			}
		default: // a control character
			return nil, false, false
		}
	}
	return nil, false, false
}

// strPlain is true for the bytes that stand for themselves in a JSON
// string: all but the quote, the backslash and the control characters.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
