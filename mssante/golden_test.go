// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// wireHeaders keeps the header blocks of a message and of each of its
// parts, with boundaries replaced by a fixed name: the exact wire form
// of everything but the bodies.
func wireHeaders(raw []byte) []byte {
	bnd := regexp.MustCompile(`gomss-[0-9a-f]{24}`)
	names := map[string]string{}
	raw = bnd.ReplaceAllFunc(raw, func(b []byte) []byte {
		if _, ok := names[string(b)]; !ok {
			names[string(b)] = fmt.Sprintf("BOUNDARY%d", len(names)+1)
		}
		return []byte(names[string(b)])
	})
	var out bytes.Buffer
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	out.Write(head)
	out.WriteString("\r\n\r\n")
	for _, part := range bytes.Split(raw, []byte("\r\n--BOUNDARY1\r\n"))[1:] {
		h, _, _ := bytes.Cut(part, []byte("\r\n\r\n"))
		out.WriteString("--\r\n")
		out.Write(h)
		out.WriteString("\r\n\r\n")
	}
	return out.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run Golden -update")
	assert.Equal(t, string(want), string(got), "%s differs from the golden file", name)
}

func TestGoldenWireHeaders(t *testing.T) {
	golden(t, "report.txt", wireHeaders(write(t, reportMessage())))

	m := reportMessage()
	addr, err := m.Documents[0].Header.Patient.MonEspaceSanteAddress()
	require.NoError(t, err)
	m.To, m.EndConversation, m.ReadReceipt = []string{addr}, true, false
	m.ReplyTo = "secretariat@lilas.mssante.fr"
	golden(t, "patient.txt", wireHeaders(write(t, m)))

	orig := received(t, reportMessage())
	ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Error: &mssante.IntegrationINSAbsent, Product: "DEV935997",
		Date: created, MessageID: "<mdn.1@chu-exemple.mssante.fr>"})
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = ack.WriteTo(&b)
	require.NoError(t, err)
	golden(t, "mdn-ko.txt", wireHeaders(b.Bytes()))
}
