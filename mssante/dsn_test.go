package mssante_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecdaf744/gomss/mssante"
)

// Real DSNs produced by Postfix 3.7 delivering to Dovecot 2.3 on loopback
// (../testdata/dsn/README.md tells how).
func TestParsePostfixDSNs(t *testing.T) {
	cases := []struct {
		file, action, status, rcpt, envid, msgid string
		delivered, failed                        bool
	}{
		{"success-relayed.eml", "relayed", "2.0.0", "medecin.traitant@cabinet.test.mssante.fr", "MSS-20261124-0001", "<20261124.1@hopital.test.mssante.fr>", true, false},
		{"success-relayed.lf.eml", "relayed", "2.0.0", "medecin.traitant@cabinet.test.mssante.fr", "MSS-20261124-0001", "<20261124.1@hopital.test.mssante.fr>", true, false},
		{"failure-unknown-user.eml", "failed", "5.1.1", "dr.inconnu@cabinet.test.mssante.fr", "MSS-20261124-0002", "<20261124.2@hopital.test.mssante.fr>", false, true},
		{"mixed-two-recipients-failure.eml", "failed", "5.1.1", "dr.inconnu@cabinet.test.mssante.fr", "MSS-20261124-0003", "<20261124.3@hopital.test.mssante.fr>", false, true},
		{"mixed-two-recipients-success.eml", "relayed", "2.0.0", "", "MSS-20261124-0003", "<20261124.3@hopital.test.mssante.fr>", true, false},
		{"delay.eml", "delayed", "4.4.1", "dr.absent@injoignable.test.mssante.fr", "", "", false, false},
		{"failure-expired.eml", "failed", "4.4.1", "dr.absent@injoignable.test.mssante.fr", "", "", false, true},
		{"success-delivered-local.eml", "delivered", "2.0.0", "nobody@archives.test.mssante.fr", "", "", true, false},
		{"success-expanded-alias.eml", "expanded", "2.0.0", "archives@archives.test.mssante.fr", "", "", true, false},
	}
	for _, c := range cases {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "dsn", c.file))
		if err != nil {
			t.Fatal(err)
		}
		m := parse(t, raw)
		if m.ReportType != mssante.ReportDeliveryStatus || m.IsDocumentMessage() {
			t.Errorf("%s: report type %q", c.file, m.ReportType)
		}
		d, err := mssante.ParseDSN(m)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(d.Recipients) != 1 || d.ReportingMTA == "" || d.OriginalMessageID == "" {
			t.Fatalf("%s: %+v", c.file, d)
		}
		r := d.Recipients[0]
		if r.Action != c.action || r.Status != c.status || r.Delivered() != c.delivered || r.Failed() != c.failed {
			t.Errorf("%s: %+v", c.file, r)
		}
		if c.rcpt != "" && r.FinalRecipient != c.rcpt {
			t.Errorf("%s: final recipient %q", c.file, r.FinalRecipient)
		}
		if c.envid != "" && d.OriginalEnvelopeID != c.envid {
			t.Errorf("%s: envid %q", c.file, d.OriginalEnvelopeID)
		}
		if c.msgid != "" && d.OriginalMessageID != c.msgid {
			t.Errorf("%s: original message id %q", c.file, d.OriginalMessageID)
		}
		if c.failed && (r.DiagnosticCode == "" || strings.Contains(r.DiagnosticCode, "\n")) {
			t.Errorf("%s: diagnostic %q (folded lines must be unfolded)", c.file, r.DiagnosticCode)
		}
		if _, err := mssante.ParseMDN(m); !errors.Is(err, mssante.ErrNotReport) {
			t.Errorf("%s: a DSN is not an MDN: %v", c.file, err)
		}
	}
}
