package testenv

import (
	"fmt"
	"strings"
	"testing"
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
		if (r.fatal != "") != tt.wantFatal || (r.skip != "") == tt.wantFatal {
			t.Errorf("MSS_REQUIRE=%q: fatal %q skip %q", tt.env, r.fatal, r.skip)
		}
		if tt.wantFatal && !strings.Contains(r.fatal, "python3-stdnum") {
			t.Errorf("failure does not name the component: %q", r.fatal)
		}
	}
}

func TestLookPathAndCommand(t *testing.T) {
	t.Setenv(RequireVar, "all")
	r := &recorder{}
	LookPath(r, "nothing", "gomss-no-such-program")
	if r.fatal == "" {
		t.Error("missing program not reported")
	}
	r = &recorder{}
	if p := LookPath(r, "sh", "sh"); p == "" || r.fatal != "" {
		t.Errorf("sh: %q %q", p, r.fatal)
	}
	r = &recorder{}
	Command(r, "false", "sh", "-c", "exit 3")
	if r.fatal == "" {
		t.Error("failing command not reported")
	}
}
