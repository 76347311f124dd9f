// SPDX-License-Identifier: Apache-2.0

package mssante_test

import (
	"net/mail"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/mssante"
)

// FuzzCheckAddress: an accepted address is an RFC 5322 addr-spec that
// net/mail reads back as itself (a dot-atom local part of at most 64
// bytes, one "@", a domain of at least two LDH labels, at most 254 bytes
// in all); a Mon espace santé address is accepted only with a valid
// matricule; a refusal wraps ErrAddress.
func FuzzCheckAddress(f *testing.F) {
	for _, s := range []string{"secretariat@chu-exemple.mssante.fr", "jean.dupont@medecin.mssante.fr", "279035121518989@patient.mssante.fr",
		"279035121518989@Patient.MSSante.fr", "279035121518988@patient.mssante.fr", "a!#$%&'*+/=?^_`{|}~-@b.c", "pas une adresse",
		"a@b", "@b.c", "a@", "a@@b.c", "a.@b.c", ".a@b.c", "a..b@b.c", "a@-b.c", "a@b-.c", "a@b..c", "a@b.c.", "\"a b\"@c.d",
		"Jean <a@b.c>", "a@b_c.d", "a\x00@b.c", "é@b.c", "a@é.fr", strings.Repeat("a", 65) + "@b.c", "a@" + strings.Repeat("b", 64) + ".c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		err := mssante.CheckAddress(addr)
		if err != nil {
			require.ErrorIs(t, err, mssante.ErrAddress, "CheckAddress(%q)", addr)
			return
		}
		require.LessOrEqual(t, len(addr), 254)
		require.Equal(t, 1, strings.Count(addr, "@"), "%q accepted", addr)
		local, domain, _ := strings.Cut(addr, "@")
		require.NotEmpty(t, local)
		require.LessOrEqual(t, len(local), 64)
		require.GreaterOrEqual(t, strings.Count(domain, "."), 1, "%q accepted", addr)
		a, perr := mail.ParseAddress(addr)
		require.NoError(t, perr, "%q accepted by CheckAddress, refused by net/mail", addr)
		require.Equal(t, addr, a.Address, "%q accepted", addr)
		require.Empty(t, a.Name)
		if mssante.IsPatientAddress(addr) {
			_, merr := ins.ParseMonEspaceSanteAddress(addr)
			require.NoError(t, merr, "%q accepted", addr)
		}
		require.NoError(t, mssante.CheckAddress(addr), "accepted once, refused the next time")
	})
}

// FuzzIntegrationCodeFromSubject: the code KOSubject writes is the code
// read back, whatever the original subject; from any subject, the code
// read is 0 (none) or a positive number written in decimal digits, in
// brackets, right after the first KOPrefix.
func FuzzIntegrationCodeFromSubject(f *testing.F) {
	for _, c := range []struct {
		code     int
		original string
	}{
		{902, "CR de consultation"}, {900, ""}, {906, "[KO Intégration système !][901] déjà"}, {1, "x"}, {123456789, "long"},
		{0, "[KO Intégration système !][+902] signe"}, {0, "[KO Intégration système !][-1] négatif"}, {0, "[KO Intégration système !][ 902] espace"},
		{0, "[KO Intégration système !][9020000000000000000000] trop long"}, {0, "[KO Intégration système !][902"}, {0, "Re: [KO Intégration système !][904] x"},
		{0, "[KO Integration systeme !][902] sans accents"},
	} {
		f.Add(c.code, c.original)
	}
	f.Fuzz(func(t *testing.T, code int, original string) {
		if code > 0 && code < 1e9 {
			subject := mssante.KOSubject(code, original)
			require.Equal(t, code, mssante.IntegrationCodeFromSubject(subject), "%q", subject)
		}
		n := mssante.IntegrationCodeFromSubject(original)
		require.GreaterOrEqual(t, n, 0, "%q", original)
		i := strings.Index(original, mssante.KOPrefix+"[")
		if i < 0 {
			require.Zero(t, n, "%q has no KO prefix", original)
			return
		}
		rest := original[i+len(mssante.KOPrefix)+1:]
		written, _, closed := strings.Cut(rest, "]")
		if n == 0 {
			if closed && written != "" && strings.Trim(written, "0123456789") == "" && len(written) <= 9 {
				v, _ := strconv.Atoi(written)
				assert.Zero(t, v, "%q: code %q not read", original, written)
			}
			return
		}
		require.True(t, closed, "%q: code %d without its closing bracket", original, n)
		require.Empty(t, strings.Trim(written, "0123456789"), "%q: code %d read from %q", original, n, written)
		v, err := strconv.Atoi(written)
		require.NoError(t, err)
		require.Equal(t, v, n, "%q", original)
	})
}

// TestIntegrationCodeFromSubject: the code is read as KOSubject writes
// it; a sign, a space or too many digits is no code (before the change,
// strconv.Atoi read "[+902]" as 902 and "[-1]" as -1, which the outbox
// took for an error code).
func TestIntegrationCodeFromSubject(t *testing.T) {
	for subject, want := range map[string]int{
		mssante.KOSubject(902, "CR"):                 902,
		"Re: [KO Intégration système !][904] CR":     904,
		"[KO Intégration système !][0906]":           906,
		"[KO Intégration système !][907] hors table": 907,
		"[KO Intégration système !][+902] CR":        0,
		"[KO Intégration système !][-1] CR":          0,
		"[KO Intégration système !][ 902] CR":        0,
		"[KO Intégration système !][] CR":            0,
		"[KO Intégration système !][0] CR":           0,
		"[KO Intégration système !][1234567890] CR":  0,
		"[KO Intégration système !][902 CR":          0,
		"[KO Integration systeme !][902] CR":         0,
		"CR de consultation [902]":                   0,
	} {
		assert.Equal(t, want, mssante.IntegrationCodeFromSubject(subject), "%q", subject)
	}
}
