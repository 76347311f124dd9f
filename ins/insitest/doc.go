// SPDX-License-Identifier: Apache-2.0

// Package insitest runs a fake INSi téléservice for tests and vendors' CI,
// in the manner of net/http/httptest: NewServer starts it on a loopback
// port and returns its URL, its test PKI and a Close method.
//
//	srv, err := insitest.NewServer(insitest.Options{People: []insitest.Person{p}})
//	defer srv.Close()
//	cred, _ := insi.NewMTLS(srv.PKI.Auto.TLSCertificate())
//	c, _ := insi.New(insi.Config{Endpoint: srv.URL, TLS: srv.ClientTLSConfig(), Credentials: cred, Software: sw})
//
// The fake speaks HTTPS with client certificates like the real service,
// checks every request, and answers from a configurable base of persons.
// Conditions a client meets (faults, slowness, cut connections, malformed
// answers) are queued per request with Server.Enqueue.
//
// # Where each behaviour comes from
//
// From the specification (WSDL DESIR_ICIR_EXP 1.5.0 and its schemas):
// the operations and their wsa:Action, SOAP 1.2 envelopes, the header
// blocks and bodies checked by ValidateRequest (sequences, cardinalities,
// required attributes), the RESULTAT structure, faults with a siram:Erreur
// in Detail and HTTP 500.
//
// From answers observed on the qualification platform (recorded in
// padoa/tlsi-ins, commit 12ef794a663bc6c30fd430b6cdeaa8b47daeb765, and its
// README): CR labels "OK", "Aucune identite trouvee", "Plusieurs identites
// trouvees"; the RESULTAT written in the default namespace; TIQ without
// Prenom (Person.OmitPrenom); the active INS repeated in INSHISTO; NIA
// answers with OID 1.2.250.1.213.1.4.9; FaultUnknownIDAM (siram_100,
// desir_550, with its texts); the code and text of FaultAccessLevel
// (DESIR_560) for a CN other than INSI-AUTO or INSI-MANU.
//
// The fake's own choices, not the service's (whose rules are not
// published): the matching rule of RECSANSVITALE (see Person: exact traits
// after insi.NormalizeName, Prenom equal to the first given name or to the
// whole list) and of RECVITALE; the subcode of FaultAccessLevel; the Code
// and texts of FaultUnavailable (insi_102/siram_40 are from the reference
// notes); the faults insitest_schema (request not following the schemas)
// and insitest_assertion (CPx assertion that does not verify). The fake
// accepts both modes on one address; the service has one address per mode.
//
// The package builds on every platform (no cgo, no signals).
package insitest
