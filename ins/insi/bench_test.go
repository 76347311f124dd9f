// SPDX-License-Identifier: Apache-2.0

package insi_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins/insi"
)

// BenchmarkBuildTraitsRequest measures building one RECSANSVITALE envelope
// (mTLS: no signature).
func BenchmarkBuildTraitsRequest(b *testing.B) {
	p := testPKI(b)
	cred, err := insi.NewMTLS(p.Auto.TLSCertificate())
	require.NoError(b, err)
	c, err := insi.New(insi.Config{Endpoint: insi.EndpointQualificationMTLS, Software: testSoftware, Credentials: cred, TLS: p.ClientTLSConfig()})
	require.NoError(b, err)
	q := insi.TraitsQuery{BirthFamilyName: "DE LA TOUR D'AUVERGNE", GivenName: "MARIE-HÉLÈNE", Sex: "F", BirthDate: ecetinsi.BirthDate, BirthPlace: "63220"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.NewTraitsRequest(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildTraitsRequestCPx adds the assertion PS signed with an RSA
// 2048 key in memory (a card signs slower).
func BenchmarkBuildTraitsRequestCPx(b *testing.B) {
	p := testPKI(b)
	cred, err := insi.NewCPx(p.CPS.Key, p.CPS.Cert, insi.CPxOptions{Sector: "SA05"})
	require.NoError(b, err)
	c, err := insi.New(insi.Config{Endpoint: insi.EndpointQualificationCPx, Software: testSoftware, Credentials: cred, TLS: p.ClientTLSConfig()})
	require.NoError(b, err)
	q := insi.TraitsQuery{BirthFamilyName: "ECETINSI", GivenName: "PIERRE-ALAIN", Sex: "M", BirthDate: ecetinsi.BirthDate}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.NewTraitsRequest(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseResponse measures parsing a CR 00 answer with history.
func BenchmarkParseResponse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(answerHistoOrder)))
	for b.Loop() {
		if _, err := insi.ParseResponse(strings.NewReader(answerHistoOrder)); err != nil {
			b.Fatal(err)
		}
	}
}
