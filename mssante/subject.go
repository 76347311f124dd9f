// SPDX-License-Identifier: Apache-2.0

package mssante

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/ecdaf744/gomss/ins"
)

// SubjectPrefix starts the subject of a message carrying documents
// (Ref#2 ECO.2.1.3); receiving software hides it (SC.MSS/UX.28).
const SubjectPrefix = "XDM/1.0/DDM+"

// DocumentSubject returns the subject of a message carrying documents:
// "XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>", the birth
// date as DD/MM/YYYY (the form of the ANS examples, e.g. "XDM/1.0/DDM+
// ECHOGRAPHIE ABDOMINOPELVIENNE CORSE FIGATELLIX 12/10/1988"). The name is
// the birth family name (or the used one when there is none) in upper case
// and the first birth given name (or the used one).
func DocumentSubject(label string, t *ins.Traits) string {
	var b strings.Builder
	b.WriteString(SubjectPrefix)
	b.WriteString(oneLine(label))
	family, given := patientNames(t)
	for _, s := range []string{family, given} {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	if !t.BirthDate.IsZero() {
		fmt.Fprintf(&b, " %02d/%02d/%04d", t.BirthDate.Day, int(t.BirthDate.Month), t.BirthDate.Year)
	}
	return b.String()
}

func patientNames(t *ins.Traits) (family, given string) {
	family = t.BirthFamilyName
	if family == "" {
		family = t.UsedFamilyName
	}
	given = t.FirstBirthGivenName
	if given == "" {
		given = t.UsedGivenName
	}
	return strings.ToUpper(oneLine(family)), oneLine(given)
}

// DisplaySubject returns subject without the XDM/1.0/DDM+ prefix, for
// display (SC.MSS/UX.28). Prefixes added by acknowledgements
// ("[KO Intégration système !][902] ") are kept before it.
func DisplaySubject(subject string) string {
	if i := strings.Index(subject, SubjectPrefix); i >= 0 {
		return subject[:i] + strings.TrimLeft(subject[i+len(SubjectPrefix):], " ")
	}
	return subject
}

// IsDocumentSubject reports whether subject announces documents (it starts
// with XDM/1.0/DDM, possibly after acknowledgement prefixes).
func IsDocumentSubject(subject string) bool {
	s := subject
	for strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			break
		}
		s = strings.TrimLeft(s[i+1:], " ")
	}
	return strings.HasPrefix(s, "XDM/1.0/DDM")
}

// PDFFileName returns the name of the PDF rendition attached beside the
// XDM archive (Ref#2 ECO.2.1.6):
// <date de l'acte>_<type document>_<NOM>_<prénom>[_<numéro de dossier>].pdf,
// the date as YYYYMMDD, every part reduced to ASCII letters, digits and
// hyphens with underscores for other characters, as in the ANS example
// "20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf".
func PDFFileName(actDate ins.Date, docType string, t *ins.Traits, caseNumber string) string {
	family, given := patientNames(t)
	parts := []string{actDate.String(), fileSafe(docType), fileSafe(family), fileSafe(given)}
	if caseNumber != "" {
		parts = append(parts, fileSafe(caseNumber))
	}
	return strings.Join(parts, "_") + ".pdf"
}

// fileSafe removes accents and turns every run of characters other than
// ASCII letters, digits and hyphens into one underscore.
func fileSafe(s string) string {
	var b strings.Builder
	under := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-'):
			b.WriteRune(r)
			under = false
		default:
			if !under && b.Len() > 0 {
				b.WriteByte('_')
				under = true
			}
		}
	}
	return strings.TrimRight(b.String(), "_")
}

// oneLine collapses whitespace (line breaks included) to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
