// SPDX-License-Identifier: Apache-2.0

// Package annuaire resolves and checks MSSanté recipients against the
// Annuaire Santé, the national directory of health professionals and
// structures run by the ANS. It holds what its sources share — Mailbox,
// Person, Structure, Code, BALType, Digitization, Source, SplitAddress,
// DepartmentOf and the shared errors — and the Resolver that combines
// them. Each source has its package:
//
//   - the bulk extraction Extraction_Correspondance_MSSante (one row per
//     mailbox and structure it is attached to, published daily): package
//     annuaire/extraction (a row reader, an offline Index by address, RPPS
//     or IDNPS, name prefix, profession, postal code, department and
//     domain, a Directory swapping in the next day's Index, Compare);
//   - the FHIR API v2: package annuaire/fhir (Client: searches of
//     Practitioner, PractitionerRole and Organization, mailbox resolution,
//     workplaces, delta sync, rate limiting);
//   - the liste blanche, the domains of the MSSanté trust space: package
//     annuaire/listeblanche (Read, verified against its published SHA-256;
//     domain names in IDNA form).
//
// A Resolver combines them: offline source first (MailboxLookup: a
// *Directory or an *Index), API second (MailboxResolver: a *fhir.Client),
// and Check classifies each recipient, with the trust space (TrustList: a
// *listeblanche.List), as a published MSSanté mailbox (and whether its
// domain is trusted), a trusted domain whose mailbox is not published, a
// Mon espace santé patient address, or unknown, each with the reason. The
// sources are interfaces: the subpackages import this package, never the
// reverse.
//
// Package annuairetest provides a generator of realistic synthetic
// extractions and an in-process fake of the FHIR API for tests.
//
// # Sources
//
// The facts implemented here and where they come from (the project's
// reference notes give the exact pages and commits; those of the FHIR API
// and of the liste blanche are in their packages' documentation):
//
//   - Identifiers: RPPS https://rpps.esante.gouv.fr, IDNPS
//     urn:oid:1.2.250.1.71.4.2.1 (type digit + RPPS or ADELI), IDNST
//     urn:oid:1.2.250.1.71.4.2.2 (TRE_G07 type digit + identifier: 1 +
//     FINESS, 2 + SIREN, 3 + SIRET, 4 + RPPS rang): FR Core, the IG's DP
//     examples and the ANS IG PDSM StructIdNat. Structure.ID is the
//     identifier after its type digit (see extraction.StructureIDValid).
//   - Counting: a mailbox is an address (compared without ASCII case); an
//     address attached to two structures is two Mailbox values, one per
//     structure.
//   - Departments: from the postal code when a source gives none
//     (DepartmentOf: 97x/98x overseas, otherwise the first two digits).
//   - Mon espace santé addresses: <matricule INS>@patient.mssante.fr.
//
// # Errors and health data
//
// Errors wrap sentinels (ErrAddress, the same value as mssante.ErrAddress,
// ErrBALType); the subpackages have their own. Directory
// data is public (open data of health professionals), so errors may quote
// an address or identifier; no patient data passes through this package
// except a Mon espace santé address given
// to Check, which is never logged.
package annuaire
