// SPDX-License-Identifier: Apache-2.0

// Package examplecheck has no code of its own: its test checks that every
// godoc example of the module is a program a vendor can copy from
// pkg.go.dev into their own module (issue 16). Each example must be
// playable (go/doc builds it into a complete package main: it uses nothing
// declared in another file of its test package), import no internal
// package of gomss, and compile outside this module with only gomss's
// public packages.
package examplecheck
