// SPDX-License-Identifier: Apache-2.0

package insitest_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insi"
	"github.com/ecdaf744/gomss/ins/insitest"
)

func post(t *testing.T, srv *insitest.Server, leaf *insitest.Leaf, body string) (int, string) {
	t.Helper()
	tc := srv.ClientTLSConfig()
	if leaf != nil {
		tc.Certificates = []tls.Certificate{leaf.TLSCertificate()}
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post(srv.URL, "application/soap+xml; charset=utf-8", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func request(t *testing.T, srv *insitest.Server) string {
	cred, err := insi.NewMTLS(srv.PKI.Auto.TLSCertificate())
	require.NoError(t, err)
	c, err := insi.New(insi.Config{Endpoint: srv.URL, Credentials: cred, TLS: srv.ClientTLSConfig(),
		Software: insi.Software{IDAM: "X", Name: "t", Version: "1", Instance: "ff67308e-039f-4158-9dcc-0a08a20ba35c"}})
	require.NoError(t, err)
	r, err := c.NewTraitsRequest(insi.TraitsQuery{BirthFamilyName: "A", GivenName: "B", Sex: ins.Female, BirthDate: ins.Date{Year: 2000, Month: 1, Day: 1}})
	require.NoError(t, err)
	return string(r.Body)
}

// The fake refuses a CN other than INSI-AUTO/INSI-MANU with DESIR_560,
// a request without client certificate nor assertion, and a request that
// breaks the schemas; it records every request.
func TestServerRefusals(t *testing.T) {
	srv, err := insitest.NewServer(insitest.Options{})
	require.NoError(t, err)
	defer srv.Close()
	good := request(t, srv)

	code, body := post(t, srv, srv.PKI.WrongCN, good)
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body, `code="DESIR_560"`)

	code, body = post(t, srv, nil, good)
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body, "insitest_assertion")

	code, body = post(t, srv, srv.PKI.Manu, strings.Replace(good, "<Sexe>", "<Sexe2>x</Sexe2><Sexe>", 1))
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, body, "insitest_schema")
	assert.Contains(t, body, "unexpected element")

	code, body = post(t, srv, srv.PKI.Manu, good)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "<CodeCR>01</CodeCR>")
	assert.Len(t, srv.Requests(), 4)
	assert.Equal(t, insi.CNManu, srv.Requests()[3].ClientCN)
}

func TestValidateRequestProblems(t *testing.T) {
	r := insitest.ValidateRequest([]byte("<not-xml"))
	assert.NotEmpty(t, r.Problems)
	r = insitest.ValidateRequest([]byte(`<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"/>`))
	assert.Equal(t, []string{"root element: want a SOAP 1.2 Envelope"}, r.Problems)
	r = insitest.ValidateRequest([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`))
	assert.Contains(t, strings.Join(r.Problems, "\n"), "no Header")
	assert.True(t, bytes.Contains(r.Body, []byte("Body")))
}
