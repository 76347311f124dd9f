// SPDX-License-Identifier: Apache-2.0

package nos

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/stretchr/testify/require"
)

// TestRegenerate runs the generator on the ANS CDA kit named by MSS_CDA_KIT
// and the committed non-kit sources, and checks that the result is the
// committed tables_gen.go, byte for byte.
func TestRegenerate(t *testing.T) {
	kit := os.Getenv("MSS_CDA_KIT")
	if kit == "" {
		testenv.Missing(t, "cda-kit", "MSS_CDA_KIT is not set (ANS CDA kit with kit/jeuxDeValeurs)")
		return
	}
	if testing.Short() {
		t.Skip("go run of the generator skipped in -short mode")
	}
	// .ci/run exports an absolute path; a relative one is taken from the
	// working directory, else from the module root (../shared/cda-kit).
	if _, err := os.Stat(kit); err != nil && !filepath.IsAbs(kit) {
		kit = filepath.Join("..", "..", kit)
	}
	abs, err := filepath.Abs(kit)
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(abs, "kit", "jeuxDeValeurs")); err != nil {
		testenv.Missing(t, "cda-kit", err.Error())
		return
	}
	goTool := testenv.LookPath(t, "go", "go")
	out := filepath.Join(t.TempDir(), "tables_gen.go")
	cmd := exec.Command(goTool, "run", "./internal/gennos", "-kit", abs, "-o", out)
	cmd.Env = append(os.Environ(), "MSS_CDA_KIT="+abs)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	want, err := os.ReadFile("tables_gen.go")
	require.NoError(t, err)
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("regenerated tables differ from tables_gen.go at line %d:\n got %s\nwant %s\n(run go generate ./mssante/nos)", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("regenerated tables differ from tables_gen.go in length: %d lines, want %d", len(gl), len(wl))
	}
	if bytes.Contains(got, []byte(abs)) {
		t.Error("generated tables mention the local kit path")
	}
}
