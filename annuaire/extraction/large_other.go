// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package extraction

// adviseHuge does nothing outside Linux (see large_linux.go).
func adviseHuge[T any](s []T) {}
