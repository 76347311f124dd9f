// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/trace"
)

// smtplibScript sends the same file N times over one connection with
// Python's smtplib (STARTTLS, client certificate) and prints the seconds
// spent, interpreter start-up excluded.
const smtplibScript = `
import smtplib, ssl, sys, time
host, port, ca, cert, key, eml, n, frm, to = sys.argv[1:10]
data = open(eml, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
t0 = time.perf_counter()
s = smtplib.SMTP(host, int(port))
s.starttls(context=ctx)
s.ehlo()
for i in range(int(n)):
    s.sendmail(frm, [to], data)
s.quit()
print(time.perf_counter() - t0)
`

// BenchmarkSendPostfix sends 100 KB MSSanté messages to a real Postfix
// (STARTTLS, client certificate, relayed by LMTP to Dovecot): gomss on one
// connection, building each message or sending it pre-built, then in the
// same run Python's smtplib and swaks sending the same pre-built message
// to the same server. Every sub-benchmark checks that Dovecot stored all
// of them ("lost" metric). Run with -benchtime 1000x.
func BenchmarkSendPostfix(b *testing.B) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(b, err)
	crl, _ := pki.ServeCRL()
	defer crl.Close()
	dc := baltest.StartDovecot(b, baltest.DovecotConfig{PKI: pki})
	pf := baltest.StartPostfix(b, baltest.PostfixConfig{PKI: pki, Dovecot: dc})
	files, err := pki.WriteFiles(b.TempDir())
	require.NoError(b, err)
	auth, _ := bal.NewCertificate(pki.ORG.TLSCertificate())
	snd := &bal.Sender{Server: endpoint2(b, pf.SubmissionAddr), ServerName: "localhost",
		Trust:   &bal.Trust{Roots: []*x509Cert{pki.RootFort.Cert, pki.RootElementaire.Cert}},
		Auth:    auth,
		Mailbox: trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"},
		Trace:   trace.RecorderFunc(func(context.Context, trace.Event) error { return nil }),
	}
	msg := func() *mssante.Message {
		m := report(baltest.CPSUser)
		m.ReadReceipt, m.DSN = false, mssante.DSN{}
		m.Documents[0].PDF = mssante.BytesOpener(testdocs.PDF("CR", 36_000)) // a message of about 100 KB
		return m
	}
	var raw bytes.Buffer
	proto := msg()
	_, err = proto.WriteTo(&raw)
	require.NoError(b, err)
	eml := filepath.Join(b.TempDir(), "m.eml")
	require.NoError(b, os.WriteFile(eml, raw.Bytes(), 0o644))
	b.Logf("message size %d bytes", raw.Len())
	stored := 0
	expect := func(b *testing.B, n int) {
		stored += n
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		got, _ := dc.WaitMessages(ctx, baltest.CPSUser, stored)
		b.ReportMetric(float64(stored-got), "lost")
		stored = got
	}
	perSec := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(raw.Len()), "bytes/msg")
	}
	ctx := context.Background()

	b.Run("gomss-build-and-send", func(b *testing.B) {
		bt, err := snd.Batch(ctx)
		require.NoError(b, err)
		for b.Loop() {
			_, err := bt.Send(ctx, msg())
			require.NoError(b, err)
		}
		bt.Close()
		perSec(b)
		b.StopTimer()
		expect(b, b.N)
	})
	b.Run("gomss-prebuilt", func(b *testing.B) {
		bt, err := snd.Batch(ctx)
		require.NoError(b, err)
		env := proto.Envelope()
		for b.Loop() {
			_, err := bt.SendRaw(ctx, env, proto.MessageID, raw.Bytes())
			require.NoError(b, err)
		}
		bt.Close()
		perSec(b)
		b.StopTimer()
		expect(b, b.N)
	})
	b.Run("gomss-prebuilt-4-connections", func(b *testing.B) {
		env := proto.Envelope()
		b.SetParallelism(2) // 2 × GOMAXPROCS (2) = 4 connections
		// RunParallel's goroutines are not the benchmark's: assert, not
		// require (FailNow must run on the benchmark's goroutine).
		b.RunParallel(func(pb *testing.PB) {
			bt, err := snd.Batch(ctx)
			if !assert.NoError(b, err) {
				return
			}
			defer bt.Close()
			for pb.Next() {
				if _, err := bt.SendRaw(ctx, env, proto.MessageID, raw.Bytes()); !assert.NoError(b, err) {
					return
				}
			}
		})
		perSec(b)
		b.StopTimer()
		expect(b, b.N)
	})
	host, port := hostPort(b, pf.SubmissionAddr)
	b.Run("python-smtplib", func(b *testing.B) {
		if _, err := os.Stat("/usr/bin/python3"); err != nil {
			b.Skip("no /usr/bin/python3")
		}
		b.StopTimer()
		out, err := exec.Command("/usr/bin/python3", "-c", smtplibScript, host, port, files.CABundle, files.ORG.Cert, files.ORG.Key,
			eml, strconv.Itoa(b.N), baltest.ORGUser, baltest.CPSUser).CombinedOutput()
		require.NoError(b, err, "%s", out)
		secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		require.NoError(b, err, "smtplib script output")
		b.ReportMetric(float64(b.N)/secs, "msgs/s")
		expect(b, b.N)
	})
	b.Run("swaks", func(b *testing.B) {
		sw, err := exec.LookPath("swaks")
		if err != nil {
			b.Skip("swaks not installed (Debian package swaks)")
		}
		t0 := time.Now()
		b.StopTimer()
		for i := 0; i < b.N; i++ {
			out, err := exec.Command(sw, "--server", host, "--port", port, "--tls", "--tls-cert", files.ORG.Cert, "--tls-key", files.ORG.Key,
				"--from", baltest.ORGUser, "--to", baltest.CPSUser, "--data", "@"+eml, "--suppress-data", "--silent", "2").CombinedOutput()
			require.NoError(b, err, "swaks: %s", out)
		}
		b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "msgs/s")
		expect(b, b.N)
	})

}

func hostPort(b *testing.B, addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}

func endpoint2(b *testing.B, addr string) bal.Endpoint {
	h, p := hostPort(b, addr)
	n, _ := strconv.Atoi(p)
	return bal.Endpoint{Host: h, Port: n}
}
