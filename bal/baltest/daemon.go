// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecdaf744/gomss/internal/testenv"
)

// startTimeout bounds how long a daemon may take to listen on its ports.
const startTimeout = 15 * time.Second

// requireRoot stops the test when the process is not root: Dovecot and
// Postfix are started as root and switch to their own users.
func requireRoot(t testing.TB, component string) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, component, fmt.Sprintf("starting %s needs root (euid is %d)", component, os.Geteuid()))
	}
}

// daemonDir creates a temporary directory other users can traverse (the
// daemons' unprivileged processes read their files from it), removed when
// the test ends. t.TempDir cannot be used: its parent is private to root.
func daemonDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "baltest-"+prefix+"-")
	if err != nil {
		t.Fatalf("baltest: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("baltest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// mkdirs creates directories (mode 0755) under dir.
func mkdirs(dir string, names ...string) error {
	for _, n := range names {
		if err := os.MkdirAll(dir+"/"+n, 0o755); err != nil {
			return fmt.Errorf("baltest: %w", err)
		}
	}
	return nil
}

// waitListening waits until every address accepts TCP connections, alive
// reports that the daemon has not exited, or the timeout expires.
func waitListening(addrs []string, alive func() error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if aerr := alive(); aerr != nil {
				return aerr
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nothing listens on %s after %v: %w", a, timeout, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// logTail returns the last lines of a log file, for error messages,
// leaving out the OpenSSL state trace Dovecot's verbose_ssl writes
// ("Debug: SSL: where=..."), which would crowd out everything else.
func logTail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(log %s: %v)", path, err)
	}
	var kept []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if !strings.Contains(l, "Debug: SSL: where=") {
			kept = append(kept, l)
		}
	}
	if len(kept) > lines {
		kept = kept[len(kept)-lines:]
	}
	return "log " + path + ":\n\t" + strings.Join(kept, "\n\t")
}

// run runs a command with a timeout and returns its combined output in the
// error when it fails.
func run(ctx context.Context, env []string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

// processAlive reports whether a process with this PID exists.
func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// killWait sends SIGTERM to pid, waits up to grace for it to go, then sends
// SIGKILL.
func killWait(pid int, grace time.Duration) {
	if pid <= 0 {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for processAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if processAlive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// findBinary returns name from PATH, or else the absolute path fallback
// (PATH often lacks /usr/sbin for non-login shells), or stops the test
// through testenv.Missing.
func findBinary(t testing.TB, component, name, fallback string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return testenv.LookPath(t, component, fallback)
}

// writeServerFiles writes the PKI's files into dir, with leaf (when not
// nil) as the server certificate.
func writeServerFiles(dir string, p *PKI, leaf *Leaf) (Files, error) {
	files, err := p.WriteFiles(dir)
	if err != nil || leaf == nil {
		return files, err
	}
	files.Server, err = WriteLeaf(dir, "server-presented", leaf)
	return files, err
}
