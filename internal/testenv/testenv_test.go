// SPDX-License-Identifier: Apache-2.0

package testenv

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder stands for a *testing.T so that Fatalf and Skipf can be observed.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

func TestMissing(t *testing.T) {
	for _, tt := range []struct {
		env       string
		wantFatal bool
	}{{"", false}, {"all", true}, {"dovecot, python3-stdnum", true}, {"dovecot", false}} {
		t.Setenv(RequireVar, tt.env)
		r := &recorder{}
		Missing(r, "python3-stdnum", "not installed")
		if tt.wantFatal {
			assert.Contains(t, r.fatal, "python3-stdnum", "MSS_REQUIRE=%q: the failure must name the component", tt.env)
			assert.Empty(t, r.skip, "MSS_REQUIRE=%q: skipped although required", tt.env)
		} else {
			assert.Empty(t, r.fatal, "MSS_REQUIRE=%q: failed although not required", tt.env)
			assert.NotEmpty(t, r.skip, "MSS_REQUIRE=%q: not skipped", tt.env)
		}
	}
}

func TestLookPathAndCommand(t *testing.T) {
	t.Setenv(RequireVar, "all")
	r := &recorder{}
	LookPath(r, "nothing", "gomss-no-such-program")
	assert.NotEmpty(t, r.fatal, "missing program not reported")

	r = &recorder{}
	p := LookPath(r, "sh", "sh")
	assert.NotEmpty(t, p, "sh not found")
	assert.Empty(t, r.fatal)

	r = &recorder{}
	Command(r, "false", "sh", "-c", "exit 3")
	assert.NotEmpty(t, r.fatal, "failing command not reported")
}
