// SPDX-License-Identifier: Apache-2.0

// Package outbox is a durable outbox for MSSanté messages, with delivery
// tracking reconciled from the DSNs and MDNs that come back (Ségur
// SC.MSS/UX.30, UX.33–35).
//
// A message given to [Outbox.Enqueue] is recorded and made durable (fsync)
// in a [Store] before its first attempt; [Outbox.Run] sends what is due on
// one connection at a time through a [bal.Sender], recording each attempt
// before the first of its messages is handed to the server and each result
// after. A process stopped at any point (killed, the machine failing)
// finds its messages again at [Open]: none lost, none sent again once the
// server accepted it (250 after DATA). Where acceptance cannot be known
// (the connection lost after the final "." and before the reply, or the
// process stopped during an attempt) the message is AcceptanceUnknown: it
// waits for a DSN or an MDN proving it was accepted, and is sent again,
// with the same Message-ID and the same bytes, only when none comes in
// time, so that a receiver can tell both copies one message. Temporary
// failures are retried with a growing backoff up to a limit, permanent
// ones never.
//
// Each recipient goes Queued → Submitted → Relayed or Delivered (DSN) →
// Displayed or Processed (MDN), or Failed with its reason in French (a
// refusal, a failure DSN, an MDN with an integration error 900–906, a Mon
// espace santé bounce, classified by [ClassifyBounce]). Set the outbox as
// [bal.Loop.Reports] and every report the receive loop reads is matched
// with the message it answers (Original-Envelope-Id, Original-Message-ID,
// In-Reply-To, References); one that matches nothing is kept
// ([Outbox.Unmatched]), never dropped. [Outbox.Status], [Outbox.List],
// [Outbox.Awaiting] and [Outbox.FailuresSince] answer a screen's questions.
//
// Enqueue applies the sender's opposition guard ([bal.Sender.Oppositions],
// Ségur MSS/va1.20 and MSS/va1.22) before anything is recorded. Every state
// change is traced (package trace).
//
// The embedded store is [Journal], one append-only file with checksummed
// frames and group commit; a vendor may plug its own database by
// implementing [Store]. The manual is docs/outbox.md; the soak test
// (soak_test.go) proves the guarantees against real Postfix and Dovecot
// with faults injected.
package outbox
