// SPDX-License-Identifier: Apache-2.0

package ins

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseDate: an accepted date is a calendar date (Valid), its String
// (YYYYMMDD) parses back to it, and the input was that String or its
// YYYY-MM-DD form; nothing else is accepted. Found: "00000101" was
// accepted as a Date that is not Valid (year 0).
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"19790328", "1979-03-28", "20000229", "19000229", "2024-02-29", "00000101", "99991231",
		"", "1979032", "19790230", "28/03/1979", "1979-3-28", "19790328 ", "+9790328", "1979-03-28T00:00:00Z", "197903281200"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			require.Zero(t, d, "an error with a date")
			require.True(t, strings.HasPrefix(err.Error(), "ins: date "), "%v", err)
			return
		}
		require.True(t, d.Valid(), "ParseDate(%q) = %+v, not a calendar date", s, d)
		ds := d.String()
		dashed := ds[:4] + "-" + ds[4:6] + "-" + ds[6:]
		require.True(t, s == ds || s == dashed, "ParseDate(%q) = %s: the input is neither %s nor %s", s, d, ds, dashed)
		again, err := ParseDate(ds)
		require.NoError(t, err, "String of ParseDate(%q)", s)
		require.Equal(t, d, again)
		again, err = ParseDate(dashed)
		require.NoError(t, err, "YYYY-MM-DD form of ParseDate(%q)", s)
		require.Equal(t, d, again)
	})
}

// FuzzParseAuthority: only the four INS OIDs are accepted, each as itself;
// the INS-C OID is refused with ErrINSC, everything else with
// ErrNotINSAuthority.
func FuzzParseAuthority(f *testing.F) {
	for _, s := range []string{string(AuthorityNIR), string(AuthorityNIA), string(AuthorityNIRTest), string(AuthorityNIRDemo),
		OIDINSC, OIDNIRSocialSecurity, "1.2.250.1.213.1.4.12", "", "1.2.3", " 1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.8.", "1.2.250.1.213.1.4.08"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, oid string) {
		a, err := ParseAuthority(oid)
		switch oid {
		case string(AuthorityNIR), string(AuthorityNIA), string(AuthorityNIRTest), string(AuthorityNIRDemo):
			require.NoError(t, err)
			require.Equal(t, Authority(oid), a)
			require.True(t, a.IsINS())
			require.NotEmpty(t, a.TypeCode())
			return
		case OIDINSC:
			require.ErrorIs(t, err, ErrINSC)
		default:
			require.ErrorIs(t, err, ErrNotINSAuthority, "ParseAuthority(%q)", oid)
			require.False(t, Authority(oid).IsINS())
			require.Empty(t, Authority(oid).TypeCode())
		}
		require.Empty(t, a, "a refused OID returned %q", a)
	})
}

// FuzzParseStatus: the four RNIV codes, exactly as written (upper case),
// are accepted as themselves; anything else is refused.
func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"PROV", "RECUP", "VALI", "QUAL", "", "qual", "Qual", "DOUB", "QUAL ", "QUA", "QUALI"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		s, err := ParseStatus(code)
		switch code {
		case "PROV", "RECUP", "VALI", "QUAL":
			require.NoError(t, err)
			require.Equal(t, Status(code), s)
		default:
			require.Error(t, err, "ParseStatus(%q) accepted", code)
			require.Empty(t, s)
			require.True(t, strings.HasPrefix(err.Error(), "ins: identity status "), "%v", err)
		}
	})
}

// FuzzParseMonEspaceSanteAddress: an accepted address is a valid matricule
// at patient.mssante.fr (the domain in any case, nothing else around it),
// and the address written back from the matricule parses to it; a refusal
// wraps ErrMonEspaceSanteAddress (and the matricule's *MatriculeError when
// the domain was right).
func FuzzParseMonEspaceSanteAddress(f *testing.F) {
	for _, s := range []string{"279035121518989@patient.mssante.fr", "279035121518989@Patient.MSSante.fr", "253072B07300470@patient.mssante.fr",
		"279035121518988@patient.mssante.fr", "279035121518989@mssante.fr", "nobody", "@patient.mssante.fr", "279035121518989@patient.mssante.fr.",
		"279035121518989@@patient.mssante.fr", " 279035121518989@patient.mssante.fr", "279035121518989@patient.mssante.fr@patient.mssante.fr",
		"27903512151898\u0669@patient.mssante.fr", "279035121518989@patient.mssante.f\u0280"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		m, err := ParseMonEspaceSanteAddress(addr)
		if err != nil {
			require.ErrorIs(t, err, ErrMonEspaceSanteAddress, "ParseMonEspaceSanteAddress(%q)", addr)
			require.True(t, m.IsZero())
			local, domain, ok := strings.Cut(addr, "@")
			if ok && strings.EqualFold(domain, MonEspaceSanteDomain) {
				var me *MatriculeError
				require.True(t, errors.As(err, &me), "%q: the matricule's refusal is not told: %v", addr, err)
				_, merr := ParseMatricule(local)
				require.Error(t, merr, "%q refused, but its matricule is valid", addr)
			}
			return
		}
		local, domain, ok := strings.Cut(addr, "@")
		require.True(t, ok)
		require.True(t, strings.EqualFold(domain, MonEspaceSanteDomain), "%q accepted: domain %q", addr, domain)
		require.Equal(t, local, m.String(), "%q accepted", addr)
		again, err := ParseMonEspaceSanteAddress(m.String() + "@" + MonEspaceSanteDomain)
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}
