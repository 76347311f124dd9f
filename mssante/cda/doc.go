// Package cda builds and reads CDA R2 documents as the French CI-SIS
// ("cadre d'interopérabilité des SI de santé") defines them for MSSanté
// exchanges.
//
// # Building
//
// Write turns a Header and a Body (a PDF or plain text, read once) into a
// level-1 document (non-structured body, IHE XDS-SD): the header is
// validated first, then written, then the body is base64-encoded into
// component/nonXMLBody/text as it is read, so a 10 MB PDF is never held in
// memory. Validate refuses, with a *ValidationError naming each element and
// rule, what the ANS validators (CDA schema + "structuration minimale"
// schematron of TestContenuCDA 3.0) would reject: missing mandatory element,
// code outside its value set, malformed identifier. The patient comes from
// package ins: the matricule INS is written only for a qualified identity
// (ins.Identity.RecordTarget is the single gate).
//
// Header rules and their sources (see also ../../README.md):
//
//   - realmCode FR, typeId POCD_HD000040, templateIds 2.16.840.1.113883.2.8.2.1,
//     1.2.250.1.213.1.1.1.1 and, for a level-1 body, 1.3.6.1.4.1.19376.1.2.20
//     only (StrucMin SMDS_CDAClinicalDocument);
//   - title, setId and versionNumber mandatory (StrucMin); setId shared by all
//     versions, relatedDocument typeCode RPLC for a replacement (StrucMin
//     CI-SISRelatedDocument; IG document core, en-tête);
//   - code from JDV_J07 (1.2.250.1.213.1.1.5.471), confidentialityCode N/R/V
//     (2.16.840.1.113883.5.25), languageCode ll-CC;
//   - authors: time, id, code from JDV_J01, name/family, representedOrganization
//     id under 1.2.250.1.71.4.2.2; a device needs manufacturerModelName and
//     softwareName;
//   - legalAuthenticator once, signatureCode S;
//   - documentationOf/serviceEvent with effectiveTime/low on the first one,
//     performer PRF with standardIndustryClassCode from JDV_J04;
//   - componentOf/encompassingEncounter with effectiveTime and
//     healthCareFacility/code from JDV_J02.
//
// Identifier forms: IDNPS = "8"+RPPS or "0"+ADELI under 1.2.250.1.71.4.2.1,
// IDNST = type digit + identifier ("1"+FINESS, "3"+SIRET…) under
// 1.2.250.1.71.4.2.2 (ANS interop-ig-portabilite, StructIdNat).
//
// Value sets come from package nos, generated from the published NOS files.
//
// # Reading
//
// Reader (and ReadHeader) read the header of any CI-SIS CDA, level 1 or
// structured level 3, produced by others. Reading stops at the body, so the
// header of a document of tens of megabytes costs the same as a small one;
// Reader.Body then streams the decoded content of a level-1 body if asked.
// Reading is tolerant: missing elements leave zero values (Header.Validate
// tells what the rules require), and what CI-SIS forbids but the field
// contains (a family qualifier SP, several recordTargets…) is accepted and
// listed in Document.Tolerated. Entities declared in a DTD are never
// expanded (encoding/xml does not support them: such input is an error).
//
// Times: TS keeps the precision and whether an offset was written; XDS
// metadata wants UTC (TS.UTC). The CI-SIS text fixing whether effectiveTime
// must carry an offset was not found; this package always writes one.
package cda
