// SPDX-License-Identifier: Apache-2.0

// Package nos holds the French CI-SIS "nomenclatures des objets de santé"
// (NOS) that a CDA R2 header and the XDS metadata of an IHE XDM archive are
// coded from: the value sets (JDV) of the XDS DocumentEntry and
// SubmissionSet attributes, and the association tables (ASS) that deduce
// classCode and formatCode.
//
// The tables are Go data generated from the published files
// (tables_gen.go, written by ./internal/gennos; run go generate after
// updating a source). Each carries its Name, OID, Version (the date the
// source gives) and Source (repository@commit:path, or the canonical URL and
// version). Lookups build an index on first use; importing the package
// costs nothing.
//
// # Value sets
//
//	variable                   NOS table                                    OID                       source
//	J01AuthorSpecialty         JDV_J01-XdsAuthorSpecialty-CISIS             1.2.250.1.213.1.1.5.461   ANS CDA kit
//	J02HealthcareFacilityType  JDV_J02-XdsHealthcareFacilityTypeCode-CISIS  1.2.250.1.213.1.1.5.466   ANS CDA kit
//	J03ContentType             JDV_J03-XdsContentTypeCode-CISIS             1.2.250.1.213.1.1.5.464   ANS terminology IG (FHIR)
//	J04PracticeSetting         JDV_J04-XdsPracticeSettingCode-CISIS         1.2.250.1.213.1.1.5.467   ANS CDA kit
//	J06ClassCode               JDV_J06-XdsClassCode-CISIS                   1.2.250.1.213.1.1.5.462   ANS terminology IG (FHIR)
//	J07TypeCode                JDV_J07-XdsTypeCode-CISIS                    1.2.250.1.213.1.1.5.471   ANS CDA kit
//	J08Confidentiality         JDV_J08-XdsConfidentialityCode-CISIS         1.2.250.1.213.1.1.5.463   ANS CDA kit
//	J10FormatCode              JDV_J10-XdsFormatCode-CISIS                  1.2.250.1.213.1.1.5.465   ansforge/IG-terminologie-de-sante (FHIR)
//
// What each is for: J01 authorSpecialty (CDA author/assignedAuthor/code);
// J02 healthcareFacilityTypeCode (componentOf/encompassingEncounter/
// location/healthCareFacility/code); J03 the SubmissionSet contentTypeCode;
// J04 practiceSettingCode (documentationOf/serviceEvent/performer/
// assignedEntity/representedOrganization/standardIndustryClassCode); J06
// classCode; J07 typeCode (= ClinicalDocument/code); J08
// confidentialityCode (CDA N/R/V in 2.16.840.1.113883.5.25, plus the
// metadata-only MASQUE_PS, INVISIBLE_PATIENT and
// INVISIBLE_REPRESENTANTS_LEGAUX in 1.2.250.1.213.1.1.4.13); J10 formatCode.
// The kit tables come from ansforge/TestContenuCDA-3-0 at commit 7cd489b3
// (2025-02-19); the exact versions are in each variable's doc comment.
//
// # Association tables
//
//   - X04TypeClass, ASS_X04-CorrespondanceType-Classe-CISIS
//     (1.2.250.1.213.1.1.4.249, dated 2024-02-23): classCode from typeCode,
//     as the CI-SIS requires ("classCode est déduit de typeCode"); used by
//     ClassForType. Source: the SVS copy in nizarbs2508/InteropStudio2024
//     (the ANS "Interop'Studio" tool), the only published copy found.
//   - A11TemplateFormat, ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS
//     (1.2.250.1.213.1.1.4.331, dated 2024-01-26): formatCode from the
//     templateId of a structured (level 3) CDA model; used by
//     FormatForTemplate. Same source as X04.
//   - A12MediaTypeFormat, ASS_12_CorresMediaTypeCDANonStructure-XdsFormatCode-CISIS
//     (NOS ASS_A12): formatCode from the body media type of a level-1 CDA;
//     used by FormatForMediaType. Source: the FHIR ConceptMap in
//     ansforge/IG-terminologie-de-sante.
//
// # Gaps and known quirks
//
//   - ASS_X04 (2024-02-23) is older than the kit's JDV_J07 (2024-09-27).
//     Types of J07 with no class in X04: 28617-9, 34120-6, 60280-5,
//     78341-5, 89233-1, 101881-1 (ClassForType reports false for them).
//     X04 also keeps rows for types no longer in J07: 10213-7, 11493-4,
//     11526-1, 11528-7, 24611-6, 27899-4, 29550-1, 29551-9, 29554-3,
//     39256-3, 46241-6, 52063-5, 52521-2, 75497-8, CONTACTS-URGENCE,
//     DOCPAT10. Both are facts of the published files, kept as they are.
//   - ASS_A12 as published has no OID, no version and no code systems: the
//     targets' code system and display are taken from JDV_J10, the media
//     type keys have an empty System. It also maps the XDS-SD templateId
//     1.3.6.1.4.1.19376.1.2.20 (not a media type) to
//     urn:ihe:iti:xds-sd:text:2008; the row is kept as published.
//   - ASS_A11 maps the XDS-SD templateId 1.3.6.1.4.1.19376.1.2.20 to five
//     formats (pdf, text, jpeg, rtf, tiff): FormatForTemplate reports false
//     for it; use FormatForMediaType for level-1 documents.
//   - JDV_J03 and JDV_J06 were found only as FHIR ValueSet resources
//     rendered in the ANS terminology IG (v1.12.0 and v1.10.0); the
//     repository holding those renderings could not be identified. Their
//     Source is the canonical URL and version. The OIDs of their code
//     systems (and of J10's) are mapped from the FHIR URLs by the
//     generator, each OID taken from an ANS publication (see
//     internal/gennos/testdata/README.md).
//   - J10 has 20 IHE anatomic-pathology codes (urn:ihe:pat:apsr:…:2010)
//     without a display name in the source.
//
// References: ../shared/reference/ins-cda.md §3–§4 and mssante-spec.md §4.3.
package nos
