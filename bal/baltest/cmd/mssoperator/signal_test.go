// SPDX-License-Identifier: Apache-2.0

//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal/baltest/internal/opserver"
)

// The built command, started as a CI job starts it: it prints its
// settings, writes only into its folder, and SIGTERM stops it cleanly
// (exit status 0, "stopping" said, its ports closed).
func TestSIGTERMStopsCleanly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "mssoperator")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	work := t.TempDir()
	dir := filepath.Join(work, "op")
	cmd := exec.Command(bin, "-dir", dir, "-json")
	cmd.Dir = work
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	var st opserver.Settings
	require.NoError(t, json.Unmarshal([]byte(line), &st))

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status; stderr: %s", stderr.String())
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("SIGTERM did not stop the command")
	}
	assert.Contains(t, stderr.String(), "stopping")
	entries, err := os.ReadDir(work)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the command wrote only its folder")
	assert.Equal(t, "op", entries[0].Name())
	for _, addr := range []string{st.SMTP, st.SMTPS, st.IMAP, st.IMAPS, strings.TrimPrefix(st.API, "http://")} {
		c, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		assert.Error(t, err, "%s still listening", addr)
	}
}
