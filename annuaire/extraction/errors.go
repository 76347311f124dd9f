// SPDX-License-Identifier: Apache-2.0

package extraction

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them (or
// annuaire.ErrAddress, annuaire.ErrBALType for a row's values), so that
// callers can branch with errors.Is; the message names the line, column or
// file.
var (
	// ErrHeader: the extraction header lacks a required column or is unusable.
	ErrHeader = errors.New("extraction: header")
	// ErrLine: an extraction line is malformed (see LineError).
	ErrLine = errors.New("extraction: malformed line")
	// ErrOlder: a reload was refused because the file is not newer.
	ErrOlder = errors.New("extraction: not newer than the loaded one")
	// ErrTruncated: the file ends in a line that is not ended by a newline
	// and does not look whole (see the package documentation, "Truncated
	// files"): the file was cut, and what its last line holds is not read.
	ErrTruncated = errors.New("extraction: truncated file")
)

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
