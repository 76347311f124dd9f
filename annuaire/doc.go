// Package annuaire resolves and checks MSSanté recipients against the
// Annuaire Santé, the national directory of health professionals and
// structures run by the ANS. It holds what its sources share — Mailbox,
// Person, Structure, Code, BALType, Digitization, Source, SplitAddress and
// the shared errors — the offline source, and the Resolver that combines
// them:
//
//   - the bulk extraction Extraction_Correspondance_MSSante (one row per
//     mailbox and structure it is attached to, published daily):
//     ExtractionReader streams it row by row;
//     LoadIndexFile builds an Index for offline lookups by address, RPPS or
//     IDNPS, name prefix, profession, postal code, department and domain;
//     a Directory swaps in a newer Index while lookups go on, and Compare
//     lists the mailboxes created, deleted and changed between two files;
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
//     examples and the ANS IG PDSM StructIdNat. The extraction's
//     "Identification Structure" column holds the IDNST; Structure.ID is
//     the identifier after its type digit, judged by StructureIDValid: RPPS,
//     ADELI, FINESS and SIREN carry a Luhn key, SIRET too but for La
//     Poste's establishments (digits adding up to a multiple of 5; INSEE,
//     python-stdnum); failures are tolerated and counted.
//   - Counting: a mailbox is an address (compared without ASCII case); an
//     address attached to two structures is on two rows. Report.Mailboxes,
//     Index.Domains and Index.ByDomain count and give mailboxes;
//     Report.Rows, Index.Len and the other listings count and give rows.
//   - Extraction: 31 "|"-separated columns (ColumnNames), UTF-8, one header
//     line, no trailing "|", about 536,000 rows and 89 MB in August 2026,
//     some addresses on two rows (two structures); the Dématérialisation
//     raw format is not published, so true/1/O/oui and false/0/N/non are
//     read. Columns are found by name (third-party readers disagree on the
//     " structure BAL" suffix of columns 21–31).
//   - Mon espace santé addresses: <matricule INS>@patient.mssante.fr.
//
// # Performance
//
// LoadIndexFile reads and indexes a file in one parallel pass (one
// goroutine per core, up to 8): parsing, the address and IDNPS tables and
// the name index; the listings by profession, postal code, department and
// domain are built on their first use. On the 536,000-row synthetic
// extraction (88 MB) and a 2-vCPU virtual machine, BenchmarkExtraction
// measured a load in 0.23–0.28 s (0.3–0.5 s, and worse, while other jobs
// held the cores), against 0.94–1.26 s for merely parsing the file with
// Python's csv module, at a peak resident set of 1.9 times the file;
// Lookup 0.15–0.23 µs for rows in the processor caches (0.8–0.9 µs
// otherwise), SearchName about 2 µs for 20 rows, the first use of a
// listing 23–40 ms.
//
// # Errors and health data
//
// Errors wrap sentinels (ErrAddress, the same value as mssante.ErrAddress,
// ErrBALType, ErrHeader, ErrLine, ErrOlder) or are *LineError values naming
// the line and column at fault; the subpackages have their own. Directory
// data is public (open data of health professionals), so errors may quote
// an address or identifier; no patient data passes through this package
// except a Mon espace santé address given
// to Check, which is never logged.
package annuaire
