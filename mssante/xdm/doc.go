// SPDX-License-Identifier: Apache-2.0

// Package xdm writes and reads IHE XDM archives (IHE_XDM.ZIP) as MSSanté
// messages carry them: the CI-SIS "échange de documents de santé" packaging
// of CDA documents with their XDS metadata.
//
// # Layout written
//
//	README.TXT                       sender, organisation, sending application, contents
//	INDEX.HTM                        XHTML list of the documents, link to README.TXT
//	IHE_XDM/SUBSET01/DOC0001.XML     the CDA documents, DOC0002.XML…
//	IHE_XDM/SUBSET01/METADATA.XML    ebRIM 3.0 SubmitObjectsRequest
//
// (ANS InteropStudio IheXdmService; IHE ITI TF-1 XDM; Mediboard CXDMRepository.)
//
// METADATA.XML holds one SubmissionSet (submissionTime, sourceId, uniqueId,
// patientId, contentTypeCode from JDV_J03, author, title), one
// DocumentEntry per document derived from its CDA header (NewDocumentEntry:
// see the mapping there, after ins-cda §4.2 of the project's reference
// notes), a HasMember association per document and, for a replacement, an
// RPLC association from the new entry to the replaced one. Elements are
// written in ebRIM order (Slot, Name, Description, Classification,
// ExternalIdentifier); classification schemes are the IHE ITI TF-3 UUIDs.
// A document entry's SHA-1 and size are computed while the document is
// streamed into the zip, so a document is never held in memory.
//
// patientId is the INS (matricule^^^&OID&ISO^NH) when the identity is
// qualified, otherwise the IPP (^PI): MSSanté then signals the absence of
// INS with X-MSS-INS: N.
//
// entryUUIDs are name-based (EntryUUIDFor the uniqueId): a replacement
// references the replaced entry from the replaced document's id alone.
//
// # Reading
//
// OpenReader accepts archives made by others: IHE_XDM.ZIP or IHE_XDM.zip
// (the caller's concern), any subset folder (SUBSET01, SS000001, Default…),
// names in any case, URIs with or without the folder prefix, METADATA.XML
// with undeclared prefixes and Slots after Classifications (as in ANS's own
// DRIM-M example), scheme UUIDs in upper case or without urn:uuid:, and
// identifiers known only by their ITI TF-3 name (see ParseMetadata); what
// it tolerated, could not understand or did not find is listed in
// Archive.Tolerated. It is safe on hostile input: names that could escape a
// folder are refused (ErrUnsafe), the entry count, total declared size and
// metadata size are capped (Limits, ErrLimit), XML entities declared in a
// DTD are never expanded, and every document read through Document.Open is
// checked against its size and SHA-1 (ErrSizeMismatch, ErrHashMismatch) at
// EOF, or by Close when the reader stopped before: check Close's error.
//
// Not done: the optional XDM "IHE_XDM/SUBSETnn" multi-submission reading
// beyond the first subset (others are listed in Archive.Others); digital
// signatures of XDM content (not used by MSSanté).
package xdm
