// SPDX-License-Identifier: Apache-2.0

// Package intake decides what a receiving system (a DPI, a DUI, an LPS)
// does with a document it received by MSSanté: which local patient it
// belongs to, whether it may be filed there automatically, and what to do
// with duplicates and new versions. This is identitovigilance: a document
// filed in the wrong record is a medical incident, so the package is built
// never to be wrong in the dangerous direction. When in doubt, a person
// decides (the worklist); automatic integration needs every condition
// below, each a Ségur requirement (REM SC.MSS/UX.02–17, SC.CDA/MSS.01–04).
//
// # What the vendor plugs in
//
// The package holds no patient database. It asks the vendor's, through
// three small interfaces:
//
//   - PatientIndex: ByMatricule (records holding a matricule INS) and
//     ByTraits (records that may be the person); both return every match,
//     never a chosen one.
//   - Documents: Held (the versions of a document already integrated) and
//     File (file a document under a patient, marking the version it
//     replaces).
//   - Verifier, optional: the INSi téléservice verifying the received INS
//     (SC.MSS/UX.03–04). Package ins/insi is not imported: adapt
//     *insi.Client with a VerifierFunc (see "INSi" below).
//
// and a Policy, the establishment's rules (SC.MSS/UX.06). Config also
// takes a trace.Recorder: every decision, filing, worklist resolution and
// expiry is traced, fail closed (SC.MSS/UX.37–38).
//
// # In a receive loop
//
//	dec, err := intake.New(intake.Config{Patients: idx, Documents: store, Trace: log,
//		Actor: trace.Actor{ID: idnst, IDType: "IDNST"}, Mailbox: trace.Mailbox{Address: bal}})
//	loop.Handler = func(ctx context.Context, m *mssante.Received) error {
//		docs, err := intake.FromReceived(m) // CDA headers, hashes checked
//		if err != nil {
//			return mssante.IntegrationOther // 906 in the MDN
//		}
//		for i := range docs {
//			d, err := dec.Process(ctx, &docs[i]) // decide, file or put on the worklist
//			if err != nil {
//				return err
//			}
//			if err := d.Err(); err != nil {
//				return err // 900, 902, 903, 905 or 906 in the MDN
//			}
//		}
//		return nil // filed, already held, or on the worklist
//	}
//
// FromReceived reads the CDA headers of the message's archive; a vendor
// that also needs the documents' bytes reads each once itself and calls
// FromHeader (examples/receive-loop does, and sets Document.Ref to where
// it staged the bytes, for Documents.File). Documents on the worklist
// are acknowledged as taken in charge; when a person later rejects one,
// or it expires, the vendor sends the error from the stored message.
//
// # The decision
//
// Decide (and Process, which then acts on it) applies, in order:
//
//  1. SC.CDA/MSS.01: a document without ClinicalDocument/id is rejected
//     (906).
//  2. Fictitious patients (INS-NIR de test 1.2.250.1.213.1.4.10, de
//     démonstration .11, in the header or the submission set): rejected
//     with 902 unless Policy.AcceptTestPatients; even then, a fictitious
//     patient's document never goes into a real record nor a real
//     patient's into a fictitious one (Patient.Test or a test INS).
//  3. Versions, from Documents.Held: the same id and version is a
//     Duplicate (SC.CDA/MSS.01: not filed again, acknowledged as
//     processed); a newer version of the set held makes the document
//     Older (SC.CDA/MSS.02, refused with 900); an older version held makes
//     it a Replace of that version, kept in the history (SC.CDA/MSS.03,
//     relatedDocument RPLC), filed only into the patient the old version
//     is filed under.
//  4. The patient. The document's INS may decide only if it is complete
//     (its five traits: INS/va1.53), agrees with the message (X-MSS-INS,
//     the submission set's patientId: Ref#2 ECO.2.4.2, ECO.2.1.2) and,
//     when a Verifier is configured, INSi confirms it (SC.MSS/UX.03; an
//     active INS INSi returns instead is looked up too: UX.04). The
//     records holding its matricule are looked up (SENTINELLE.20), and
//     those the traits point to (UX.05), every one a Candidate with its
//     trait comparison (ins.CompareTraits) and score.
//  5. Automatic integration (UX.02, UX.07): exactly one candidate, whose
//     INS is the document's (matricule and authority), whose identity is
//     qualified with its INS traits, and whose every strict trait is equal
//     to the document's. On traits only (no usable INS on one side):
//     the same, but only when Policy.AutoOnTraits allows it (UX.08), and
//     never when the document's INS is invalid, incomplete, conflicting or
//     contradicted.
//  6. Everything else goes to the worklist with its reasons and
//     candidates (UX.09–14), or is rejected with 903 / 905 when the policy
//     says so. A lookup that fails sends the document to the worklist, to
//     be decided again.
//
// So, whatever the policy: no automatic integration when a strict trait
// differs or is missing, when two local records are candidates (found by
// the INS, or by the traits with a score of at least
// Policy.CandidateScore), or when
// a fictitious and a real identity meet; and with the default policy none
// either unless the INS is qualified on both sides. A property test over
// generated identities holds these, and a fuzz target feeds Decide
// arbitrary headers.
//
// # The worklist
//
// Process puts undecided documents in the worklist (Pending), one item
// per document id and version, however often it is received; a filing
// that fails goes there too (FilingFailed) rather than being lost. The
// worklist lives in memory: keep Pending's items and Restore them at
// start. A person resolves an item (Resolve): file
// it into a record they chose (a new one they created included), or reject
// it with an integration error; the resolution is traced with that
// person as the actor. Recompute decides again the items a created or
// changed local identity may concern (SC.MSS/UX.15), and files those that
// now qualify. Expire rejects the items older than Policy.Retention
// (SC.MSS/UX.41), so that the sender is told. Stats gives the integration
// statistics: decisions by outcome and reason, integration errors by code
// (SC.MSS/UX.16–17).
//
// # INSi
//
// *insi.Client verifies an INS with Verify; a VerifierFunc adapts it:
//
//	v := intake.VerifierFunc(func(ctx context.Context, id ins.Identity) (intake.Verification, error) {
//		r, err := client.Verify(ctx, id)
//		switch {
//		case errors.Is(err, insi.ErrNotFound), errors.Is(err, insi.ErrSeveralIdentities):
//			return intake.Verification{Result: intake.NotFound}, nil
//		case err != nil:
//			return intake.Verification{}, err // unavailable: worklist, decided again later
//		case r.Verified():
//			return intake.Verification{Result: intake.Confirmed}, nil
//		}
//		out := intake.Verification{Result: intake.Contradicted, Active: r.Search.Result.INS}
//		for _, d := range r.Differences {
//			out.Different = append(out.Different, string(d.Trait))
//		}
//		return out, nil
//	})
//
// (the package's tests run this adapter against ins/insitest, the fake
// INSi).
//
// # What the package does not do
//
// It does not store documents or patients (the vendor's interfaces do),
// does not qualify an identity (a received INS never makes a local
// identity qualified: that takes INSi and an identity document, package
// ins/insi), does not check that the author of a replacement may replace
// (integration error 901 is the vendor's to send), and does not send the
// acknowledgements (package bal does, from the error a handler returns).
// The similarity score is gomss's own measure; no public tolerance for
// fuzzy identity matching exists, so no score ever integrates
// automatically. Sources: the project's reference notes reception.md
// (Ségur REM vague 2 and the final LGC REM, Ref#2, RNIV as explained by
// regional identitovigilance cells) and ins-cda.md; the normalisation
// rules and their sources are in the documentation of ins.CompareTraits.
package intake
