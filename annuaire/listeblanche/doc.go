// SPDX-License-Identifier: Apache-2.0

// Package listeblanche reads the liste blanche of MSSanté, the list of the
// mail domains of the trust space and of the operator certificates allowed
// to serve them, as the ANS publishes it (URL), and answers whether a
// domain or an address is in the trust space: a *List is the Trust source
// of an annuaire.Resolver.
//
// Read verifies the file against its published SHA-256; Parse reads
// without one. DomainASCII gives the comparable form of a domain name.
//
// # Sources
//
// The facts implemented here and where they come from (the project's
// reference notes give the exact pages and commits):
//
//   - Liste blanche: namespace https://listeblanche.mssante.fr/schema,
//     published by the ANS with a "checksum" file holding the SHA-256 in
//     hexadecimal (ansforge/MSS-liste-blanche); every published version
//     lacks the closing root tag; a domain appears once per operator
//     certificate (619 entries, 516 names in 2025-03); names may hold
//     Unicode, compared in A-label form after the mapping of the IDNA
//     Lookup profile (RFC 5891 §5, UTS #46 §4 nontransitional, through
//     golang.org/x/net/idna), so that an NFD name and its NFC twin are one
//     (DomainASCII; why Lookup and not Registration: see DomainASCII).
//     Only the entries of the list are read: what follows </ListeDomaines>
//     is ignored and named in Tolerated. List.Trusted takes a
//     domain or an address (trusted when its domain is listed).
//   - Domain names: A-labels and U-labels, RFC 5890; lookup and
//     registration protocols, RFC 5891 §5 and §4; the mapping, UTS #46
//     (Unicode IDNA Compatibility Processing) §4, nontransitional;
//     hostname syntax, RFC 1123 §2.1.
//
// # Limits
//
// The liste blanche is downloaded from a server and may be replaced in
// transit or on disk by something hostile; the reader bounds what it
// costs (Limits; ReadWithLimits and ParseWithLimits take them, Read and
// Parse apply the defaults), and refuses what goes past them with an
// error wrapping ErrLimit and no list:
//
//   - size, DefaultMaxSize (16 MiB, three times the 2026 list's estimated
//     4.8 MB): the input is read, at most MaxSize+1 bytes, before it is
//     parsed, so a larger file costs those bytes and no parsing (a reader
//     with a Len method, as bytes.Reader, announcing more is refused
//     before it is read);
//   - nesting, DefaultMaxDepth (32 elements deep; the schema's is 4);
//   - elements and attributes together, DefaultMaxElements (500,000;
//     eight times the 2026 list's estimated 61,000 elements);
//   - one XML token (a tag with its attributes, a text, a comment): 1 MiB,
//     fixed; the decoder builds a token whole, a tag of many attributes at
//     about 50 times its size.
//
// Measured on 2026-12-08 (TotalAlloc, amd64): a 70 MB file is refused for
// 16.8 MB allocated (528 MB before these limits, which read up to 64 MiB
// and parsed all of it); 20 MB of nested elements for 16.8 MB (1.9 GB
// before); 15 MB of nesting, which the size allows, for 16.7 MB (the
// input, held once); 15 MB of tags of 100,000 attributes each for 147 MB
// (1.57 GB before, for one tag of 3 million). A list of 15 MiB made of
// real-looking entries (about 48,000) parses for 134 MB.
//
// # Errors
//
// Read and Parse fail with errors wrapping ErrFormat, ErrLimit or
// ErrChecksum; DomainASCII with ErrDomain. What Parse tolerates is listed
// in List.Tolerated rather than failing.
package listeblanche
