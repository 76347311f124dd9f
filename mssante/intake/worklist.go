package intake

import "time"

// Item is a document waiting in the worklist for a person.
type Item struct {
	// Key is the document's Key (id and version): one item per document,
	// however many times it is received.
	Key string
	// Added is when the document first entered the worklist, Expires
	// when the retention ends (SC.MSS/UX.41).
	Added, Expires time.Time
	// Decision is the latest decision on the document: its reasons and
	// candidates (updated by Recompute).
	Decision *Decision
}
