// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

func seeds(f *testing.F) {
	small := reportMessage()
	small.Documents[0].PDF = mssante.BytesOpener([]byte("%PDF-1.4 tiny"))
	f.Add(write(f, small))
	f.Add([]byte(ansStyleMDN))
	files, err := filepath.Glob(filepath.Join("..", "testdata", "dsn", "*.eml"))
	require.NoError(f, err)
	require.NotEmpty(f, files, "the real DSNs of ../testdata/dsn")
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("Subject: =?iso-8859-1?q?=E9?=\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n--x--\r\n"))
	// enmime's corpus: well-formed and broken MIME (tolerant reading).
	files, err = filepath.Glob(filepath.Join("..", "testdata", "enmime", "*", "*.raw"))
	require.NoError(f, err)
	require.NotEmpty(f, files, "the messages of ../testdata/enmime")
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		require.NoError(f, err)
		f.Add(b)
	}
}

// requireReportError fails unless err is nil, ErrNotReport or ErrParse:
// the only errors a report parser may return.
func requireReportError(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		require.True(t, errors.Is(err, mssante.ErrNotReport) || errors.Is(err, mssante.ErrParse), "%s: unclassified error: %v", what, err)
	}
}

// FuzzParse: any input gives a message or an ErrParse, never a panic,
// ParseBytes gives the same as Parse, and the checker and the acknowledgement parsers cope with what Parse
// returns.
func FuzzParse(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := mssante.Parse(bytes.NewReader(data), &mssante.ParseOptions{MaxSize: 1 << 20})
		inPlace, errInPlace := mssante.ParseBytes(data, &mssante.ParseOptions{MaxSize: 1 << 20})
		if err != nil {
			require.ErrorIs(t, err, mssante.ErrParse, "unclassified error")
			require.EqualError(t, errInPlace, err.Error(), "ParseBytes fails as Parse does")
			return
		}
		require.NoError(t, errInPlace, "ParseBytes")
		require.Equal(t, m, inPlace, "ParseBytes reads what Parse reads")
		_ = m.Check()
		_ = m.DisplaySubject()
		_, err = mssante.ParseMDN(m)
		requireReportError(t, "MDN", err)
		_, err = mssante.ParseDSN(m)
		requireReportError(t, "DSN", err)
	})
}

// FuzzParseReports feeds the report parsers directly with arbitrary
// disposition-notification and delivery-status bodies.
func FuzzParseReports(f *testing.F) {
	f.Add([]byte("Final-Recipient: rfc822;a@b\r\nDisposition: automatic-action/MDN-sent-automatically; processed/Error: 902^x\r\n"))
	f.Add([]byte("Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ct := range []string{"message/disposition-notification", "message/delivery-status"} {
			raw := append([]byte("Content-Type: multipart/report; boundary=B\r\n\r\n--B\r\n\r\nx\r\n--B\r\nContent-Type: "+ct+"\r\n\r\n"), body...)
			raw = append(raw, "\r\n--B--\r\n"...)
			m, err := mssante.Parse(bytes.NewReader(raw), nil)
			if err != nil {
				return
			}
			_, err = mssante.ParseMDN(m)
			requireReportError(t, "MDN", err)
			_, err = mssante.ParseDSN(m)
			requireReportError(t, "DSN", err)
		}
	})
}
