// SPDX-License-Identifier: Apache-2.0

// Package testenv implements the project's rule for tests that need an
// external component (a Debian package, a daemon, a validation kit): such a
// test skips when the component is missing, except when the environment
// variable MSS_REQUIRE is "all" (as .ci/run sets it), where it fails and
// names the missing component. CI therefore cannot pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequireVar is the environment variable that turns skips into failures.
const RequireVar = "MSS_REQUIRE"

// Required reports whether missing components must fail the test run:
// MSS_REQUIRE is "all", or a comma-separated list naming the component.
func Required(component string) bool {
	v := os.Getenv(RequireVar)
	if v == "all" {
		return true
	}
	for _, c := range strings.Split(v, ",") {
		if strings.TrimSpace(c) == component {
			return true
		}
	}
	return false
}

// Missing stops the test because component is unavailable: t.Fatalf when it
// is required, t.Skipf otherwise. why says what was looked for.
func Missing(t testing.TB, component, why string) {
	t.Helper()
	if Required(component) {
		t.Fatalf("required component %s is missing (%s=%s): %s", component, RequireVar, os.Getenv(RequireVar), why)
		return
	}
	t.Skipf("component %s is missing: %s (set %s=all to make this a failure)", component, why, RequireVar)
}

// LookPath returns the absolute path of the executable file, or stops the
// test through Missing.
func LookPath(t testing.TB, component, file string) string {
	t.Helper()
	p, err := exec.LookPath(file)
	if err != nil {
		Missing(t, component, err.Error())
	}
	return p
}

// Command checks that running name with args succeeds (for example an import
// check of a Python module), or stops the test through Missing.
func Command(t testing.TB, component string, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		Missing(t, component, strings.TrimSpace(name+" "+strings.Join(args, " ")+": "+err.Error()+": "+string(out)))
	}
}
