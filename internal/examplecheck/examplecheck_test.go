// SPDX-License-Identifier: Apache-2.0

package examplecheck

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/doc"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
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
	name string // e.g. "mssante/xdm/example_test.go: ExampleNewWriter"
	dir  string // directory of the program in the vendor module
	src  []byte
}

// TestExamplesAreStandalonePrograms copies every godoc example of the
// module, as go/doc turns it into a program, into a new module that
// requires gomss (replaced by this checkout), vets them all there, and
// type-checks each for errors left unchecked. It fails for an example
// that uses a helper of another test file or lives in the package under
// test (go/doc then shows a fragment, not a program), imports an internal
// package, reads the module's testdata, does not compile for a vendor, or
// discards an error.
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
	vendor := writeModule(t, root, gomod, progs)

	// The requirements of gomss come from its go.sum and the module cache:
	// nothing is downloaded.
	goCmd := func(args ...string) ([]byte, error) {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = vendor
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		return append(out, stderr.Bytes()...), err
	}
	if out, err := goCmd("vet", "./..."); err != nil {
		for _, p := range progs {
			if bytes.Contains(out, []byte(p.dir+"/")) || bytes.Contains(out, []byte(p.dir+string(filepath.Separator))) {
				t.Logf("%s, copied as %s/main.go:\n%s", p.name, p.dir, p.src)
			}
		}
		t.Fatalf("go vet of the examples copied into a vendor's module: %v\n%s", err, out)
	}

	out, err := goCmd("list", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}", "./...")
	require.NoError(t, err, "%s", out)
	exports := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if path, file, ok := strings.Cut(sc.Text(), "="); ok && file != "" {
			exports[path] = file
		}
	}
	for _, p := range progs {
		for _, msg := range uncheckedErrors(t, p, exports) {
			t.Errorf("%s: %s", p.name, msg)
		}
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
			switch {
			case ex.Play == nil && !strings.HasSuffix(f.Name.Name, "_test"):
				t.Errorf("%s is in package %s, not %s_test: go/doc shows it as a fragment, not a program", name, f.Name.Name, f.Name.Name)
				continue
			case ex.Play == nil:
				t.Errorf("%s uses a name declared in another file of package %s: go/doc cannot make it a program", name, f.Name.Name)
				continue
			}
			for _, p := range imports(ex.Play) {
				if internal(p) {
					t.Errorf("%s imports %s: a vendor cannot", name, p)
				}
			}
			ast.Inspect(ex.Play, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.Contains(lit.Value, "testdata/") {
					t.Errorf("%s reads %s: a vendor has no such file (inline the fixture)", name, lit.Value)
				}
				return true
			})
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

// writeModule writes a vendor's module holding each program in its own
// directory and requiring gomss, replaced by the checkout at root.
func writeModule(t *testing.T, root string, gomod []byte, progs []program) string {
	t.Helper()
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
	return vendor
}

// uncheckedErrors type-checks p against the export data of its imports
// and lists the errors it drops: an error assigned to the blank
// identifier, or a call whose error result is ignored. Deferred calls
// (cleanup) are allowed, and so are the calls whose error is documented
// to be nil or that only print: fmt.Print, Printf and Println, and the
// methods of bytes.Buffer and strings.Builder.
func uncheckedErrors(t *testing.T, p program, exports map[string]string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", p.src, 0)
	require.NoError(t, err)
	lookup := func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return os.Open(file)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup)}
	_, err = conf.Check("main", fset, []*ast.File{f}, info)
	require.NoError(t, err, "%s", p.name)

	errType := types.Universe.Lookup("error").Type()
	isErr := func(t types.Type) bool { return types.Identical(t, errType) }
	var msgs []string
	report := func(n ast.Node, what string) {
		msgs = append(msgs, fset.Position(n.Pos()).String()+": "+what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.DeferStmt, *ast.GoStmt:
			return false
		case *ast.AssignStmt:
			var results []types.Type
			if len(s.Rhs) == 1 && len(s.Lhs) > 1 {
				if tuple, ok := info.Types[s.Rhs[0]].Type.(*types.Tuple); ok {
					for i := range tuple.Len() {
						results = append(results, tuple.At(i).Type())
					}
				}
			} else {
				for _, r := range s.Rhs {
					results = append(results, info.Types[r].Type)
				}
			}
			for i, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == "_" && i < len(results) && isErr(results[i]) {
					report(l, "error assigned to _")
				}
			}
		case *ast.ExprStmt:
			call, ok := s.X.(*ast.CallExpr)
			if !ok || mayIgnore(info, call) {
				return true
			}
			res := info.Types[call].Type
			if tuple, ok := res.(*types.Tuple); ok && tuple.Len() > 0 {
				res = tuple.At(tuple.Len() - 1).Type()
			}
			if res != nil && isErr(res) {
				report(call, "error result of "+types.ExprString(call.Fun)+" ignored")
			}
		}
		return true
	})
	return msgs
}

// mayIgnore reports whether call is one whose error nobody checks: it only
// prints to standard output, or is documented never to fail.
func mayIgnore(info *types.Info, call *ast.CallExpr) bool {
	var id *ast.Ident
	switch fun := call.Fun.(type) {
	case *ast.Ident:
		id = fun
	case *ast.SelectorExpr:
		id = fun.Sel
	default:
		return false
	}
	fn, ok := info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil {
		return false
	}
	if recv := fn.Signature().Recv(); recv != nil {
		r := types.TypeString(recv.Type(), nil)
		return r == "*bytes.Buffer" || r == "*strings.Builder"
	}
	return fn.Pkg().Path() == "fmt" && (fn.Name() == "Print" || fn.Name() == "Printf" || fn.Name() == "Println")
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
	return ok && strings.Contains(rest+"/", "/internal/")
}
