// SPDX-License-Identifier: Apache-2.0

package xdm_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante/xdm"
)

// iheVariants is METADATA.XML written the ways seen outside the ANS
// tooling (values ours): scheme UUIDs in upper case, without the urn:uuid:
// prefix or with the prefix itself in upper case; a patientId known only by
// its name (no identificationScheme), a uniqueId whose scheme is an
// unrelated URN but whose name is the IHE one; the submission-set marker
// with an upper-case node; an ExternalIdentifier and a Classification of
// schemes gomss does not know; a document without size slot.
const iheVariants = `<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
 <rim:RegistryObjectList>
  <rim:RegistryPackage id="SubmissionSet01" objectType="urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage">
   <rim:Slot name="submissionTime"><rim:ValueList><rim:Value>20261124093000</rim:Value></rim:ValueList></rim:Slot>
   <rim:Classification id="cl01" classificationScheme="URN:UUID:AA543740-BDDA-424E-8C96-DF4873BE8500" classifiedObject="SubmissionSet01" nodeRepresentation="04">
    <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>1.2.250.1.213.2.2</rim:Value></rim:ValueList></rim:Slot>
    <rim:Name><rim:LocalizedString value="Hospitalisation de jour"/></rim:Name>
   </rim:Classification>
   <rim:Classification id="cl02" classificationScheme="urn:uuid:00000000-1111-2222-3333-444444444444" classifiedObject="SubmissionSet01" nodeRepresentation="X"/>
   <rim:ExternalIdentifier id="ei01" identificationScheme="urn:uuid:96FDDA7C-D067-4183-912E-BF5EE74998A8" registryObject="SubmissionSet01" value="1.2.250.1.999.3.1">
    <rim:Name><rim:LocalizedString value="XDSSubmissionSet.uniqueId"/></rim:Name>
   </rim:ExternalIdentifier>
   <rim:ExternalIdentifier id="ei02" identificationScheme="554ac39e-e3fe-47fe-b233-965d2a147832" registryObject="SubmissionSet01" value="1.2.250.1.999.2">
    <rim:Name><rim:LocalizedString value="XDSSubmissionSet.sourceId"/></rim:Name>
   </rim:ExternalIdentifier>
   <rim:ExternalIdentifier id="ei03" registryObject="SubmissionSet01" value="279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH">
    <rim:Name><rim:LocalizedString value="XDSSubmissionSet.patientId"/></rim:Name>
   </rim:ExternalIdentifier>
   <rim:ExternalIdentifier id="ei04" identificationScheme="urn:uuid:12345678-1234-1234-1234-123456789abc" registryObject="SubmissionSet01" value="x">
    <rim:Name><rim:LocalizedString value="Local.batchId"/></rim:Name>
   </rim:ExternalIdentifier>
  </rim:RegistryPackage>
  <rim:ExtrinsicObject id="Document01" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
   <rim:Slot name="hash"><rim:ValueList><rim:Value>da39a3ee5e6b4b0d3255bfef95601890afd80709</rim:Value></rim:ValueList></rim:Slot>
   <rim:Slot name="URI"><rim:ValueList><rim:Value>DOC0001.XML</rim:Value></rim:ValueList></rim:Slot>
   <rim:Classification id="cl03" classificationScheme="F0306F51-975F-434E-A61C-C59651D33983" classifiedObject="Document01" nodeRepresentation="11488-4">
    <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>2.16.840.1.113883.6.1</rim:Value></rim:ValueList></rim:Slot>
   </rim:Classification>
   <rim:Classification id="cl04" classificationNode="urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85" classifiedObject="Document01"/>
   <rim:ExternalIdentifier id="ei05" identificationScheme="58A6F841-87B3-4A3E-92FD-A8FFEFF98427" registryObject="Document01" value="279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH">
    <rim:Name><rim:LocalizedString value="XDSDocumentEntry.patientId"/></rim:Name>
   </rim:ExternalIdentifier>
   <rim:ExternalIdentifier id="ei06" identificationScheme="urn:ihe:iti:xds:2007:uniqueId" registryObject="Document01" value="1.2.250.1.999.1.1.4242^20261124103000">
    <rim:Name><rim:LocalizedString value="XDSDocumentEntry.uniqueId"/></rim:Name>
   </rim:ExternalIdentifier>
  </rim:ExtrinsicObject>
  <rim:Classification id="cl05" classifiedObject="SubmissionSet01" classificationNode="urn:uuid:A54D6AA5-D40D-43F9-88C5-B4633D873BDD"/>
 </rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>`

// Point 14 of issue 15: the submission set's uniqueId, sourceId, patientId
// and contentType and the document's patientId and uniqueId are read from
// the scheme variants above (RFC 4122: UUIDs compare case-insensitively;
// with or without urn:uuid:; by the ITI TF-3 name when the scheme is
// missing or unknown), and every reading of a variant, everything not
// understood and the missing size are listed in Tolerated.
func TestParseMetadataSchemeVariants(t *testing.T) {
	m, err := xdm.ParseMetadata(strings.NewReader(iheVariants), 0)
	require.NoError(t, err)
	ss := m.SubmissionSet
	assert.Equal(t, "SubmissionSet01", ss.EntryUUID)
	assert.Equal(t, "1.2.250.1.999.3.1", ss.UniqueID)
	assert.Equal(t, "1.2.250.1.999.2", ss.SourceID)
	assert.Equal(t, "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH", ss.PatientID)
	assert.Equal(t, xdm.Code{Code: "04", Scheme: "1.2.250.1.213.2.2", Display: "Hospitalisation de jour"}, ss.ContentType)
	require.Len(t, m.Documents, 1)
	d := m.Documents[0]
	assert.Equal(t, "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH", d.PatientID)
	assert.Equal(t, "1.2.250.1.999.1.1.4242^20261124103000", d.UniqueID)
	assert.Equal(t, "11488-4", d.Type.Code)
	assert.Equal(t, int64(-1), d.Size, "no size slot: unknown")

	tol := strings.Join(m.Tolerated, "\n")
	for _, want := range []string{
		`classificationScheme "URN:UUID:AA543740-BDDA-424E-8C96-DF4873BE8500" read as urn:uuid:aa543740-bdda-424e-8c96-df4873be8500`,
		`identificationScheme "urn:uuid:96FDDA7C-D067-4183-912E-BF5EE74998A8" read as urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8`,
		`identificationScheme "554ac39e-e3fe-47fe-b233-965d2a147832" read as urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832`,
		`classificationNode "urn:uuid:A54D6AA5-D40D-43F9-88C5-B4633D873BDD" read as urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd`,
		`submission set SubmissionSet01: ExternalIdentifier XDSSubmissionSet.patientId recognised by its name (identificationScheme "")`,
		`submission set SubmissionSet01: ExternalIdentifier with identificationScheme "urn:uuid:12345678-1234-1234-1234-123456789abc" (name "Local.batchId") not understood: ignored`,
		`submission set SubmissionSet01: Classification with classificationScheme "urn:uuid:00000000-1111-2222-3333-444444444444" not understood: ignored`,
		`document Document01: ExternalIdentifier XDSDocumentEntry.uniqueId recognised by its name (identificationScheme "urn:ihe:iti:xds:2007:uniqueId")`,
		`document Document01: Classification with classificationNode "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85" not understood: ignored`,
		`document Document01 has no size: Size left at -1 (unknown)`,
	} {
		assert.Contains(t, tol, want)
	}
	assert.NotContains(t, tol, "has no uniqueId")
	assert.NotContains(t, tol, "has no patientId")

	// What was read writes back in the canonical spelling, without a size
	// slot for the unknown size, and reads back without tolerance but the
	// size and the dropped items.
	var out bytes.Buffer
	_, err = m.Metadata.WriteTo(&out)
	require.NoError(t, err)
	assert.NotContains(t, out.String(), `name="size"`)
	m2, err := xdm.ParseMetadata(&out, 0)
	require.NoError(t, err)
	assert.Equal(t, m.SubmissionSet, m2.SubmissionSet)
	assert.Equal(t, m.Documents, m2.Documents)
	assert.Equal(t, []string{"document Document01 has no size: Size left at -1 (unknown)"}, m2.Tolerated)
}

// What the metadata lacks is said, not left empty silently: identifiers
// and codes MSSanté requires (PDLGC SubmissionSet and DocumentEntry 1..1).
func TestParseMetadataReportsMissing(t *testing.T) {
	const bare = `<SubmitObjectsRequest xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"><RegistryObjectList>
		<RegistryPackage id="SS"/>
		<ExtrinsicObject id="D"><Slot name="size"><ValueList><Value>-3</Value></ValueList></Slot></ExtrinsicObject>
	</RegistryObjectList></SubmitObjectsRequest>`
	m, err := xdm.ParseMetadata(strings.NewReader(bare), 0)
	require.NoError(t, err)
	for _, want := range []string{
		"submission set SS has no uniqueId", "submission set SS has no sourceId",
		"submission set SS has no patientId", "submission set SS has no contentTypeCode",
		"document D has no uniqueId", "document D has no patientId",
		`document D: size "-3" is not a byte count: Size left at -1 (unknown)`,
	} {
		assert.Contains(t, m.Tolerated, want)
	}
	assert.Equal(t, int64(-1), m.Documents[0].Size)
}
