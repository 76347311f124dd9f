// SPDX-License-Identifier: Apache-2.0

package fhir

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
