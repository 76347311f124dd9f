// SPDX-License-Identifier: Apache-2.0

//go:build race

package testenv

// Race reports whether the test binary was built with the race detector.
// Under it, sync.Pool drops a share of what is put back and every
// allocation is instrumented, so allocation figures are not the program's:
// tests that bound allocations check their bound only when Race is false
// (.ci/run runs them once more without -race).
const Race = true
