// SPDX-License-Identifier: Apache-2.0

// Package extraction reads the Annuaire Santé's daily bulk extraction
// Extraction_Correspondance_MSSante (one row per MSSanté mailbox and
// structure it is attached to) and answers offline lookups from it:
//
//   - ExtractionReader streams the file row by row, one line in memory;
//   - LoadIndexFile (or LoadIndex) builds an Index: exact lookups by
//     address (ASCII case-insensitive) and by RPPS, ADELI or IDNPS,
//     name-prefix search (case and accent insensitive), listings by
//     profession, postal code, department and domain;
//   - a Directory swaps in the next day's Index while lookups go on (it is
//     an annuaire.MailboxLookup, the Resolver's offline source), and
//     Compare lists the mailboxes created, deleted and changed between two
//     files.
//
// Rows are annuaire.Mailbox values, shared with the FHIR API client
// (annuaire/fhir), so a program handles both sources alike.
//
// # Sources
//
//   - Format: 31 "|"-separated columns (ColumnNames), UTF-8, one header
//     line, no trailing "|", about 536,000 rows and 89 MB in August 2026,
//     some addresses on two rows (two structures). Columns are found by
//     name (third-party readers disagree on the " structure BAL" suffix of
//     columns 21–31). The Dématérialisation raw format is not published, so
//     true/1/O/oui and false/0/N/non are read.
//   - The "Identification Structure" column holds the IDNST
//     (urn:oid:1.2.250.1.71.4.2.2, TRE_G07 type digit + identifier: 1 +
//     FINESS, 2 + SIREN, 3 + SIRET, 4 + RPPS rang: FR Core, the ANS IG PDSM
//     StructIdNat); annuaire.Structure.ID is the identifier after its type
//     digit, judged by StructureIDValid: RPPS, ADELI, FINESS and SIREN
//     carry a Luhn key, SIRET too but for La Poste's establishments (digits
//     adding up to a multiple of 5; INSEE, python-stdnum); failures are
//     tolerated and counted (Tolerated.BadChecksum).
//   - Counting: a mailbox is an address (compared without ASCII case); an
//     address attached to two structures is on two rows. Report.Mailboxes,
//     Index.Domains and Index.ByDomain count and give mailboxes;
//     Report.Rows, Index.Len and the other listings count and give rows.
//
// # Performance
//
// LoadIndexFile reads and indexes a file in one parallel pass (one
// goroutine per core, up to 8): parsing, the address and IDNPS tables (16
// shards of open addressing over hash/maphash, each filled in file order)
// and the name index; the listings by profession, postal code, department
// and domain are built on their first use. Index.Find answers whether an
// address is listed, and where (a Row): it reads two places in memory, the
// table slot (which holds where the row's line and the address in it are)
// and the address in the line, and cuts nothing. Index.Lookup is Find and
// Row.Mailbox, which cuts the line into the Mailbox. On the 536,000-row
// synthetic extraction (88 MB) and a 2-vCPU virtual machine,
// BenchmarkExtraction measured (2026-12-07): a load in 1.1 s against
// 2.6–4.8 s for merely parsing the file with Python's csv module (4.4
// times faster, eight jobs sharing the two vCPUs), at a peak resident set
// of 1.80 times the file; on a quiet machine, Find 89–98 ns for about
// 1,000 addresses looked up in turn and 318–349 ns over one row in 8,
// against 81–86 and 230–262 ns for a plain Go map of the lower-cased
// addresses; Lookup 0.37–0.39 and 0.62–0.65 µs, level with the map
// building the same Mailbox. See docs/performance.md.
//
// # Truncated files
//
// A download cut short leaves a file whose last line is incomplete: its
// address may be cut ("noel.doe@phar") and every row after it is missing.
// Such a file is refused, by ExtractionReader.Next (after the rows before
// the cut) and by LoadIndex, LoadIndexFile and Directory.LoadFile (no
// index; a Directory keeps the one it has), with an error wrapping
// ErrTruncated that names the last line; the cut line is never read.
//
// Whether the ANS ends its file with a newline is not established: no raw
// copy of the end of a real extraction was found (the project's reference
// notes on the file, annuaire.md §5.1 and field-notes.md, say nothing of
// it; the synthetic fixtures end with one). So a last line that no newline
// ends is read when nothing in it shows a cut, and refused when it could
// be one, which is when:
//
//   - it has fewer columns than the header (a cut before the last "|",
//     which is the case of any cut address in the published layout, where
//     the address is column 2 of 31);
//   - its last column is the address (nothing tells a cut address from a
//     whole one);
//   - its last value is empty (a cut just after the last "|"), ends inside
//     a UTF-8 sequence, or is the proper start of a value that column holds
//     on an earlier line and no such value itself ("FRAN" when "FRANCE" is
//     listed before; the reader remembers the first 256 distinct values of
//     up to 256 bytes);
//   - it is the header (a header alone, no row after it);
//   - it is longer than a line may be.
//
// A cut at a line boundary leaves a whole, shorter file, which no reader
// can tell from a smaller extraction: compare Report.Rows with the
// previous day's (about 536,000 rows; about 340 created and 480 deleted a
// day in 2026, annuaire.md §5.1) to catch it.
//
// # Errors and health data
//
// Errors wrap sentinels (ErrHeader, ErrLine, ErrOlder, ErrTooLarge,
// ErrTruncated, and annuaire.ErrAddress or annuaire.ErrBALType for a row's
// values) or are *LineError values naming the line and column at fault. Directory data is
// public (open data of health professionals), so errors may quote an
// address or identifier; no patient data passes through this package.
package extraction
