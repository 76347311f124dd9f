// SPDX-License-Identifier: Apache-2.0

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
// memory. Header.Validate, the strict judge for what gomss writes, refuses
// with a *ValidationError naming each element and rule what the ANS
// validators (CDA schema + "structuration minimale" schematron of
// TestContenuCDA 3.0) would reject — missing mandatory element, code outside
// its value set, malformed identifier — and, marked Problem.WriteOnly,
// what gomss's own stricter rules refuse: the data XDS metadata needs
// (organisation names, the author's specialty), the forms of the national
// identifiers, an identifier where the CDA admits a nullFlavor, the local
// identity status. The patient comes from package ins: the matricule INS is
// written only for a qualified identity (ins.Identity.RecordTarget is the
// single gate).
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
//   - documentationOf/serviceEvent: the first one (the principal act) with
//     effectiveTime/low and one performer PRF (SMDS_CDAClinicalDocument);
//     wherever there is a performer, its representedOrganization with a
//     standardIndustryClassCode from JDV_J04 (CI-SISDocumentationOf); a
//     later act may have neither performer nor practice setting;
//   - componentOf/encompassingEncounter with effectiveTime and
//     healthCareFacility/code from JDV_J02.
//
// # Errors: one validation error for the module
//
// Every judgement of gomss against rules — Header.Validate (and so Write
// and xdm.Writer.AddCDA), Document.Validate, and in package mssante
// Message.Validate, Message.WriteTo, Ack.WriteTo and the Check of a
// received message — reports the same Problem type (rule identifier,
// field or element path, sentence, WriteOnly, cause), and every refusal
// is the same *ValidationError wrapping the same ErrInvalid. They are
// defined here, in the lowest package that judges, and package mssante
// names them by type aliases (mssante.Problem, mssante.ValidationError)
// and the same sentinel value (mssante.ErrInvalid): errors.Is and
// errors.As give the same answer whichever package's name the caller
// uses. ValidationError.What tells what was judged ("cda: invalid
// header", "mssante: invalid message") and starts the error's text.
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
// Reading is tolerant: missing elements leave zero values, and what CI-SIS
// forbids but the field contains (a family qualifier SP, several
// recordTargets, a missing realmCode or typeId…) is accepted and listed in
// Document.Tolerated. Entities declared in a DTD are never expanded
// (encoding/xml does not support them: such input is an error).
//
// # Judging a received document
//
// Document.Validate judges a received document by what its header says,
// with the StrucMin rules (TestContenuCDA 3.0, scenario
// 1.2.250.1.213.1.1.1.1.4.2) on the elements gomss reads, without defaults
// and without the local identity status a received identity cannot have.
// Header.Validate is not the tool for that: it judges what Write would
// write (a read header has no identity status, which it reports, and its
// defaults would fill what the document lacks).
//
// Document.Validate judges: the ClinicalDocument (classCode, moodCode,
// realmCode, typeId, templateIds — exactly the three level-1 ones with a
// nonXMLBody —, id, code in JDV_J07, title, effectiveTime,
// confidentialityCode, languageCode, setId, versionNumber, the presence of
// a body); the recordTarget (patientRole/id, name with family and given,
// family and given qualifiers BR or CL only, administrativeGenderCode in
// JDV_J143, birthTime, and the INS traits rule); authors (time, id root and
// extension, functionCode in JDV_J47, code in JDV_J01, name, device names,
// IDNST extensions); the custodian (id, root IDNST or 1.2.250.1.213.4.1);
// the legalAuthenticator (signatureCode S, time, id, code, name); every
// documentationOf/serviceEvent (the principal act's performer and
// effectiveTime, effectiveTime/low, code and codeSystem, one performer PRF
// with an id, a representedOrganization and a standardIndustryClassCode in
// JDV_J04, performer/time); relatedDocument RPLC; componentOf (location,
// healthCareFacility/code in JDV_J02, effectiveTime with the DTr1 IVL_TS
// rules); and the DTr1 rules of the II and TS datatypes on those elements.
// Value sets are compared by code alone, as StrucMin compares them.
//
// It does not judge, so it may accept a document the ANS kit refuses for:
// the CDA schema beyond typeId (element order, datatypes, the body);
// elements gomss does not read (participant, informant,
// informationRecipient, authenticator, dataEnterer, inFulfillmentOf,
// authorization, encompassingEncounter's code, responsibleParty,
// encounterParticipant and dischargeDispositionCode, serviceEvent code
// translations, addr and telecom anywhere); the warnings of StrucMin's
// "closed" rules (unexpected elements), which never fail a document.
//
// TestValidateAgreesWithANSKit runs Document.Validate and the ANS kit over
// 200 official examples (TestContenuCDA 3.0 ExemplesCDA at the kit's commit
// and in its history, TestContenuCDA 2.41 ExemplesCDA; ../../testdata/ans-examples/README.md),
// every document the tests write, and 40 mutations of them: the verdicts
// agree, and so do the reasons on the elements judged. The remaining
// disagreements, all on mutations, are these:
//
//   - a typeId with another extension than POCD_HD000040: the kit passes it
//     (StrucMin's rules fire only on POCD_HD000040, the CDA schema fixes
//     only the root), Document.Validate refuses it (CI-SIS: typeId
//     2.16.840.1.113883.1.3 / POCD_HD000040 [1..1]);
//   - a participant with a functionCode outside JDV_J47: the kit refuses
//     it, Document.Validate does not read participants;
//   - header elements out of the CDA schema's order: the kit refuses them,
//     Document.Validate does not apply the schema's order.
//
// The validity of a received INS (its control key) is not a StrucMin
// rule: the reader reports it in Document.PatientErr.
//
// Times: TS keeps the precision and whether an offset was written; XDS
// metadata wants UTC (TS.UTC). The CI-SIS text fixing whether effectiveTime
// must carry an offset was not found; this package always writes one.
package cda
