// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal/baltest/internal/opserver"
	"github.com/ecdaf744/gomss/internal/testenv"
)

// startCommand runs the command in-process (-json) and returns its
// settings; the command stops when the test ends, and must then return 0.
func startCommand(t *testing.T) opserver.Settings {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() {
		code := run(ctx, []string{"-dir", t.TempDir(), "-json"}, pw, &stderr)
		pw.Close()
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			assert.Zero(t, code, "exit code; stderr:\n%s", stderr.String())
		case <-time.After(time.Minute): // a hang guard
			t.Error("the command did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	go io.Copy(io.Discard, pr)
	var st opserver.Settings
	require.NoError(t, json.Unmarshal([]byte(line), &st))
	return st
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// Non-Go clients use the operator with nothing but its folder: Python's
// smtplib and imaplib (client certificate with SASL EXTERNAL, XOAUTH2 with
// the written token, LOGIN with the password, a revoked certificate
// refused), curl against the API (the long poll, the list, the check of a
// message), openssl s_client (STARTTLS with the client certificate, the
// chain verified against the written CA bundle), and Java's keytool
// reading both PKCS#12 files (modern and legacy) as keystores.
func TestNonGoClients(t *testing.T) {
	python := testenv.LookPath(t, "python3", "python3")
	curl := testenv.LookPath(t, "curl", "curl")
	openssl := testenv.LookPath(t, "openssl", "openssl")
	keytool := testenv.LookPath(t, "keytool", "keytool")
	st := startCommand(t)

	out := runTool(t, python, "testdata/clients.py", st.Dir)
	t.Logf("python:\n%s", out)
	for _, want := range []string{"AUTH EXTERNAL: sent", "AUTH XOAUTH2 (token of operator.json): sent", "revoked certificate refused",
		"AUTHENTICATE EXTERNAL: INBOX selected", "LOGIN with the password"} {
		assert.Contains(t, out, want)
	}

	auth := "Authorization: Bearer " + st.APIToken
	var list struct {
		Total    int `json:"total"`
		Messages []struct {
			ID      int64  `json:"id"`
			Subject string `json:"subject"`
		} `json:"messages"`
	}
	body := runTool(t, curl, "-sS", "--fail-with-body", "-H", auth, st.API+"/api/v1/messages?q=smtplib")
	require.NoError(t, json.Unmarshal([]byte(body), &list), body)
	require.Equal(t, 2, list.Total, body)
	var detail struct {
		Check struct {
			Compliant bool `json:"compliant"`
			Problems  []struct{ Rule string }
		} `json:"check"`
	}
	body = runTool(t, curl, "-sS", "--fail-with-body", "-H", auth, st.API+"/api/v1/messages/"+jsonInt(list.Messages[0].ID))
	require.NoError(t, json.Unmarshal([]byte(body), &detail), body)
	assert.False(t, detail.Check.Compliant, "smtplib's message has no Message-ID of the MSSanté form, no sender label…")
	assert.NotEmpty(t, detail.Check.Problems)
	code := runTool(t, curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", st.API+"/api/v1/messages")
	assert.Equal(t, "401", code, "the API without the token")

	// openssl s_client: STARTTLS on submission with the CPS certificate,
	// the server's chain verified against the written bundle.
	cmd := exec.Command(openssl, "s_client", "-connect", st.SMTP, "-starttls", "smtp", "-CAfile", st.Files["caBundle"],
		"-cert", st.Files["cpsCert"], "-key", st.Files["cpsKey"], "-verify_return_error", "-brief")
	cmd.Stdin = strings.NewReader("QUIT\r\n")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	assert.Contains(t, string(b), "Verification: OK")

	for _, f := range []string{"cpsP12", "cpsP12Legacy", "orgP12", "orgP12Legacy"} {
		out := runTool(t, keytool, "-list", "-keystore", st.Files[f], "-storetype", "PKCS12", "-storepass", st.P12Password)
		assert.Contains(t, out, "PrivateKeyEntry", f)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// lockedBuffer is a strings.Builder safe for a writer goroutine (the
// command's, or os/exec's copier) and the test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
