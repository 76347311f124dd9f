// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/cda"
	"github.com/ecdaf744/gomss/trace"
)

// fileIntoPatient files the ANS test patient's report into her record,
// and refuses to file it anywhere when the document's INS is not the one
// the practice holds for her.
func TestFileIntoPatient(t *testing.T) {
	var evs []trace.Event
	rec := trace.RecorderFunc(func(_ context.Context, e trace.Event) error { evs = append(evs, e); return nil })
	actor := trace.Actor{ID: "810002813839", IDType: "IDNPS"}
	write := func(p *ins.Identity) []byte {
		var b bytes.Buffer
		h := testdocs.Header(p, "11488-4", time.Date(2026, 11, 30, 10, 0, 0, 0, testdocs.Paris))
		require.NoError(t, cda.Write(&b, h, cda.Body{MediaType: cda.MediaTypePDF, Content: bytes.NewReader(testdocs.PDF("CR", 300))}))
		return b.Bytes()
	}
	p := testdocs.Patient("test", false)
	s, err := fileIntoPatient(context.Background(), nil, write(p), rec, actor, trace.Mailbox{Address: "jean.dupont@test.mssante.fr"})
	require.NoError(t, err)
	assert.Contains(t, s, "filed into record DUPONT-0042 automatically")
	require.NotEmpty(t, evs)
	assert.Equal(t, trace.Integrate, evs[0].Action)

	// a report about the same INS with another birth date: a strict
	// trait differs, nothing is filed
	q := *p
	q.Traits.BirthDate.Day = 29
	_, err = fileIntoPatient(context.Background(), nil, write(&q), rec, actor, trace.Mailbox{Address: "jean.dupont@test.mssante.fr"})
	assert.ErrorIs(t, err, mssante.IntegrationOther)
	assert.ErrorContains(t, err, "traits-different")

	// a report about a patient the practice does not know
	_, err = fileIntoPatient(context.Background(), nil, write(testdocs.Patient("nir", false)), rec, actor, trace.Mailbox{Address: "jean.dupont@test.mssante.fr"})
	assert.ErrorContains(t, err, "no-candidate")
}
