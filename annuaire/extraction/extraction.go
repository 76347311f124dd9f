// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/ecdaf744/gomss/annuaire"
)

// field identifies one of the known columns of Extraction_Correspondance_MSSante.
type field uint8

const (
	fType field = iota
	fAddress
	fPPIDType
	fPPID
	fIDNPS
	fStructIDType
	fStructID
	fService
	fCivility
	fFamily
	fGiven
	fCategory
	fCategoryLabel
	fProfession
	fProfessionLabel
	fSpecialty
	fSpecialtyLabel
	fDigitization
	fName
	fTradeName
	fL2
	fL3
	fL4Number
	fL4Suffix
	fL4Type
	fL4Street
	fL5
	fL6
	fPostalCode
	fDepartment
	fCountry
	numFields
)

// ColumnNames returns the 31 column names of the extraction file
// Extraction_Correspondance_MSSante, in the order of the published file.
// Columns are found by name, so their order, extra columns and the absence
// of optional ones do not matter; only "Adresse BAL" is required. Names are
// matched ignoring case, accents and surrounding spaces, and the columns 21
// to 31 are also recognised without their " structure BAL" suffix.
func ColumnNames() []string { return append([]string(nil), columnNames[:]...) }

// columnNames are the known columns, indexed by field.
var columnNames = [numFields]string{
	"Type de BAL", "Adresse BAL", "Type Identifiant PP", "Identifiant PP",
	"Identification nationale PP", "Type identifiant structure", "Identification Structure",
	"Service de rattachement", "Civilité d'exercice", "Nom d'exercice", "Prénom d'exercice",
	"Catégorie profession", "Libellé de catégorie profession", "Code Profession",
	"Libellé Profession", "Code savoir-faire", "Libellé savoir-faire", "Dématérialisation",
	"Raison Sociale structure BAL", "Enseigne commerciale structure BAL",
	"L2COMPLEMENTLOCALISATION structure BAL", "L3COMPLEMENTDISTRIBUTION structure BAL",
	"L4NUMEROVOIE structure BAL", "L4COMPLEMENTNUMEROVOIE structure BAL",
	"NL4TYPEVOIE structure BAL", "L4LIBELLEVOIE structure BAL",
	"L5LIEUDITMENTION structure BAL", "L6LIGNEACHEMINEMENT structure BAL",
	"Code postal structure BAL", "Département structure BAL", "Pays structure BAL",
}

// maxColumns bounds the header: a file with more columns is not an extraction.
const maxColumns = 256

// maxLine bounds one line as read; real lines are about 170 bytes.
const maxLine = 64 << 10

// maxRowLine bounds the row a line holds (its end of line removed), for
// the reader and the index alike.
const maxRowLine = 0xFFFE

// layout maps the known fields to the columns of one file's header.
type layout struct {
	ncols int
	pos   [numFields]int16 // column index of each field, -1 when absent
	span  int              // columns to store per row: 1 + highest known column
	field [maxColumns]int8 // field of each column, -1 when unknown
}

// Header describes the header line of an extraction.
type Header struct {
	// Columns are the header's column names as written.
	Columns []string
	// Missing lists the known columns the header lacks (their fields stay empty).
	Missing []string
	// Extra lists the header's columns this package does not know (ignored).
	Extra []string
}

func headerKey(name string) string {
	k := strings.TrimSpace(foldString(strings.TrimSpace(name)))
	return strings.Join(strings.Fields(k), " ")
}

// parseHeader reads the header line.
func parseHeader(line string) (layout, Header, error) {
	var l layout
	var h Header
	line = strings.TrimPrefix(line, "\uFEFF")
	line = strings.TrimSuffix(line, "\r")
	if strings.TrimSpace(line) == "" {
		return l, h, fmt.Errorf("%w: line 1 is empty", ErrHeader)
	}
	names := strings.Split(line, "|")
	// A trailing "|" (as in PS_LibreAcces files) adds one empty column.
	if len(names) > 1 && strings.TrimSpace(names[len(names)-1]) == "" {
		names = names[:len(names)-1]
	}
	if len(names) > maxColumns {
		return l, h, fmt.Errorf("%w: %d columns, more than %d", ErrHeader, len(names), maxColumns)
	}
	known := make(map[string]field, 2*int(numFields))
	for f, n := range columnNames {
		known[headerKey(n)] = field(f)
		if k, ok := strings.CutSuffix(headerKey(n), " STRUCTURE BAL"); ok && f >= int(fL2) {
			known[k] = field(f)
		}
	}
	for i := range l.pos {
		l.pos[i] = -1
	}
	for i := range l.field {
		l.field[i] = -1
	}
	for i, n := range names {
		f, ok := known[headerKey(n)]
		if !ok {
			h.Extra = append(h.Extra, n)
			continue
		}
		if l.pos[f] >= 0 {
			return l, h, fmt.Errorf("%w: column %q appears twice (columns %d and %d)", ErrHeader, n, l.pos[f]+1, i+1)
		}
		l.pos[f] = int16(i)
		l.field[i] = int8(f)
		if i+1 > l.span {
			l.span = i + 1
		}
	}
	for f, p := range l.pos {
		if p < 0 {
			h.Missing = append(h.Missing, columnNames[f])
		}
	}
	if l.pos[fAddress] < 0 {
		return l, h, fmt.Errorf("%w: no %q column in %q", ErrHeader, columnNames[fAddress], clip(line))
	}
	l.ncols = len(names)
	h.Columns = names
	return l, h, nil
}

// LineError reports a malformed line: which line, which column and why. The
// line is skipped; the rest of the file is still read.
type LineError struct {
	Line   int    // 1-based line number (the header is line 1)
	Column string // the column at fault, "" for the whole line
	Err    error  // wraps ErrAddress, ErrBALType or ErrLine
}

// Error formats the error as: line N: column "C": reason.
func (e *LineError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("extraction: line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("extraction: line %d: column %q: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the cause.
func (e *LineError) Unwrap() error { return e.Err }

// Warning kinds: anomalies a line may have that do not prevent its use.
const (
	warnShort   = iota // fewer columns than the header
	warnLong           // more columns than the header
	warnLuhn           // RPPS/ADELI/FINESS/SIREN/SIRET failing its key or format
	warnDigit          // unknown Dématérialisation value
	warnNoIDNPS        // PER row without a national identifier
	numWarn
)

// Tolerated counts the anomalies that were accepted while reading: the line
// was kept, and the value concerned was used as found (or as empty).
type Tolerated struct {
	ShortRows int // rows with fewer columns than the header (missing ones empty)
	LongRows  int // rows with more columns than the header (extra ones ignored)
	// BadChecksum counts identifiers failing the check their type defines
	// (kept as found): RPPS or ADELI failing the Luhn check; a structure's
	// FINESS, SIREN or SIRET, read after its IDNST type digit, that fails
	// its key or does not have the length and characters of its type (see
	// StructureIDValid).
	BadChecksum  int
	Digitization int // Dématérialisation values that are none of true/false/1/0/O/N (kept as unknown)
	NoIDNPS      int // PER rows without a national identifier (not indexed by ID)
	Duplicates   int // rows identical to an earlier row (indexed once)
}

func (t *Tolerated) add(w *[numWarn]int) {
	t.ShortRows += w[warnShort]
	t.LongRows += w[warnLong]
	t.BadChecksum += w[warnLuhn]
	t.Digitization += w[warnDigit]
	t.NoIDNPS += w[warnNoIDNPS]
}

// row is a line cut into its columns: where each known field is in it.
// The bounds are uint16, as rows are at most maxRowLine bytes; holding no
// pointer, they are written without the write barriers that storing
// strings in a field array takes on every lookup.
type row struct {
	line string
	at   [numFields]struct{ a, b uint16 }
}

// get returns the value of field f ("" when the row has none).
func (r *row) get(f field) string { return r.line[r.at[f].a:r.at[f].b] }

// split cuts line (at most maxRowLine bytes) into its columns and notes in
// v where each known field is (v must be zero on entry: absent fields stay
// empty). It returns the number of columns found (one more than the number
// of "|").
//
// The separators are found eight bytes at a time (load64): in each 64-bit
// word, the bytes equal to '|' are marked by their high bit, then taken in
// order. This runs on every lookup (the index keeps no per-column offsets),
// so it stops at the last known column and counts the rest with
// strings.Count.
func (l *layout) split(line string, v *row) int {
	const ones = 0x0101010101010101
	const low7 = 0x7f * ones
	v.line = line
	k, a := 0, 0 // current column and its start
	i := 0
	for ; i+8 <= len(line); i += 8 {
		x := load64(line, i) ^ ('|' * ones) // zero bytes where '|'
		m := ^((x&low7 + low7) | x | low7)  // high bit of each zero byte
		for ; m != 0; m &= m - 1 {
			b := i + bits.TrailingZeros64(m)>>3
			if f := l.field[uint8(k)]; f >= 0 {
				v.at[f].a, v.at[f].b = uint16(a), uint16(b)
			}
			k, a = k+1, b+1
			if k == l.span {
				return k + strings.Count(line[a:], "|") + 1
			}
		}
	}
	for ; i < len(line); i++ {
		if line[i] == '|' {
			if f := l.field[uint8(k)]; f >= 0 {
				v.at[f].a, v.at[f].b = uint16(a), uint16(i)
			}
			k, a = k+1, i+1
			if k == l.span {
				return k + strings.Count(line[a:], "|") + 1
			}
		}
	}
	if f := l.field[uint8(k)]; f >= 0 {
		v.at[f].a, v.at[f].b = uint16(a), uint16(len(line))
	}
	return k + 1
}

// checkRow validates a row split into v (found columns). It returns a
// *LineError for a line that cannot be used, and counts tolerated anomalies
// in warn.
func (l *layout) checkRow(lineNo int, v *row, found int, warn *[numWarn]int) error {
	if p := l.pos[fAddress]; found <= int(p) {
		return &LineError{Line: lineNo, Err: fmt.Errorf("%w: %d columns, the address is column %d of %d", ErrLine, found, p+1, l.ncols)}
	}
	if _, _, err := annuaire.SplitAddress(v.get(fAddress)); err != nil {
		return &LineError{Line: lineNo, Column: columnNames[fAddress], Err: err}
	}
	t := v.get(fType)
	if l.pos[fType] >= 0 && !isBALType(t) {
		if _, err := annuaire.ParseBALType(t); err != nil {
			return &LineError{Line: lineNo, Column: columnNames[fType], Err: err}
		}
	}
	// The line is kept: count what was tolerated.
	switch {
	case found < l.ncols:
		warn[warnShort]++
	case found > l.ncols:
		warn[warnLong]++
	}
	if _, ok := parseDigitization(v.get(fDigitization)); !ok {
		warn[warnDigit]++
	}
	// RPPS and ADELI carry a Luhn key; the IDNPS (type digit + identifier)
	// does not. The structure column holds an IDNST (type digit +
	// identifier): its identifier is judged by the rule of its type.
	switch v.get(fPPIDType) {
	case "0", "8":
		if !luhnOK(v.get(fPPID)) {
			warn[warnLuhn]++
		}
	}
	if st := v.get(fStructIDType); !StructureIDValid(st, structureID(st, v.get(fStructID))) {
		warn[warnLuhn]++
	}
	if v.get(fIDNPS) == "" && (t == "PER" || t == "CAB") {
		warn[warnNoIDNPS]++
	}
	return nil
}

func isBALType(s string) bool { return s == "PER" || s == "ORG" || s == "APP" || s == "CAB" }

// Structure identifiers. The "Identification Structure" column of the
// extraction holds the IDNST, the national structure identifier (OID
// 1.2.250.1.71.4.2.2, FR Core identifier type IDNST): the TRE_G07 type digit
// of the "Type identifiant structure" column followed by the identifier of
// that type, "1 + N° FINESS, 2 + N° SIREN, 3 + N° SIRET, 4 + N° RPPS-rang"
// (ANS, IG PDSM StructIdNat; FR Core FRCoreOrganizationProfile idNatSt; the
// TRE_G07 codes: ANS terminology TRE_G07-TypeIdentifiantStructure). The
// lengths of the identifiers: FINESS 9 characters, SIREN 9 digits, SIRET 14
// digits (FR Core), RPPS rang 11 + 2 digits (FR Core, rppsrang system).
//
// structIDLen gives, per TRE_G07 type digit, the length of the identifier
// without its type digit; 0 for a type whose length is not established (0,
// cabinet ADELI: the sources disagree), whose values are kept as found.
var structIDLen = [...]int{1: 9, 2: 9, 3: 14, 4: 13}

// structureID returns the identifier of TRE_G07 type typ held in v, the
// "Identification Structure" value: v without its leading type digit when
// v is an IDNST (type digit + identifier of the type's length), else v as
// found (a bare identifier, as the FHIR API's FINESS or SIRET identifiers
// are, or a value of a type whose length is not established).
func structureID(typ, v string) string {
	if len(typ) == 1 && typ[0] >= '0' && int(typ[0]-'0') < len(structIDLen) {
		if n := structIDLen[typ[0]-'0']; n > 0 && len(v) == n+1 && v[0] == typ[0] {
			return v[1:]
		}
	}
	return v
}

// StructureIDValid reports whether id, a structure identifier of TRE_G07
// type typ without its IDNST type digit (as in Structure.ID), fits its type:
//
//   - "1" FINESS: 9 characters, digits but for 2A/2B (Corsica) in first
//     position; the last is a Luhn key over the 9 digits (every real FINESS
//     checked passes it, such as 750712184, the AP-HP). A Corsican FINESS
//     holding a letter is not judged: how its key counts the letter is not
//     established in the sources.
//   - "2" SIREN: 9 digits, Luhn key (INSEE).
//   - "3" SIRET: 14 digits, the SIREN (itself with its Luhn key) then the
//     NIC; Luhn key over the 14 digits, except for the establishments of La
//     Poste (SIREN 356000000) other than its head office 35600000000048,
//     whose 14 digits add up to a multiple of 5 instead (INSEE, as
//     documented by python-stdnum's stdnum.fr.siret).
//
// Other types (0 cabinet ADELI, 4 RPPS rang, 40, 41) define no key and an
// empty id is no identifier: both are reported valid.
func StructureIDValid(typ, id string) bool {
	if id == "" {
		return true
	}
	switch typ {
	case "1":
		return finessOK(id)
	case "2":
		return len(id) == 9 && allDigits(id) && luhnOK(id)
	case "3":
		return siretOK(id)
	}
	return true
}

// finessOK checks a FINESS number (9 characters, see StructureIDValid).
func finessOK(s string) bool {
	if len(s) != 9 {
		return false
	}
	if s[0] == '2' && (s[1] == 'A' || s[1] == 'B') {
		return allDigits(s[2:])
	}
	return allDigits(s) && luhnOK(s)
}

// siretOK checks a SIRET number (14 digits, see StructureIDValid).
func siretOK(s string) bool {
	if len(s) != 14 || !allDigits(s) || !luhnOK(s[:9]) {
		return false
	}
	if s[:9] == "356000000" && s != "35600000000048" {
		sum := 0
		for i := 0; i < len(s); i++ {
			sum += int(s[i] - '0')
		}
		return sum%5 == 0
	}
	return luhnOK(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// luhnOK checks the Luhn key of an all-digit identifier (RPPS, ADELI,
// FINESS, SIREN, SIRET all carry one). Non-digit identifiers are not judged.
func luhnOK(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return true
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// set sets *m from the values of the known fields.
func (l *layout) set(m *annuaire.Mailbox, v *row, lineNo int) {
	t := annuaire.BALType(v.get(fType))
	if !isBALType(string(t)) {
		t, _ = annuaire.ParseBALType(string(t))
	}
	d, _ := parseDigitization(v.get(fDigitization))
	*m = annuaire.Mailbox{
		Address:      v.get(fAddress),
		Type:         t,
		Service:      v.get(fService),
		Digitization: d,
		Owner: annuaire.Person{
			IDType: v.get(fPPIDType), ID: v.get(fPPID), IDNPS: v.get(fIDNPS),
			Civility: v.get(fCivility), Family: v.get(fFamily), Given: v.get(fGiven),
			Category:   annuaire.Code{Code: v.get(fCategory), Label: v.get(fCategoryLabel)},
			Profession: annuaire.Code{Code: v.get(fProfession), Label: v.get(fProfessionLabel)},
			Specialty:  annuaire.Code{Code: v.get(fSpecialty), Label: v.get(fSpecialtyLabel)},
		},
		Structure: annuaire.Structure{
			IDType: v.get(fStructIDType), ID: structureID(v.get(fStructIDType), v.get(fStructID)),
			Name: v.get(fName), TradeName: v.get(fTradeName),
			Complement: v.get(fL2), Distribution: v.get(fL3), Number: v.get(fL4Number),
			NumberSuffix: v.get(fL4Suffix), StreetType: v.get(fL4Type), Street: v.get(fL4Street),
			Locality: v.get(fL5), CityLine: v.get(fL6), PostalCode: v.get(fPostalCode),
			Department: v.get(fDepartment), Country: v.get(fCountry),
		},
		Source: annuaire.FromExtraction,
		Line:   lineNo,
	}
}

// Truncated files. Whether the ANS ends its extraction with a newline is
// not established (no raw copy of the end of a real file was found; the
// synthetic fixtures end with one), so a last line without newline is not
// by itself a cut: it is taken as whole when nothing in it shows a cut,
// and as cut (ErrTruncated) when it could be one. finalCut says which.

// maxLastValues and maxLastValueLen bound the values of the last column
// that a reader remembers, to tell a cut last value (see finalCut).
const (
	maxLastValues   = 256
	maxLastValueLen = 256
)

// lastValues are the first maxLastValues distinct values (of at most
// maxLastValueLen bytes) of the header's last column, on the lines that
// have the header's number of columns, in file order.
type lastValues map[string]struct{}

// lastValue returns the value of the last column of line.
func lastValue(line string) string { return line[strings.LastIndexByte(line, '|')+1:] }

// add notes the last value of line, which has the header's number of
// columns.
func (s *lastValues) add(line string) {
	if len(*s) >= maxLastValues {
		return
	}
	v := lastValue(line)
	if len(v) > maxLastValueLen {
		return
	}
	if *s == nil {
		*s = make(lastValues)
	}
	if _, ok := (*s)[v]; !ok {
		(*s)[strings.Clone(v)] = struct{}{}
	}
}

// finalCut judges the last line of a file when no newline ends it: it
// returns why the line is taken as cut, or "" when it is taken as whole.
// found is its number of columns (split, or 0 when it was not split); seen
// gives the values of the last column on the lines before it (called only
// when needed). A line is whole when it has at least the header's number
// of columns and its last value could not be the start of a longer one:
// not empty, not ended inside a UTF-8 sequence, not the address (nothing
// tells a cut address from a whole one) and, unless it is itself a value
// of that column on an earlier line, not the start of one.
func (l *layout) finalCut(line string, found int, seen func() lastValues) string {
	if len(line) > maxRowLine {
		return fmt.Sprintf("is longer than %d bytes", maxRowLine)
	}
	if found < l.ncols {
		return fmt.Sprintf("has %d of the header's %d columns", found, l.ncols)
	}
	if found > l.ncols {
		return "" // the header's columns are all whole: a "|" follows each
	}
	col := l.ncols - 1
	if int(l.pos[fAddress]) == col {
		return fmt.Sprintf("its last column is the address (%q)", columnNames[fAddress])
	}
	name := fmt.Sprintf("column %d", col+1)
	if f := l.field[col]; f >= 0 {
		name = fmt.Sprintf("%q", columnNames[f])
	}
	v := lastValue(line)
	if v == "" {
		return fmt.Sprintf("its last value (%s) is empty", name)
	}
	if r, n := utf8.DecodeLastRuneInString(v); r == utf8.RuneError && n == 1 {
		return fmt.Sprintf("its last value (%s) ends inside a UTF-8 sequence", name)
	}
	vals := seen()
	if _, ok := vals[v]; ok {
		return ""
	}
	longer := ""
	for w := range vals {
		if len(w) > len(v) && strings.HasPrefix(w, v) && (longer == "" || w < longer) {
			longer = w
		}
	}
	if longer != "" {
		return fmt.Sprintf("its last value %q (%s) is the start of %q, found on an earlier line", clip(v), name, clip(longer))
	}
	return ""
}

// truncated returns the ErrTruncated error for line lineNo, the last of
// the file, taken as cut for why (see finalCut).
func truncated(lineNo int, why string) error {
	return fmt.Errorf("%w: line %d, the last, is not ended by a newline and %s", ErrTruncated, lineNo, why)
}

// headerAlone is why a header that no newline ends is taken as cut: a
// file of a header alone holds no row, and whether its producer omits the
// last newline is not known.
const headerAlone = "is the header: no row follows it"

// ExtractionReader reads an Extraction_Correspondance_MSSante file (UTF-8,
// "|"-separated, one header line) one row at a time, holding one line in
// memory. Use NewExtractionReader, then call Next until io.EOF.
type ExtractionReader struct {
	br     *bufio.Reader
	l      layout
	header Header
	line   int
	long   []byte
	warn   [numWarn]int
	last   lastValues // of the last column (see finalCut)
	done   bool       // the last line was read
}

// NewExtractionReader reads the header line of r and returns a reader of the
// rows. It fails with ErrHeader when the header has no "Adresse BAL" column.
func NewExtractionReader(r io.Reader) (*ExtractionReader, error) {
	x := &ExtractionReader{br: bufio.NewReaderSize(r, 64<<10)}
	line, ended, err := x.readLine()
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%w: empty file", ErrHeader)
		}
		return nil, err
	}
	x.l, x.header, err = parseHeader(line)
	if err != nil {
		return nil, err
	}
	if !ended {
		return nil, truncated(1, headerAlone)
	}
	return x, nil
}

// Header returns what the header line held.
func (x *ExtractionReader) Header() Header { return x.header }

// Tolerated returns the anomalies accepted so far.
func (x *ExtractionReader) Tolerated() Tolerated {
	var t Tolerated
	t.add(&x.warn)
	return t
}

// readLine returns the next line without its end of line, or io.EOF, and
// whether a newline ended it.
func (x *ExtractionReader) readLine() (line string, ended bool, err error) {
	x.line++
	b, err := x.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		x.long = append(x.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = x.br.ReadSlice('\n')
			if len(x.long) <= maxLine {
				x.long = append(x.long, b...)
			}
		}
		b = x.long
		if len(b) > maxLine {
			if err != nil && err != io.EOF {
				return "", false, err
			}
			if err == io.EOF {
				return "", false, truncated(x.line, fmt.Sprintf("is longer than %d bytes", maxLine))
			}
			return "", true, &LineError{Line: x.line, Err: fmt.Errorf("%w: longer than %d bytes", ErrLine, maxLine)}
		}
	}
	if err != nil && (err != io.EOF || len(b) == 0) {
		return "", false, err
	}
	ended = err == nil
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return string(b), ended, nil
}

// Next returns the next row as a Mailbox. At the end of the input it
// returns io.EOF. A malformed line gives a *LineError (wrapping ErrLine,
// ErrAddress or ErrBALType) and Next may be called again to continue with
// the following line; other errors come from the underlying reader. Blank
// lines are skipped.
//
// A last line that no newline ends and that may have been cut (see the
// package documentation, "Truncated files") is not returned: Next returns
// an error wrapping ErrTruncated that names it, which is not a
// *LineError (the file is incomplete, not one line of it), then io.EOF.
func (x *ExtractionReader) Next() (annuaire.Mailbox, error) {
	for {
		if x.done {
			return annuaire.Mailbox{}, io.EOF
		}
		line, ended, err := x.readLine()
		if err != nil {
			if errors.Is(err, ErrTruncated) {
				x.done = true
			}
			return annuaire.Mailbox{}, err
		}
		if line == "" {
			continue
		}
		if !ended {
			x.done = true
			var v row
			found := 0
			if len(line) <= maxRowLine {
				found = x.l.split(line, &v)
			}
			if why := x.l.finalCut(line, found, func() lastValues { return x.last }); why != "" {
				return annuaire.Mailbox{}, truncated(x.line, why)
			}
		}
		if len(line) > maxRowLine {
			return annuaire.Mailbox{}, &LineError{Line: x.line, Err: fmt.Errorf("%w: longer than %d bytes", ErrLine, maxRowLine)}
		}
		var v row
		found := x.l.split(line, &v)
		if found == x.l.ncols {
			x.last.add(line)
		}
		if err := x.l.checkRow(x.line, &v, found, &x.warn); err != nil {
			return annuaire.Mailbox{}, err
		}
		var m annuaire.Mailbox
		x.l.set(&m, &v, x.line)
		return m, nil
	}
}

// IsLineError reports whether err is a *LineError, after which Next can go on.
func IsLineError(err error) bool {
	var le *LineError
	return errors.As(err, &le)
}

// load64 reads the eight bytes of s at i as a little-endian word, without
// converting s to a slice; the compiler merges the byte loads into one.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// parseDigitization reads the Dématérialisation column. The raw format is
// not published; readers in the wild accept true/True/1, the MOS wording is
// O/N. ok is false for a value that is none of these (kept as unknown).
func parseDigitization(s string) (d annuaire.Digitization, ok bool) {
	switch s {
	case "":
		return annuaire.DigitizationUnknown, true
	case "true", "True", "TRUE", "1", "O", "o", "oui", "Oui", "OUI":
		return annuaire.DigitizationAccepted, true
	case "false", "False", "FALSE", "0", "N", "n", "non", "Non", "NON":
		return annuaire.DigitizationRefused, true
	}
	return annuaire.DigitizationUnknown, false
}
