// SPDX-License-Identifier: Apache-2.0

package xdm

import (
	"io"
	"strconv"

	"github.com/beevik/etree"
)

// ebRIM 3.0 namespaces of METADATA.XML.
const (
	NamespaceLCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
	NamespaceRIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
)

// IHE ITI TF-3 identifiers (classification and identification schemes,
// object types, association types), as listed in IPF Vocabulary.java and
// used by the ANS tools.
const (
	objectTypeStable       = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
	nodeSubmissionSet      = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
	schemeDocAuthor        = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
	schemeDocClass         = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
	schemeDocConfidential  = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
	schemeDocEvent         = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
	schemeDocFormat        = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
	schemeDocFacility      = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
	schemeDocPractice      = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
	schemeDocType          = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
	schemeDocPatientID     = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
	schemeDocUniqueID      = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
	schemeSetAuthor        = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
	schemeSetContentType   = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
	schemeSetPatientID     = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
	schemeSetUniqueID      = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
	schemeSetSourceID      = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
	objectTypeClassif      = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
	objectTypeExtID        = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier"
	objectTypeAssociation  = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
	objectTypePackage      = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
	statusApproved         = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
	AssociationHasMember   = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
	AssociationReplace     = "urn:ihe:iti:2007:AssociationType:RPLC"
	submissionSetStatusKey = "SubmissionSetStatus"
)

// Code is an XDS coded value: code, coding scheme (an OID) and display name.
type Code struct {
	Code    string
	Scheme  string
	Display string
}

// Author is an XDS author: person (HL7 v2 XCN), institutions (XON), roles
// and specialties.
type Author struct {
	Person       string
	Institutions []string
	Roles        []string
	Specialties  []string
}

// SubmissionSet is the XDS submission set of an XDM archive.
type SubmissionSet struct {
	EntryUUID      string // urn:uuid:…
	UniqueID       string // an OID
	SourceID       string // OID of the sending system
	SubmissionTime string // UTC, YYYYMMDDHHMMSS
	PatientID      string // HL7 v2 CX of the INS: matricule^^^&OID&ISO^NH
	ContentType    Code   // JDV_J03
	Authors        []Author
	Title          string
	Comments       string
}

// DocumentEntry is the XDS metadata of one document.
type DocumentEntry struct {
	EntryUUID         string
	UniqueID          string // CDA id: root^extension, or root
	PatientID         string
	SourcePatientID   string
	SourcePatientInfo []string
	CreationTime      string // UTC
	ServiceStartTime  string
	ServiceStopTime   string
	LanguageCode      string
	Title             string
	Comments          string
	Type              Code
	Class             Code
	Format            Code
	FacilityType      Code
	PracticeSetting   Code
	Confidentiality   []Code
	Events            []Code
	Authors           []Author
	// LegalAuthenticator is an HL7 v2 XCN.
	LegalAuthenticator string
	Hash               string // SHA-1 of the file, hexadecimal
	// Size is the document's length in bytes (XDS size slot). The writer
	// computes it while streaming the document. It is -1, meaning unknown,
	// in metadata read by ParseMetadata (or OpenReader) that has no size
	// slot or one that is not a byte count (then noted in Tolerated):
	// Document.Open then checks no size (never a size of 0), only the
	// SHA-1, and bounds what Close drains by the zip entry's declared
	// size. WriteTo writes no size slot for a negative Size.
	Size     int64
	URI      string // file name relative to the subset folder
	MimeType string
}

// Association links two objects of the metadata.
type Association struct {
	ID     string
	Type   string // AssociationHasMember or AssociationReplace
	Source string
	Target string
	// SubmissionSetStatus is "Original" for a HasMember from the
	// submission set to a document it carries.
	SubmissionSetStatus string
}

// Metadata is the content of METADATA.XML: one submission set, its
// documents and the associations between them.
type Metadata struct {
	SubmissionSet SubmissionSet
	Documents     []DocumentEntry
	Associations  []Association
}

// WriteTo writes m as an ebRIM 3.0 SubmitObjectsRequest, elements in schema
// order (Slot, Name, Description, Classification, ExternalIdentifier).
func (m *Metadata) WriteTo(w io.Writer) (int64, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("lcm:SubmitObjectsRequest")
	root.CreateAttr("xmlns:lcm", NamespaceLCM)
	root.CreateAttr("xmlns:rim", NamespaceRIM)
	list := root.CreateElement("rim:RegistryObjectList")
	ids := &idGen{}

	ss := &m.SubmissionSet
	pkg := list.CreateElement("rim:RegistryPackage")
	pkg.CreateAttr("id", ss.EntryUUID)
	pkg.CreateAttr("objectType", objectTypePackage)
	slot(pkg, "submissionTime", ss.SubmissionTime)
	localized(pkg, "rim:Name", ss.Title)
	localized(pkg, "rim:Description", ss.Comments)
	for _, a := range ss.Authors {
		author(pkg, ss.EntryUUID, schemeSetAuthor, a, ids)
	}
	classification(pkg, ss.EntryUUID, schemeSetContentType, ss.ContentType, ids)
	externalID(pkg, ss.EntryUUID, schemeSetUniqueID, ss.UniqueID, "XDSSubmissionSet.uniqueId", ids)
	externalID(pkg, ss.EntryUUID, schemeSetSourceID, ss.SourceID, "XDSSubmissionSet.sourceId", ids)
	externalID(pkg, ss.EntryUUID, schemeSetPatientID, ss.PatientID, "XDSSubmissionSet.patientId", ids)

	for i := range m.Documents {
		d := &m.Documents[i]
		eo := list.CreateElement("rim:ExtrinsicObject")
		eo.CreateAttr("id", d.EntryUUID)
		eo.CreateAttr("mimeType", d.MimeType)
		eo.CreateAttr("objectType", objectTypeStable)
		eo.CreateAttr("status", statusApproved)
		slot(eo, "creationTime", d.CreationTime)
		slot(eo, "hash", d.Hash)
		slot(eo, "languageCode", d.LanguageCode)
		slot(eo, "legalAuthenticator", d.LegalAuthenticator)
		slot(eo, "serviceStartTime", d.ServiceStartTime)
		slot(eo, "serviceStopTime", d.ServiceStopTime)
		if d.Size >= 0 {
			slot(eo, "size", strconv.FormatInt(d.Size, 10))
		}
		slot(eo, "sourcePatientId", d.SourcePatientID)
		slot(eo, "sourcePatientInfo", d.SourcePatientInfo...)
		slot(eo, "URI", d.URI)
		localized(eo, "rim:Name", d.Title)
		localized(eo, "rim:Description", d.Comments)
		for _, a := range d.Authors {
			author(eo, d.EntryUUID, schemeDocAuthor, a, ids)
		}
		classification(eo, d.EntryUUID, schemeDocClass, d.Class, ids)
		for _, c := range d.Confidentiality {
			classification(eo, d.EntryUUID, schemeDocConfidential, c, ids)
		}
		for _, c := range d.Events {
			classification(eo, d.EntryUUID, schemeDocEvent, c, ids)
		}
		classification(eo, d.EntryUUID, schemeDocFormat, d.Format, ids)
		classification(eo, d.EntryUUID, schemeDocFacility, d.FacilityType, ids)
		classification(eo, d.EntryUUID, schemeDocPractice, d.PracticeSetting, ids)
		classification(eo, d.EntryUUID, schemeDocType, d.Type, ids)
		externalID(eo, d.EntryUUID, schemeDocPatientID, d.PatientID, "XDSDocumentEntry.patientId", ids)
		externalID(eo, d.EntryUUID, schemeDocUniqueID, d.UniqueID, "XDSDocumentEntry.uniqueId", ids)
	}

	c := list.CreateElement("rim:Classification")
	c.CreateAttr("id", ids.next())
	c.CreateAttr("classifiedObject", ss.EntryUUID)
	c.CreateAttr("classificationNode", nodeSubmissionSet)
	c.CreateAttr("objectType", objectTypeClassif)

	for _, a := range m.Associations {
		as := list.CreateElement("rim:Association")
		id := a.ID
		if id == "" {
			id = ids.next()
		}
		as.CreateAttr("id", id)
		as.CreateAttr("associationType", a.Type)
		as.CreateAttr("sourceObject", a.Source)
		as.CreateAttr("targetObject", a.Target)
		as.CreateAttr("objectType", objectTypeAssociation)
		if a.SubmissionSetStatus != "" {
			slot(as, submissionSetStatusKey, a.SubmissionSetStatus)
		}
	}
	doc.Indent(2)
	return doc.WriteTo(w)
}

// idGen numbers the ids of classifications, external identifiers and
// associations: symbolic ids, unique within the document (ebRIM allows any
// id in a submission; the registry assigns UUIDs).
type idGen struct{ n int }

func (g *idGen) next() string {
	g.n++
	return "id" + strconv.Itoa(g.n)
}

func slot(parent *etree.Element, name string, values ...string) {
	if len(values) == 0 || (len(values) == 1 && values[0] == "") {
		return
	}
	s := parent.CreateElement("rim:Slot")
	s.CreateAttr("name", name)
	vl := s.CreateElement("rim:ValueList")
	for _, v := range values {
		vl.CreateElement("rim:Value").SetText(v)
	}
}

func localized(parent *etree.Element, tag, value string) {
	if value == "" {
		return
	}
	ls := parent.CreateElement(tag).CreateElement("rim:LocalizedString")
	ls.CreateAttr("charset", "UTF-8")
	ls.CreateAttr("value", value)
}

func classification(parent *etree.Element, object, scheme string, c Code, ids *idGen) {
	if c.Code == "" {
		return
	}
	e := parent.CreateElement("rim:Classification")
	e.CreateAttr("id", ids.next())
	e.CreateAttr("classificationScheme", scheme)
	e.CreateAttr("classifiedObject", object)
	e.CreateAttr("nodeRepresentation", c.Code)
	e.CreateAttr("objectType", objectTypeClassif)
	slot(e, "codingScheme", c.Scheme)
	localized(e, "rim:Name", c.Display)
}

func author(parent *etree.Element, object, scheme string, a Author, ids *idGen) {
	e := parent.CreateElement("rim:Classification")
	e.CreateAttr("id", ids.next())
	e.CreateAttr("classificationScheme", scheme)
	e.CreateAttr("classifiedObject", object)
	e.CreateAttr("nodeRepresentation", "")
	e.CreateAttr("objectType", objectTypeClassif)
	slot(e, "authorPerson", a.Person)
	slot(e, "authorInstitution", a.Institutions...)
	slot(e, "authorRole", a.Roles...)
	slot(e, "authorSpecialty", a.Specialties...)
}

func externalID(parent *etree.Element, object, scheme, value, name string, ids *idGen) {
	if value == "" {
		return
	}
	e := parent.CreateElement("rim:ExternalIdentifier")
	e.CreateAttr("id", ids.next())
	e.CreateAttr("identificationScheme", scheme)
	e.CreateAttr("registryObject", object)
	e.CreateAttr("value", value)
	e.CreateAttr("objectType", objectTypeExtID)
	localized(e, "rim:Name", name)
}
