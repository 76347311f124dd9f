package mssante_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecdaf744/gomss/mssante"
)

func seeds(f *testing.F) {
	small := reportMessage()
	small.Documents[0].PDF = mssante.BytesOpener([]byte("%PDF-1.4 tiny"))
	f.Add(write(f, small))
	f.Add([]byte(ansStyleMDN))
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "dsn", "*.eml"))
	for _, fn := range files {
		if b, err := os.ReadFile(fn); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Subject: =?iso-8859-1?q?=E9?=\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n--x--\r\n"))
}

// FuzzParse: any input gives a message or an ErrParse, never a panic, and
// the checker and the acknowledgement parsers cope with what Parse
// returns.
func FuzzParse(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := mssante.Parse(bytes.NewReader(data), &mssante.ParseOptions{MaxSize: 1 << 20})
		if err != nil {
			if !errors.Is(err, mssante.ErrParse) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		_ = m.Check()
		_ = m.DisplaySubject()
		if _, err := mssante.ParseMDN(m); err != nil && !errors.Is(err, mssante.ErrNotReport) && !errors.Is(err, mssante.ErrParse) {
			t.Fatalf("MDN: unclassified error: %v", err)
		}
		if _, err := mssante.ParseDSN(m); err != nil && !errors.Is(err, mssante.ErrNotReport) && !errors.Is(err, mssante.ErrParse) {
			t.Fatalf("DSN: unclassified error: %v", err)
		}
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
			if _, err := mssante.ParseMDN(m); err != nil && !errors.Is(err, mssante.ErrNotReport) && !errors.Is(err, mssante.ErrParse) {
				t.Fatalf("MDN: %v", err)
			}
			if _, err := mssante.ParseDSN(m); err != nil && !errors.Is(err, mssante.ErrNotReport) && !errors.Is(err, mssante.ErrParse) {
				t.Fatalf("DSN: %v", err)
			}
		}
	})
}
