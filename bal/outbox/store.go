// SPDX-License-Identifier: Apache-2.0

package outbox

import "context"

// Store keeps the outbox's records. The outbox is a fold over them: it
// appends a record before acting on it and, when opened, replays them in
// order (Load) to find where every message stands. Journal is the
// embedded default (a file, no server); a vendor can keep the records in
// its own database by implementing Store, for instance with one table of
// records (a sequence number, the JSON of the Record, the Body as a blob)
// and Rewrite as one transaction.
//
// The outbox calls Append from several goroutines, but never two Appends
// at once: the order of Appends is the order of the records. Sync, Body
// and Load may be called concurrently with Append.
type Store interface {
	// Load calls fn with every record, in the order they were appended,
	// without their Body (Body nil). A store that finds its records
	// damaged returns an error wrapping ErrCorrupt.
	Load(ctx context.Context, fn func(*Record) error) error
	// Append adds records after the others, keeping the Body of those
	// that have one. When it returns they are written (a later Load gives
	// them back even if this process is killed) but not necessarily
	// durable against a failure of the machine: Sync makes them so.
	Append(ctx context.Context, recs ...*Record) error
	// Sync returns once every record appended so far is durable (on
	// stable storage). Concurrent callers may share one flush (group
	// commit).
	Sync(ctx context.Context) error
	// Body returns the body kept with the last record carrying one for
	// messageID, or an error wrapping ErrUnknownMessage.
	Body(ctx context.Context, messageID string) ([]byte, error)
	// Rewrite replaces every record with recs, atomically and durably:
	// after a crash, Load gives either the old records or recs. A record
	// of recs without a Body but whose message has one in the store keeps
	// it when KeepBody lists its Message-ID. Used to compact the journal.
	Rewrite(ctx context.Context, recs []*Record, keepBody map[string]bool) error
	// Close releases the store.
	Close() error
}
