package examplecheck

import (
	"bytes"
	"go/ast"
	"go/doc"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testenv"
)

const modulePath = "github.com/ecdaf744/gomss"

// program is one godoc example as go/doc presents it on pkg.go.dev: a
// complete package main (doc.Example.Play).
type program struct {
	name string // e.g. "mssante/xdm.ExampleNewWriter"
	dir  string // directory of the program in the vendor module
	src  []byte
}

// TestExamplesAreStandalonePrograms copies every godoc example of the
// module, as go/doc turns it into a program, into a new module that
// requires gomss (replaced by this checkout), and vets them all there: an
// example that uses a helper of another test file, lives in the package
// under test instead of its _test package, imports an internal package
// or does not compile for a vendor fails here.
func TestExamplesAreStandalonePrograms(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every example as a separate program")
	}
	goTool := testenv.LookPath(t, "go", "go")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(gomod), "module "+modulePath+"\n", "the test runs from internal/examplecheck of gomss")

	progs := collect(t, root)
	require.NotEmpty(t, progs)

	vendor := t.TempDir()
	goVersion := "1.26"
	for _, line := range strings.Split(string(gomod), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			goVersion = strings.TrimSpace(v)
		}
	}
	mod := "module example.com/vendor\n\ngo " + goVersion + "\n\n" +
		"require " + modulePath + " v0.0.0-00010101000000-000000000000\n\n" +
		"replace " + modulePath + " => " + strconv.Quote(filepath.ToSlash(root)) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(vendor, "go.mod"), []byte(mod), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(vendor, "go.sum"), sum, 0o644))
	for _, p := range progs {
		dir := filepath.Join(vendor, p.dir)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), p.src, 0o644))
	}

	// The requirements of gomss come from its go.sum and the module cache:
	// nothing is downloaded.
	cmd := exec.Command(goTool, "vet", "./...")
	cmd.Dir = vendor
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		for _, p := range progs {
			if bytes.Contains(out, []byte(p.dir+"/")) || bytes.Contains(out, []byte(p.dir+string(filepath.Separator))) {
				t.Logf("%s, copied as %s/main.go:\n%s", p.name, p.dir, p.src)
			}
		}
		t.Fatalf("go vet of the examples copied into a vendor's module: %v\n%s", err, out)
	}
	t.Logf("%d examples build as standalone programs", len(progs))
}

// collect returns every example of the module's test files as a program,
// and fails the test for each that is not a standalone program using only
// public packages.
func collect(t *testing.T, root string) []program {
	t.Helper()
	var progs []program
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, ex := range doc.Examples(f) {
			name := rel + ": Example" + ex.Name
			if ex.Play == nil {
				t.Errorf("%s is not a standalone program: it uses a name declared in another file, or its file is in package %s instead of an external _test package", name, f.Name.Name)
				continue
			}
			for _, p := range imports(ex.Play) {
				if internal(p) {
					t.Errorf("%s imports %s: a vendor cannot", name, p)
				}
			}
			var src bytes.Buffer
			if err := format.Node(&src, fset, ex.Play); err != nil {
				return err
			}
			dir := strings.NewReplacer("/", "_", ".", "_").Replace(strings.TrimSuffix(rel, ".go")) + "_Example" + ex.Name
			progs = append(progs, program{name: name, dir: dir, src: src.Bytes()})
		}
		return nil
	})
	require.NoError(t, err)
	return progs
}

// imports lists the import paths of a program made by go/doc, which
// writes them in its declarations but not in File.Imports.
func imports(f *ast.File) []string {
	var paths []string
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			for _, s := range g.Specs {
				if p, err := strconv.Unquote(s.(*ast.ImportSpec).Path.Value); err == nil {
					paths = append(paths, p)
				}
			}
		}
	}
	return paths
}

// internal reports whether p is an internal package of gomss.
func internal(p string) bool {
	rest, ok := strings.CutPrefix(p, modulePath)
	return ok && (strings.Contains(rest+"/", "/internal/"))
}
