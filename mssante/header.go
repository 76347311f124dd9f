package mssante

import (
	"mime"
	"strings"

	"github.com/emersion/go-message"
)

// fields builds a header in wire order, with the exact spelling of every
// field name (go-message canonicalises names unless AddRaw is used, and
// writes fields in the reverse order of addition).
type fields struct{ lines []string }

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

// formatAddress writes "display" <addr>, the display name quoted when it
// needs to be, RFC 2047-encoded when not ASCII.
func formatAddress(display, addr string) string {
	if display == "" {
		return "<" + addr + ">"
	}
	enc := mime.QEncoding.Encode("utf-8", display)
	if enc == display && strings.ContainsAny(display, `()<>[]:;@\,."`) {
		enc = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(display) + `"`
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
