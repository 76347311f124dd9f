// SPDX-License-Identifier: Apache-2.0

// Package ins handles the patient's national health identity, the INS
// (identité nationale de santé): the matricule INS (NIR or NIA and its
// control key), its assigning authorities, the five INS traits, the RNIV
// identity status, and the forms the INS takes in exchanged documents (CDA
// recordTarget, HL7 v2 CX and sourcePatientInfo of XDS metadata, Mon espace
// santé address).
//
// The rule this package enforces above all: only a qualified identity
// (status QUAL) may carry the matricule INS (RNIV EXI SI 08; FR Core
// FRCorePatientINSProfile: "Le matricule INS ne peut être véhiculé que dans le
// cas d'une identité qualifiée"). Every function that emits a matricule goes
// through Identity.QualifiedINS and fails with ErrNotQualified otherwise,
// while local identifiers (IPP) and traits still flow.
//
// CompareTraits compares two identities trait by trait (birth family name,
// birth given names, first given name, birth date, sex, birth place COG):
// each Equal, Different or Missing after the normalisation the INS rules
// allow (NormalizeName), each normalisation rule written with its source
// in the CompareTraits documentation, plus a similarity score whose
// thresholds are the establishment's. Package mssante/intake decides on it
// which local record a received document belongs to.
//
// Sources of the rules, as recorded in the project's reference notes:
//
//   - NIR structure: décret n° 82-103 art. 4 (INSEE XML library), DILA
//     Service-Public.fr (Algeria 91–94, Morocco 95, Tunisia 96 before
//     independence), Ministère des affaires sociales "Les règles
//     d'identification et d'immatriculation des assurés" (sex 1/2, 97/98
//     overseas, 99 abroad). Months outside 01–12 exist for people registered
//     from an incomplete civil record and are not rejected.
//   - Sex digits 7 and 8 (provisional numbers) come from secondary sources
//     only; they are accepted so that no real NIA is refused.
//   - Control key: 97 − (NIR mod 97), 2A→19 and 2B→18 (python-stdnum
//     stdnum.fr.nir, used as an independent oracle in the tests).
//   - OIDs 1.2.250.1.213.1.4.8/.9/.10/.11: FR Core INS profile slices and the
//     ANS TestContenuCDA 3.0 stylesheet (.11 is INS-NIR de démonstration, not
//     a test NIA); 1.2.250.1.213.1.4.2 is the historical INS-C, never an INS.
//   - recordTarget: ANS TestContenuCDA 3.0 "structuration minimale"
//     schematron (only BR and CL qualifiers; all INS traits required when an
//     INS is present) and IG document core (PatientCDAFHIR mapping).
//   - HL7 v2 forms: ANS XDM logical models (xdm-patient-id,
//     xdm-source-patient-id, xdm-source-patient-info) and the ANS DRIM-M
//     example METADATA.XML.
//
// Differences with python-stdnum, deliberate: stdnum removes spaces and dots,
// maps look-alike Unicode characters such as full-width digits to ASCII and
// upper-cases before checking, and checks only length, characters and key.
// ParseMatricule takes the matricule as given: a stray space or a full-width
// digit is an ErrCharacter that names it and its position (in characters),
// reported before the length is judged. It also rejects sex digits other
// than 1, 2, 7, 8, department 00, commune 000, overseas 970/979 and country
// codes below 100 after 99.
//
// Health data stays out of error strings: an error may quote the identifier
// it judges (a matricule, an OID, a COG) but never a name or a birth date.
package ins
