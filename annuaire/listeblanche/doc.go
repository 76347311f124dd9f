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
// # Errors
//
// Read and Parse fail with errors wrapping ErrFormat or ErrChecksum;
// DomainASCII with ErrDomain. What Parse tolerates is listed in
// List.Tolerated rather than failing.
package listeblanche
