// SPDX-License-Identifier: Apache-2.0

// Package fhir is a client of the Annuaire Santé FHIR API v2, the ANS
// national directory of health professionals and structures: searches of
// Practitioner, PractitionerRole and Organization (Client.Search,
// Practitioners), who is behind an MSSanté address (ResolveMailbox, which
// makes a *Client the API source of an annuaire.Resolver), the
// practitioners of an organisation (Workplaces) and delta sync (Updates).
// Requests are spaced by a Limiter (default: the gateway's 17 calls per
// second), retried on 429, 502, 503 and 504 with backoff and Retry-After,
// never redirected, and follow only next links to the API's own origin.
//
// Resources are decoded into the FHIR R4 structures of this package
// (Bundle, Practitioner, PractitionerRole, Organization…), written with
// only the elements used; their Mailboxes methods give annuaire.Mailbox
// values, the type both sources of package annuaire share.
//
// The in-process fake of the API, for tests, is annuairetest.Server.
//
// # Sources
//
// The facts implemented here and where they come from (the project's
// reference notes give the exact pages and commits; identifiers are
// described in package annuaire):
//
//   - API base URL https://gateway.api.esante.gouv.fr/fhir/v2, header
//     ESANTE-API-KEY, GET and POST [type]/_search, 30 s timeout, errors as
//     OperationOutcome, 50 results per page by default, opaque
//     [base]/_page?id=… next links, delta by _lastUpdated=ge… limited to 30
//     days, inactive resources as deletions: ANS
//     annuaire-sante-fhir-documentation (version-2 pages, 2026-06-30).
//   - 17 calls per second per application: same documentation,
//     "Obtenir une clé d'API" (changed on 2026-06-30 from 1,000 per
//     minute). Page size ≤ 200 and about 40 technical ids per request:
//     maintainers' advice in issue #372 of that repository.
//   - Mailboxes: ContactPoint profile as-mailbox-mss (system email, FR Core
//     e-mail type MSSANTE of TRE_R256), extension as-ext-mailbox-mss-metadata
//     (type of TRE_R257 PER/ORG/APP/CAB, service, description, digitization,
//     listeRouge): IG "Annuaire Santé" 1.1.0 (ansforge/IG-fhir-annuaire);
//     the legacy v1 resource extension MailboxMSS (value, type, service,
//     digitization…): IG 0.1.0. Its "publication" flag, renamed listeRouge
//     later with no documented polarity, is not interpreted.
//
// # Errors
//
// Errors wrap ErrBundle, ErrPageSize, ErrDeltaTooOld, ErrRedirect,
// ErrResourceType or annuaire.ErrAddress, are an *APIError naming the
// request and the OperationOutcome's issues, or wrap the context's or the
// network's error. The API key is sent in a header only, never in a URL or
// an error.
package fhir
