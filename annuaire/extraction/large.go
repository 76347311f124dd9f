// SPDX-License-Identifier: Apache-2.0

package extraction

// makeLarge returns a zeroed slice of n elements for the index's large
// tables. See large_linux.go.
func makeLarge[T any](n int) []T {
	s := make([]T, n)
	adviseHuge(s)
	return s
}
