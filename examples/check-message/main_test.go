// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
)

// run feeds msg to main on its standard input and returns what it printed.
func run(t *testing.T, msg []byte) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.eml")
	require.NoError(t, os.WriteFile(in, msg, 0o600))
	stdin, err := os.Open(in)
	require.NoError(t, err)
	defer stdin.Close()
	stdout, err := os.Create(filepath.Join(dir, "out.txt"))
	require.NoError(t, err)
	defer stdout.Close()
	oldIn, oldOut := os.Stdin, os.Stdout
	os.Stdin, os.Stdout = stdin, stdout
	defer func() { os.Stdin, os.Stdout = oldIn, oldOut }()
	main()
	out, err := os.ReadFile(stdout.Name())
	require.NoError(t, err)
	return string(out)
}

func report(t *testing.T) []byte {
	m := &mssante.Message{
		From:      mssante.Sender{Address: "lps@hopital.test.mssante.fr", Kind: mssante.Applicative, Entity: "Hôpital"},
		To:        []string{"jean.dupont@test.mssante.fr"},
		Text:      "Compte rendu ci-joint.",
		Documents: []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Date(2026, 12, 7, 10, 0, 0, 0, testdocs.Paris)), PDF: mssante.BytesOpener(testdocs.PDF("CR", 2000))}},
		XDM:       xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:   "DEV000000",
	}
	var b bytes.Buffer
	_, err := m.WriteTo(&b)
	require.NoError(t, err)
	return b.Bytes()
}

func TestCompliantReport(t *testing.T) {
	out := run(t, report(t))
	assert.Contains(t, out, "subject: Compte rendu de consultation PAT-TROIS DOMINIQUE 28/03/1979\n")
	assert.NotContains(t, out, "problem:")
	assert.Contains(t, out, "archive intact: true\n")
	assert.Contains(t, out, "patient: 279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH\n")
}

func TestNonCompliantReport(t *testing.T) {
	// Without X-MSS-NIL the message breaks ECO.2.4.3.
	msg := regexp.MustCompile(`(?m)^X-MSS-NIL:.*\r\n`).ReplaceAll(report(t), nil)
	out := run(t, msg)
	assert.Contains(t, out, "problem: ECO.2.4.3")
}

// The README's example is this program, word for word: it cannot rot.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "README has no ```go block starting with package main")
	// The README shows the program without its package doc comment.
	program := src[bytes.Index(src, []byte("package main\n")):]
	assert.Equal(t, strings.TrimSpace(string(program)), strings.TrimSpace(string(block[1])))
}
