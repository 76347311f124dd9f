// SPDX-License-Identifier: Apache-2.0

package bal_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/trace"
)

// oppositions is a vendor's record of oppositions, by matricule INS and
// channel; it remembers what it was asked.
type oppositions struct {
	mu      sync.Mutex
	opposed map[bal.OppositionChannel]bool
	fail    error
	asked   []bal.OppositionQuery
}

func (o *oppositions) Opposition(_ context.Context, q bal.OppositionQuery) (*bal.Opposition, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asked = append(o.asked, q)
	if o.fail != nil {
		return nil, o.fail
	}
	if o.opposed[q.Channel] {
		return &bal.Opposition{Recorded: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC), Note: "opposition notée au dossier"}, nil
	}
	return nil, nil
}

type traceLog struct {
	mu  sync.Mutex
	evs []trace.Event
}

func (l *traceLog) Record(_ context.Context, e trace.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
	return nil
}

// The opposition guard (MSS/va1.20, MSS/va1.22): a message about a patient
// who opposed is refused before any connection (the Sender points at a
// port where nothing listens: an attempt would fail with ErrConnect), with
// ErrOpposed and a failed send in the trace naming the rule; the channel
// follows the recipients; a source that fails refuses too.
func TestOppositionGuard(t *testing.T) {
	pki, err := baltest.NewPKI(nil)
	require.NoError(t, err)
	auth, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(t, err)
	tl := &traceLog{}
	src := &oppositions{opposed: map[bal.OppositionChannel]bool{}}
	snd := &bal.Sender{Server: bal.Endpoint{Host: "127.0.0.1", Port: 1}, Trust: &bal.Trust{Roots: []*x509Cert{pki.RootFort.Cert}},
		Auth: auth, Mailbox: trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"}, Trace: tl, Oppositions: src}

	m := report("dr.martin@cabinet.test.mssante.fr")
	patient := m.Documents[0].Header.Patient
	mes, err := patient.MonEspaceSanteAddress()
	require.NoError(t, err)

	// Professional recipient, patient opposed to professional sendings.
	src.opposed[bal.BetweenProfessionals] = true
	_, err = snd.Send(context.Background(), m)
	require.ErrorIs(t, err, bal.ErrOpposed)
	var oe *bal.OppositionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, bal.BetweenProfessionals, oe.Channel)
	assert.Contains(t, err.Error(), "MSS/va1.22")
	assert.NotErrorIs(t, err, bal.ErrConnect, "refused before connecting")
	require.Len(t, src.asked, 1)
	assert.Same(t, patient, src.asked[0].Patient)
	require.Len(t, tl.evs, 1)
	assert.Equal(t, trace.Send, tl.evs[0].Action)
	assert.False(t, tl.evs[0].Response.OK)
	assert.Contains(t, tl.evs[0].Response.Text, "MSS/va1.22")
	assert.Equal(t, m.MessageID, tl.evs[0].MessageID)

	// To the patient's Mon espace santé: asked with the address's
	// matricule; not opposed there, so it goes on (and fails to connect).
	src.asked = nil
	m2 := report(mes)
	m2.ReadReceipt = false
	_, err = snd.Send(context.Background(), m2)
	require.ErrorIs(t, err, bal.ErrConnect, "no opposition to Mon espace santé: the send is attempted")
	require.Len(t, src.asked, 1)
	assert.Equal(t, bal.ToPatient, src.asked[0].Channel)
	want, _ := ins.ParseMonEspaceSanteAddress(mes)
	assert.Equal(t, want, src.asked[0].Matricule)

	// Opposed to Mon espace santé.
	src.opposed = map[bal.OppositionChannel]bool{bal.ToPatient: true}
	_, err = snd.Send(context.Background(), m2)
	require.ErrorIs(t, err, bal.ErrOpposed)
	assert.Contains(t, err.Error(), "MSS/va1.20")

	// Both kinds of recipients: both asked; the source failing refuses.
	src.opposed, src.asked, src.fail = map[bal.OppositionChannel]bool{}, nil, errors.New("patient database down")
	m3 := report(mes, "dr.martin@cabinet.test.mssante.fr")
	m3.ReadReceipt = false
	_, err = snd.Send(context.Background(), m3)
	require.ErrorIs(t, err, bal.ErrOppositionUnknown)
	assert.NotErrorIs(t, err, bal.ErrOpposed)
	src.fail = nil
	src.asked = nil
	_, err = snd.Send(context.Background(), m3)
	require.ErrorIs(t, err, bal.ErrConnect)
	require.Len(t, src.asked, 2)
	assert.Equal(t, bal.ToPatient, src.asked[0].Channel)
	assert.Equal(t, bal.BetweenProfessionals, src.asked[1].Channel)
}
