// SPDX-License-Identifier: Apache-2.0

// Package insi is a client of the INSi téléservice of the Assurance
// Maladie, the only source of a patient's INS (matricule NIR or NIA, its
// OID, and the five INS traits from the national reference base). Ségur
// requires calling it when an identity is created and, automatically, when
// a document arrives with an INS (SC.MSS/UX.03–04).
//
// It implements the two operations of WSDL DESIR_ICIR_EXP 1.5.0 (service
// ICIR-v1, SOAP 1.2 document/literal), with the header blocks ContexteBAM
// (Version 01_02), ContexteLPS (Nature CTXLPS, Version 01_00: IDAM, software
// name and version, installation UUID), wsa:Action and wsa:MessageID, and
// wsse:Security in CPx mode:
//
//   - rechercherInsAvecTraitsIdentite (RECSANSVITALE): Client.SearchByTraits
//     for one call, Client.Search for the strategy below;
//   - rechercherInsAvecCarteVitale (RECVITALE): Client.SearchWithVitale.
//
// Every request is written to be valid against the WSDL's schemas (the
// tests validate requests built from many identities with xmllint
// --schema). Answers are read tolerantly where recorded answers differ from
// the schema, and Result.Tolerated says what was tolerated.
//
// # Typical use
//
//	cred, err := insi.NewMTLS(cert) // tls.Certificate, CN INSI-AUTO or INSI-MANU
//	c, err := insi.New(insi.Config{
//		Endpoint:    insi.EndpointQualificationMTLS, // no default
//		Software:    insi.Software{IDAM: idam, Name: "MonDPI", Version: "4.2", Instance: installUUID},
//		Credentials: cred,
//		TLS:         &tls.Config{RootCAs: igcSanteRoots},
//	})
//	sr, err := c.Search(ctx, localTraits)          // RECUP at most
//	switch {
//	case errors.Is(err, insi.ErrNotFound):           // not found with these traits: other criteria
//	case errors.Is(err, insi.ErrSeveralIdentities):  // add traits (COG, other given names)
//	case errors.Is(err, insi.ErrRetryLater):         // service unavailable: later
//	case errors.Is(err, insi.ErrConfiguration):      // IDAM, certificate: a person must act
//	case err != nil:                                 // transport, context
//	}
//	diffs := insi.Compare(sr.Result, local)          // show every difference to the user
//	id, _ := sr.Result.Identity()                    // status RECUP
//	qual, err := insi.Qualify(id, insi.DocumentCheck{ // after a person checked a passport…
//		Document: insi.DocPassport, CheckedBy: user, CheckedAt: time.Now(), Consistent: true})
//
// # Search strategy
//
// Search implements what integrators do (padoa/tlsi-ins, the open-source
// TypeScript client; ANS/GRADeS "conduite à tenir en fonction du retour du
// téléservice INSi"): the first birth given name alone, then each further
// given name alone, then the whole list space separated; the birth family
// name, sex, birth date and, when known, the birth place COG in every call.
// It stops at the first CR 00 or at the first technical error. CR 01
// ("Aucune identite trouvee") means "not found with these traits", never
// "this person has no INS": the traits may be misspelt, other criteria may
// find the person. CR 02 ("Plusieurs identites trouvees") asks for more
// traits: the other given names, then the COG if it was not sent. Every
// call is visible: SearchResult.Attempts holds what was tried and what came
// back, and Config.Observer is told about every call, retries included.
//
// # Status: RECUP, then an explicit Qualify
//
// An INSi answer gives the status RECUP (identité récupérée) at most:
// Result.Identity returns a Recovered identity, which package ins refuses to
// emit (ins.ErrNotQualified). The identity becomes QUAL only through
// Qualify, given a DocumentCheck: a person checked a high-trust identity
// document (passport, identity card…; FR Core
// fr-core-vs-mode-validation-identity-ins) and found it consistent with the
// INSi traits (RNIV). No call of this package qualifies an identity by
// itself. Compare returns every trait on which an answer and a local
// identity differ; a mismatch is for a person to judge, never applied
// silently. Store the INS with Result.ReceivedAt, the date of the answer.
//
// # Verification
//
// WSDL 1.5.0 has no verification operation (a verifierInsAvecTraitsIdentite
// appears in a GIE SESAM-Vitale sample, in no published WSDL); integrators
// verify an INS by searching with the local traits and comparing.
// Client.Verify does that: Search with the identity's traits, then Compare
// the answer with the identity, matricule and OID included (a local
// matricule found in the answer's INSHISTO is reported as Historic).
//
// # Authentication
//
// mTLS (NewMTLS): the structure's IGC-Santé software certificate (gamme ORG,
// client authentication, "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"). Its CN
// must be exactly INSI-AUTO (calls the software makes by itself) or
// INSI-MANU (calls a user triggers); NewMTLS checks it before any call
// (ErrCertificateCN), the service would answer DESIR_560. A PKCS#12 file
// loads with bal.NewCertificateFromPKCS12 (its Cert field).
//
// CPx (NewCPx): a professional's CPS card. Each request carries an
// "assertion PS", a SAML 2.0 assertion (Issuer: the card certificate's
// subject; Subject/NameID: the card's identifier; attributes
// identifiantFacturation and secteurActivite) signed with XML-DSig
// (enveloped, exclusive c14n, rsa-sha256) by the card's key through
// github.com/russellhaering/goxmldsig. The key is any crypto.Signer: with
// bal.OpenCPS, the tls.Certificate that CPS.ConfigureTLS installs holds the
// card's signer, and CPS.Certificate the certificate. The tests verify the
// signature with goxmldsig and with xmlsec1, and sign once with a SoftHSM2
// token.
//
// The server is verified against Config.TLS.RootCAs only (the IGC-Santé
// roots, e.g. from bal.Trust); there is no InsecureSkipVerify. Endpoints
// are named constants (EndpointQualificationMTLS, EndpointProductionMTLS,
// EndpointQualificationCPx); there is no default, an empty endpoint is an
// error, so nothing points at production by omission.
//
// # Errors
//
// CR 01 and 02 are answers: the methods return the *Result and an error
// wrapping ErrNotFound or ErrSeveralIdentities. SOAP faults are *Fault
// (siram subcode, desir_/insi_ code, severity, texts), which match the
// classes a vendor acts on with errors.Is:
//
//   - ErrRetryLater: insi_102 (observed with siram_40), the service is
//     temporarily unavailable. The client retries it itself, with
//     exponential backoff, within Config.Retry (3 attempts by default); it
//     retries nothing else.
//   - ErrConfiguration: desir_550 (ErrUnknownIDAM, observed with siram_100:
//     "Numéro d'autorisation du logiciel inconnu"), DESIR_560
//     (ErrAccessLevel, certificate CN), and the client's own configuration
//     errors. No retry can fix them.
//
// Other failures: *HTTPError (a non-SOAP HTTP answer), ErrMalformedAnswer,
// transport and context errors. Every method takes a context.Context that
// bounds it, retries included. Error strings never hold a trait.
//
// # Traceability
//
// Config.Observer receives a Call for every exchange: who (mode, emitter,
// INSI-AUTO or not), when, operation, wsa:MessageID, correlation of the
// search, attempt, CR or fault code. A Call holds no trait of the patient.
// TraceObserver records Calls as trace.Event values through a
// trace.Recorder.
//
// # What this package does not do
//
// The CNDA authorisation of the software and its IDAM are the vendor's:
// the client sends the IDAM it is given. The real service is reachable only
// with such an authorisation and an IGC-Santé certificate, so this
// module's tests (and CI) run against ins/insitest, a fake built on the
// WSDL's schemas and on answers recorded from the qualification platform;
// nothing here was checked against the real service. The client does not
// read carte Vitale cards (the caller passes what it read), does not store
// identities, does not decide a mismatch, and does not implement INSi
// through Pro Santé Connect (SC.INS/PSC.01, not published). The ContexteBAM
// COUVERTURE block is sent empty in both operations, as integrators do for
// searches by traits; what the service expects there with a carte Vitale is
// not published.
//
// # Sources
//
// WSDL DESIR_ICIR_EXP 1.5.0 and its schemas (CNAM "DESIR ICIR" package,
// redistributed under MIT in padoa/tlsi-ins, commit 12ef794a, src/wsdl);
// the same repository's client, fixtures and README for observed
// behaviour (strategy, header values, emitter from the certificate OU or the
// assertion NameID, the assertion PS, faults desir_550 and DESIR_560, TIQ
// without Prenom, the active INS repeated in INSHISTO, DateDeb before
// IdIndividu, NIA answers); esante-bretagne.fr "La gestion de l'INS" (CR
// 00/01/02 and what to do); gcsguyasis.fr "Téléservice INSi" (recovery and
// verification operations, carte Vitale as the recommended path); FR Core
// (hl7.fr/ig/fhir/core) value set fr-core-vs-mode-validation-identity-ins
// for the documents; the project's reference notes (shared/reference/insi.md)
// for insi_102/siram_40 and the endpoints.
package insi
