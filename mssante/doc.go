// SPDX-License-Identifier: Apache-2.0

// Package mssante builds, parses and checks MSSanté messages — the e-mails
// of the French trust space of secure health messaging — and their
// acknowledgements.
//
// # Building (Référentiel socle MSSanté #2, "clients de messagerie")
//
// A Message is written by WriteTo, streaming: the documents' PDFs are read
// from Openers (once for the CDA body inside IHE_XDM.ZIP, once for the PDF
// rendition beside it) and never held; IHE_XDM.ZIP is built by package xdm
// straight into its base64 part. Validate runs first and names every rule
// broken (a *ValidationError of Problems with their rule IDs, wrapping
// ErrInvalid; see "Errors" below):
//
//   - From with the mailbox label (ECO.2.2.7): personal BAL
//     <Titre>_<Prénom>_<NOM>_<Entité>, organisational or applicative BAL
//     <Entité>;
//   - Message-ID, Date, In-Reply-To/References (ECO.2.2.1, ECO.2.2.2), UTF-8
//     text/plain or multipart/alternative body (ECO.2.2.3, ECO.2.2.4);
//   - with documents: subject XDM/1.0/DDM+<libellé> <NOM> <prénom>
//     <JJ/MM/AAAA> (ECO.2.1.3), IHE_XDM.ZIP and the PDF named
//     <AAAAMMJJ>_<type>_<NOM>_<prénom>[_<dossier>].pdf (ECO.2.1.1, ECO.2.1.6),
//     one patient per message;
//   - X-MSS-CODECDA (ECO.2.4.1), X-MSS-INS O/N (ECO.2.4.2) only with
//     documents, X-MSS-NIL on every message (ECO.2.4.3), X-MSS-MES: FIN
//     only towards a patient (ECO.2.2.8), all written with this exact
//     spelling;
//   - Mon espace santé: a patient.mssante.fr recipient is the qualified INS
//     of the documents' patient (ECO.2.2.6), a document masked to the
//     patient cannot go there (CI-SIS send matrix), 25 Mo at most (ENS MES
//     v1.3 §6, as reported); Reply-To, when set, is where the patient's
//     answers go;
//   - size limits (Limits) are enforced while writing: a *SizeError stops
//     the output, and the transport aborts the transaction;
//   - a replacement ("annule et remplace") is a new send whose CDA has
//     relatedDocument RPLC and whose XDM has the RPLC association, linked
//     to the original message (LinkTo); DeletionNotice asks recipients to
//     delete a document.
//
// The DSN request (RFC 3461 NOTIFY, RET, ENVID) is part of the Envelope,
// for the transport; ReadReceipt writes Disposition-Notification-To.
//
// # Parsing and checking
//
// Parse reads any received message (charsets such as ISO-8859-1 converted
// to UTF-8 without installing a global charset reader), its MSSanté
// headers, body, attachments and, when present, the XDM archive and the
// patient's INS from its metadata. IsDocumentMessage recognises document
// messages by attachment or subject; DisplaySubject hides the
// XDM/1.0/DDM+ prefix (SC.MSS/UX.28); FromPatient tells patients' messages
// apart (SC.MSS/UX.25). Check reports every rule of Rules that a message —
// built by gomss or not — breaks, by its Kind: a client's message by the
// Ref#2 rules; a report by RFC 6522 (two or three parts, nothing attached
// beside them) and its own RFC; a DSN, which the operator's server
// writes, by RFC 3464 only (no X-MSS-NIL is asked of it); an MDN, which
// the recipient's software sends, by RFC 8098, the ANS volet on
// acknowledgements and the Ref#2 rules of every sent message.
// CheckMessage also returns the Kind, whose ServerGenerated tells an
// operator's report from a non-compliant message.
//
// Parse holds the message once (Received.Raw) and decodes each part once,
// into one allocation of its decoded size (base64 at its exact size,
// computed from the encoded length); ParseBytes parses a message already
// in memory (as fetched by IMAP) without copying it, Raw being the
// caller's slice. The archive is read from the decoded IHE_XDM.ZIP where
// it lies, and XDM.Verify hashes each document while inflating it.
//
// # Tolerant reading
//
// Senders in the field write mail that breaks MIME; Parse reads what is
// readable and says what it tolerated, one line per defect in
// Received.Problems naming the part ("part 2.1") and, in a header, the
// line number, never the content of a line. It reads the header blocks and splits the
// multiparts itself, over the message it holds (go-message decodes each
// leaf):
//
//   - a header line that is not a field: an indented first line (it
//     continues nothing) and a line whose name before the colon is not a
//     field name are skipped; a line without colon after a field ending
//     in ";" is the continuation of its parameters; any other line
//     without colon ends the header (the blank line is missing) and
//     starts the body; a part without header nor blank line is all body;
//   - a multipart without boundary parameter, or without any delimiter
//     line: its body is read as one text/plain part (RFC 2046 §5.1.1);
//   - no close delimiter: the parts read are kept, the last one running
//     to the end of the body; a delimiter line with text after it is
//     read as the delimiter;
//   - text after the close delimiter (the epilogue, allowed but shown by
//     no reader) is ignored and said;
//   - a Content-Type that does not parse is read as the type/subtype it
//     starts with, else text/plain (RFC 2045 §5.2);
//   - a base64 or quoted-printable body that does not decode, or an
//     unknown transfer encoding: the bytes are kept as received;
//   - text not valid UTF-8 under a UTF-8 or US-ASCII charset, or 8-bit
//     under US-ASCII: kept as is (charsets are not guessed).
//
// Nothing is invented: what is read is what the sender wrote. Those that
// break the structure (all but the epilogue and the charsets) are also
// reported by Check as rule MIME, on every kind of message: a document
// message read in spite of a defect still fails Check. Parse fails
// (ErrParse) only on input without any header (a line that is neither a
// field, a continuation nor the blank line comes before any field), past
// its limits (MaxSize,
// MaxParts, 1 MiB per header block: ErrTooLarge) and beyond 20 levels of
// nesting. Of the 91 messages of enmime's test corpus (testdata/enmime),
// go-message rejects 11 whole, Parse 1, which has no header.
//
// # Acknowledgements
//
// The "accusé de réception" is the DSN (RFC 3464), read by ParseDSN:
// delivered, relayed (what Postfix reports when it hands the message to
// Dovecot over LMTP) and expanded are successes. The "accusé de lecture"
// is the MDN (RFC 8098) as profiled by the ANS volet "Transmission au LPS
// d'un document CDA provenant d'un courriel MSSanté" (struct-msg-mdn,
// error-codes): NewMDN applies its rules (only on request, not automatic
// when Disposition-Notification-To differs from Return-Path, never to a
// report, null return path) and writes "processed" or
// "processed/Error: <code>^<libellé>" with the integration errors 900–906,
// the KO subject and the three parts of RFC 6522 — human text,
// disposition fields, the original message as received, whose
// attachments travel back inside it (see Ack); NewErrorMail writes the
// standard e-mail to an error mailbox when no MDN was asked;
// ParseMDN reads MDNs, including the variants of the ANS example.
//
// # Errors
//
// Problem, ValidationError and ErrInvalid are those of package cda under
// the same names (type aliases and the same sentinel value): one concept,
// one type for the whole module. A message that breaks a rule and a CDA
// header that breaks one both satisfy errors.Is(err, ErrInvalid) and
// errors.As(err, &ve) with a *ValidationError (or *cda.ValidationError)
// target; ve.What is "mssante: invalid message" for a message or an
// acknowledgement, "cda: invalid header" for a header. A Problem keeps the
// error behind it (Problem.Err), and ValidationError unwraps to it: an
// invalid recipient is errors.Is(err, ErrAddress) (the same sentinel as
// annuaire.ErrAddress); an unqualified patient
// recipient, errors.Is(err, ins.ErrNotQualified); a document whose header
// is invalid is the problem ECO.2.1.1 "document N" whose Err is the
// header's own *ValidationError. Check's problems are the same type, with
// the rule identifiers of Rules.
//
// Rule identifiers come from Ref#2 v1.0.1 as cited by secondary sources;
// the project's reference notes (mssante-spec.md) list them with their
// grades. Not found and so not enforced: an official subject for deletion
// notices, the exact unit of "25 Mo" (25,000,000 bytes is used).
package mssante
