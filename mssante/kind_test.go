// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/mssante"
)

// Issue 15 point 10: ReportType has typed constants, and a received
// message says what it is (Kind): a client's message, a DSN (written by a
// server), an MDN, another report.
func TestReportTypeAndKind(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "dsn", "failure-unknown-user.eml"))
	require.NoError(t, err)
	dsn := parse(t, raw)
	assert.Equal(t, mssante.ReportDeliveryStatus, dsn.ReportType)
	assert.Equal(t, mssante.KindDSN, dsn.Kind())
	assert.True(t, dsn.Kind().ServerGenerated())

	orig := received(t, reportMessage())
	ack, err := mssante.NewMDN(orig, mssante.MDNOptions{From: pfi, Product: "DEV1"})
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = ack.WriteTo(&b)
	require.NoError(t, err)
	mdn := parse(t, b.Bytes())
	assert.Equal(t, mssante.ReportDispositionNotification, mdn.ReportType)
	assert.Equal(t, mssante.KindMDN, mdn.Kind())
	assert.True(t, mdn.Kind().IsReport())
	assert.False(t, mdn.Kind().ServerGenerated(), "an MDN is written by the recipient's software")

	assert.Equal(t, mssante.ReportType(""), orig.ReportType)
	assert.Equal(t, mssante.KindMessage, orig.Kind())
	assert.False(t, orig.Kind().IsReport())

	report := func(reportType, machine string) []byte {
		s := "From: <m@b.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
		if reportType != "" {
			s += "report-type=" + reportType + "; "
		}
		return []byte(s + "boundary=R\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\nx\r\n--R\r\nContent-Type: " + machine + "\r\n\r\nA: b\r\n--R--\r\n")
	}
	for _, c := range []struct {
		reportType, machine string
		want                mssante.MessageKind
	}{
		{"Delivery-Status", "message/delivery-status", mssante.KindDSN}, // parameter values compare without case
		{"global-delivery-status", "message/global-delivery-status", mssante.KindDSN},
		{"global-disposition-notification", "message/global-disposition-notification", mssante.KindMDN},
		{"feedback-report", "message/feedback-report", mssante.KindReport},
		{"", "message/delivery-status", mssante.KindDSN}, // no report-type: classified by its machine part
	} {
		m := parse(t, report(c.reportType, c.machine))
		assert.Equal(t, c.want, m.Kind(), "%s / %s", c.reportType, c.machine)
		assert.False(t, m.IsDocumentMessage())
	}

	assert.Equal(t, "message/disposition-notification", mssante.ReportDispositionNotification.MachineType())
	assert.Equal(t, "message/global-delivery-status", mssante.ReportGlobalDeliveryStatus.MachineType())
	for k, want := range map[mssante.MessageKind]string{mssante.KindMessage: "message", mssante.KindDSN: "DSN",
		mssante.KindMDN: "MDN", mssante.KindReport: "report", mssante.MessageKind(9): "MessageKind(9)"} {
		assert.Equal(t, want, k.String())
	}
}
