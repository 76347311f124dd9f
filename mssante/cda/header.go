// SPDX-License-Identifier: Apache-2.0

package cda

import (
	"fmt"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/ins"
)

// OIDs and fixed values of the CI-SIS CDA R2 header.
const (
	// OIDIDNPS is the assigning authority of the national health
	// professional identifier (IDNPS: "8"+RPPS or "0"+ADELI).
	OIDIDNPS = "1.2.250.1.71.4.2.1"
	// OIDIDNST is the assigning authority of the national structure
	// identifier (IDNST: "1"+FINESS, "3"+SIRET, …).
	OIDIDNST = "1.2.250.1.71.4.2.2"
	// CodeSystemLOINC is the code system of document types (JDV_J07).
	CodeSystemLOINC = "2.16.840.1.113883.6.1"
	// CodeSystemConfidentiality is HL7 Confidentiality (N, R, V).
	CodeSystemConfidentiality = "2.16.840.1.113883.5.25"

	// TemplateHL7France, TemplateCISIS and TemplateXDSSD are the three
	// templateIds of a level-1 document, the only ones StrucMin admits with a
	// nonXMLBody (SMDS_CDAClinicalDocument).
	TemplateHL7France = "2.16.840.1.113883.2.8.2.1"
	TemplateCISIS     = "1.2.250.1.213.1.1.1.1"
	TemplateXDSSD     = "1.3.6.1.4.1.19376.1.2.20"

	typeIDRoot      = "2.16.840.1.113883.1.3"
	typeIDExtension = "POCD_HD000040"
)

// Media types of a level-1 (non-structured) body that CI-SIS admits for
// new documents (IG document core, "structuration générale": PDF or text;
// images are converted to PDF/A first).
const (
	MediaTypePDF  = "application/pdf"
	MediaTypeText = "text/plain"
)

// Code is a coded value (CD/CE): code, code system OID, display name.
type Code struct {
	Code    string
	System  string
	Display string
}

// IsZero reports whether no code is set.
func (c Code) IsZero() bool { return c.Code == "" }

// II is an HL7 instance identifier: an OID root and an optional extension.
type II struct {
	Root      string
	Extension string
}

// IsZero reports whether the identifier is empty.
func (i II) IsZero() bool { return i.Root == "" && i.Extension == "" }

// String returns root^extension, or root alone, as XDS uniqueId does.
func (i II) String() string {
	if i.Extension == "" {
		return i.Root
	}
	return i.Root + "^" + i.Extension
}

// Name is a person name (PN) of a professional. Prefix is from JDV_J245
// (M, MME), Suffix from JDV_J246 (DR, MC, MG, PC, PG, PR).
type Name struct {
	Prefix string
	Given  string
	Family string
	Suffix string
}

// Organization is a structure identified by its IDNST (root OIDIDNST).
type Organization struct {
	// ID is the structure identifier; Root defaults to OIDIDNST when only
	// Extension is set.
	ID   II
	Name string
}

// Person is a health professional: IDNPS (root OIDIDNPS), name, specialty
// (assignedAuthor/code or assignedEntity/code, JDV_J01) and the
// organisation represented.
type Person struct {
	// ID is the professional's identifier; Root defaults to OIDIDNPS when
	// only Extension is set.
	ID           II
	Name         Name
	Specialty    Code
	Organization *Organization
}

// Device is a software author (assignedAuthoringDevice): used when a
// document is produced without a human author.
type Device struct {
	// ID identifies the software instance (an OID of the producing system).
	ID           II
	Model        string // manufacturerModelName
	Software     string // softwareName
	Organization *Organization
}

// Author is one author of the document: a person or a device, exactly one.
type Author struct {
	Time     TS
	Function Code // optional functionCode (JDV_J47); its display is the XDS authorRole
	Person   *Person
	Device   *Device
}

// LegalAuthenticator is the professional responsible for the document
// (signatureCode S).
type LegalAuthenticator struct {
	Time   TS
	Person Person
}

// ServiceEvent is a documentationOf/serviceEvent: the act documented. The
// first one is the principal act: it must have an effective time (Low) and
// a performer (StrucMin SMDS_CDAClinicalDocument: "Le performer est
// obligatoire dans l'acte principal"). A later act may have neither.
type ServiceEvent struct {
	Code Code // optional; each code becomes an XDS eventCodeList entry
	// Low and High bound the act. A later act with neither is written
	// without effectiveTime; a High needs a Low.
	Low, High TS
	// Performer is the professional who performed the act; its
	// organisation carries PracticeSetting. When nil, the first author who
	// is a person is written as performer of the principal act, and of a
	// later act that has a PracticeSetting; a later act with neither is
	// written without performer.
	Performer *Person
	// PracticeSetting is the standardIndustryClassCode (JDV_J04) of the
	// performer's organisation, required wherever there is a performer
	// (CI-SISDocumentationOf). The principal act's is the XDS
	// practiceSettingCode.
	PracticeSetting Code
}

// Encounter is the componentOf/encompassingEncounter: the care context.
type Encounter struct {
	Low, High TS
	// FacilityType is location/healthCareFacility/code (JDV_J02), the XDS
	// healthcareFacilityTypeCode.
	FacilityType Code
}

// Header is the CI-SIS CDA R2 header, for building a document and as read
// from one. Every field that Validate requires is marked so in its comment.
type Header struct {
	ID      II  // required: document id (an OID root, optional extension)
	SetID   II  // required when Version > 1; defaults to ID for version 1
	Version int // versionNumber, 1 when zero
	// Type is the document type (required), a LOINC code of JDV_J07;
	// System and Display are filled from the table when left empty.
	Type  Code
	Title string // required
	// EffectiveTime is the creation time of the document (required).
	EffectiveTime TS
	// Confidentiality is N (normal, the default), R or V.
	Confidentiality Code
	Language        string // languageCode, "fr-FR" when empty
	// Patient is the identity written as recordTarget (required). Its INS
	// is written only when Status is ins.Qualified (the ins package gate).
	Patient            *ins.Identity
	Authors            []Author // at least one
	Custodian          Organization
	LegalAuthenticator LegalAuthenticator
	ServiceEvents      []ServiceEvent // at least one
	Encounter          Encounter
	// Replaces is the id of the document this one replaces
	// (relatedDocument typeCode RPLC). The setId must then be the one of
	// the replaced document and Version greater than 1.
	Replaces *II
	// TemplateIDs lists the templateIds as read. When building a level-1
	// document they are the three fixed ones and this field is ignored.
	TemplateIDs []II
}

// Precision is the precision of a CDA time stamp.
type Precision int

// Precisions of a TS. The zero value is Second.
const (
	Second Precision = iota
	Minute
	Day
)

// TS is a CDA point in time (TS) with its precision. Written values carry
// the UTC offset of Time's location, e.g. 20210401134745+0100; day
// precision writes the date only.
type TS struct {
	Time      time.Time
	Precision Precision
	// NoZone is set by the reader when the value had no UTC offset; Time
	// is then in the reader's location.
	NoZone bool
}

// At returns a TS at second precision.
func At(t time.Time) TS { return TS{Time: t} }

// OnDay returns a TS with day precision.
func OnDay(t time.Time) TS { return TS{Time: t, Precision: Day} }

// IsZero reports whether no time is set.
func (ts TS) IsZero() bool { return ts.Time.IsZero() }

// String formats the value as written in a CDA document.
func (ts TS) String() string {
	switch ts.Precision {
	case Day:
		return ts.Time.Format("20060102")
	case Minute:
		if ts.NoZone {
			return ts.Time.Format("200601021504")
		}
		return ts.Time.Format("200601021504-0700")
	}
	if ts.NoZone {
		return ts.Time.Format("20060102150405")
	}
	return ts.Time.Format("20060102150405-0700")
}

// UTC formats the value as XDS metadata wants it: converted to UTC without
// offset (YYYYMMDDHHMMSS, or YYYYMMDDHHMM at minute precision). A date
// alone is kept as is: converting a day to UTC would change its meaning.
func (ts TS) UTC() string {
	switch ts.Precision {
	case Day:
		return ts.Time.Format("20060102")
	case Minute:
		return ts.Time.UTC().Format("200601021504")
	}
	return ts.Time.UTC().Format("20060102150405")
}

// ParseTS parses a CDA TS value: YYYYMMDD[HH[MM[SS[.fff]]]][±ZZZZ]. Values
// without offset are taken in loc (time.Local when nil) and flagged NoZone.
// Precision finer than the second is dropped. A fraction of a second
// follows the seconds and is made of digits; the offset is a sign and four
// digits, hours 00 to 23 and minutes 00 to 59 (HL7 V3 Data Types R1, TS:
// YYYYMMDDHHMMSS.UUUU[+|-ZZzz]), also when it follows a date alone (it is
// checked, then dropped with the time of day). Three digits ("+100", seen
// in ANS examples) are read as +0100.
func ParseTS(s string, loc *time.Location) (TS, error) {
	if loc == nil {
		loc = time.Local
	}
	v := s
	zone := ""
	if i := strings.IndexAny(v, "+-"); i >= 0 {
		v, zone = v[:i], v[i:]
	}
	if i := strings.IndexByte(v, '.'); i >= 0 {
		var frac string
		v, frac = v[:i], v[i+1:]
		if len(v) != 14 || frac == "" || !digits(frac) {
			return TS{}, fmt.Errorf("cda: time %q: a fraction of a second follows YYYYMMDDHHMMSS and is made of digits", s)
		}
	}
	if !digits(v) {
		return TS{}, fmt.Errorf("cda: time %q: not a TS value", s)
	}
	var layout string
	var prec Precision
	switch len(v) {
	case 8:
		layout, prec = "20060102", Day
	case 10:
		layout, prec = "2006010215", Minute
	case 12:
		layout, prec = "200601021504", Minute
	case 14:
		layout, prec = "20060102150405", Second
	default:
		return TS{}, fmt.Errorf("cda: time %q: want YYYYMMDD[HHMM[SS]][±ZZZZ]", s)
	}
	if zone != "" {
		if len(zone) == 4 {
			// "+100": an offset written without its leading zero (seen in
			// ANS examples); read as +0100.
			zone = zone[:1] + "0" + zone[1:]
		}
		if len(zone) != 5 || !digits(zone[1:]) || zone[1:3] > "23" || zone[3:] > "59" {
			return TS{}, fmt.Errorf("cda: time %q: offset %q: want ±HHMM, hours 00 to 23, minutes 00 to 59", s, zone)
		}
	}
	ts := TS{Precision: prec}
	var err error
	if zone == "" || prec == Day {
		ts.NoZone = zone == ""
		ts.Time, err = time.ParseInLocation(layout, v, loc)
	} else {
		ts.Time, err = time.Parse(layout+"-0700", v+zone)
	}
	if err != nil {
		return TS{}, fmt.Errorf("cda: time %q: %v", s, err)
	}
	return ts, nil
}

// digits reports whether s is made of ASCII digits only.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
