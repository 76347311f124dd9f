// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.NoError(t, err)
		m := parse(t, raw)
		assert.Equal(t, mssante.ReportDeliveryStatus, m.ReportType, "%s: report type", c.file)
		assert.False(t, m.IsDocumentMessage(), "%s: a DSN is not a document message", c.file)
		d, err := mssante.ParseDSN(m)
		require.NoError(t, err, c.file)
		require.Len(t, d.Recipients, 1, "%s: %+v", c.file, d)
		require.NotEmpty(t, d.ReportingMTA, "%s: Reporting-MTA", c.file)
		require.NotEmpty(t, d.OriginalMessageID, "%s: original message id", c.file)
		r := d.Recipients[0]
		assert.Equal(t, c.action, r.Action, "%s: action", c.file)
		assert.Equal(t, c.status, r.Status, "%s: status", c.file)
		assert.Equal(t, c.delivered, r.Delivered(), "%s: Delivered", c.file)
		assert.Equal(t, c.failed, r.Failed(), "%s: Failed", c.file)
		if c.rcpt != "" {
			assert.Equal(t, c.rcpt, r.FinalRecipient, "%s: final recipient", c.file)
		}
		if c.envid != "" {
			assert.Equal(t, c.envid, d.OriginalEnvelopeID, "%s: envid", c.file)
		}
		if c.msgid != "" {
			assert.Equal(t, c.msgid, d.OriginalMessageID, "%s: original message id", c.file)
		}
		if c.failed {
			assert.NotEmpty(t, r.DiagnosticCode, "%s: diagnostic", c.file)
			assert.NotContains(t, r.DiagnosticCode, "\n", "%s: folded lines must be unfolded", c.file)
		}
		_, err = mssante.ParseMDN(m)
		assert.ErrorIs(t, err, mssante.ErrNotReport, "%s: a DSN is not an MDN", c.file)
	}
}
