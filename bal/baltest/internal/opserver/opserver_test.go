// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/internal/testdocs"
	"github.com/ecdaf744/gomss/mssante"
	"github.com/ecdaf744/gomss/mssante/xdm"
	"github.com/ecdaf744/gomss/trace"
)

// client is what a vendor's test builds from operator.json alone.
type client struct {
	t  *testing.T
	st Settings
}

func startFromFiles(t *testing.T) (*Server, *client) {
	t.Helper()
	dir := t.TempDir()
	srv, err := Start(Config{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	b, err := os.ReadFile(filepath.Join(dir, "operator.json"))
	require.NoError(t, err)
	var st Settings
	require.NoError(t, json.Unmarshal(b, &st))
	require.Equal(t, srv.Settings.APIToken, st.APIToken)
	return srv, &client{t: t, st: st}
}

func (c *client) call(method, path string, body io.Reader, out any) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.st.API+path, body)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.st.APIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(b, out), "%s %s: %s", method, path, b)
	}
	return resp.StatusCode
}

func (c *client) roots() []*x509.Certificate {
	c.t.Helper()
	b, err := os.ReadFile(c.st.Files["roots"])
	require.NoError(c.t, err)
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		require.NoError(c.t, err)
		out = append(out, cert)
	}
	require.Len(c.t, out, 2)
	return out
}

func endpointOf(t testing.TB, addr string, implicit bool) bal.Endpoint {
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return bal.Endpoint{Host: host, Port: p, ImplicitTLS: implicit}
}

// sender logs in with the PKCS#12 file named (modern or legacy) or a token.
func (c *client) sender(file string, auth bal.Authenticator, mailbox string) *bal.Sender {
	c.t.Helper()
	if auth == nil {
		pfx, err := os.ReadFile(c.st.Files[file])
		require.NoError(c.t, err)
		cert, err := bal.NewCertificateFromPKCS12(pfx, c.st.P12Password)
		require.NoError(c.t, err, file)
		auth = cert
	}
	return &bal.Sender{Server: endpointOf(c.t, c.st.SMTPS, true), ServerName: "localhost",
		Trust: &bal.Trust{Roots: c.roots(), SkipRevocation: true}, Auth: auth, Timeout: 20 * time.Second,
		Mailbox: trace.Mailbox{Address: mailbox}, Software: "opserver-test",
		Trace: trace.RecorderFunc(func(context.Context, trace.Event) error { return nil })}
}

func report(to string, receipt bool) *mssante.Message {
	return &mssante.Message{
		From: mssante.Sender{Address: baltest.ORGUser, Kind: mssante.Applicative, Entity: "LPS de test"},
		To:   []string{to}, Text: "Compte rendu ci-joint.",
		Documents: []mssante.Document{{Header: testdocs.Header(testdocs.Patient("test", true), "11488-4", time.Now()),
			PDF: mssante.BytesOpener(testdocs.PDF("CR", 5_000))}},
		XDM:         xdm.Options{SourceID: "1.2.250.1.999.1.2", ContentType: xdm.Code{Code: "04"}},
		Product:     "DEV000000",
		ReadReceipt: receipt,
	}
}

// The files and settings a vendor's CI reads: every path of Files exists,
// the env file holds the same values, and the API refuses a request
// without the token.
func TestStartWritesSettings(t *testing.T) {
	_, c := startFromFiles(t)
	for name, path := range c.st.Files {
		fi, err := os.Stat(path)
		require.NoError(t, err, name)
		assert.Positive(t, fi.Size(), name)
		assert.True(t, strings.HasPrefix(path, c.st.Dir), "%s is outside the folder: %s", name, path)
	}
	for _, k := range []string{"cpsP12", "cpsP12Legacy", "orgP12", "orgP12Legacy", "revokedP12", "expiredP12", "roots", "caBundle", "crls"} {
		assert.Contains(t, c.st.Files, k)
	}
	env, err := os.ReadFile(filepath.Join(c.st.Dir, "operator.env"))
	require.NoError(t, err)
	for _, want := range []string{"MSS_SMTPS=" + c.st.SMTPS + "\n", "MSS_API_TOKEN=" + c.st.APIToken + "\n",
		"MSS_BOX_JEAN_DUPONT_ADDRESS=" + baltest.CPSUser + "\n", "MSS_FILE_CPS_P12=" + c.st.Files["cpsP12"] + "\n"} {
		assert.Contains(t, string(env), want)
	}
	resp, err := http.Get(c.st.API + "/api/v1/messages")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ := http.NewRequest("GET", c.st.API+"/api/v1/messages", nil)
	req.Header.Set("Authorization", "Bearer not-the-token")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// A message sent with the written PKCS#12 files (modern and legacy) is in
// the API: listed, waited for, parsed, checked against the Référentiel
// socle #2 (compliant), its XDM and CDA header summarised, its attachment
// downloadable; answered with a Mon espace santé bounce and an MDN, both
// delivered to the sender's mailbox and listed as dsn and mdn.
func TestSendListCheckAnswer(t *testing.T) {
	_, c := startFromFiles(t)
	ctx := context.Background()
	for _, file := range []string{"orgP12", "orgP12Legacy"} {
		_, err := c.sender(file, nil, baltest.ORGUser).Send(ctx, report(baltest.CPSUser, true))
		require.NoError(t, err, file)
	}
	var w map[string]any
	require.Equal(t, http.StatusOK, c.call("GET", "/api/v1/wait?mailbox="+baltest.CPSUser+"&count=2&timeout=1m", nil, &w))
	assert.EqualValues(t, 2, w["count"])

	var list struct {
		Total    int       `json:"total"`
		Messages []Summary `json:"messages"`
	}
	require.Equal(t, http.StatusOK, c.call("GET", "/api/v1/messages?mailbox="+baltest.CPSUser, nil, &list))
	require.Equal(t, 2, list.Total)
	m := list.Messages[0]
	assert.Equal(t, "message", m.Kind)
	assert.Contains(t, m.From, baltest.ORGUser)

	var d Detail
	require.Equal(t, http.StatusOK, c.call("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil, &d))
	assert.True(t, d.Check.Compliant, "problems: %+v", d.Check.Problems)
	assert.Equal(t, "DEV000000", d.MSS.NIL)
	require.NotNil(t, d.XDM)
	require.NotEmpty(t, d.XDM.Documents)
	var cdaDoc *DocInfo
	for i := range d.XDM.Documents {
		if d.XDM.Documents[i].CDA != nil {
			cdaDoc = &d.XDM.Documents[i]
		}
	}
	require.NotNil(t, cdaDoc, "a CDA document in the archive: %+v", d.XDM.Documents)
	assert.Empty(t, cdaDoc.CDA.Error)
	assert.Contains(t, cdaDoc.CDA.Type, "11488-4")
	assert.Equal(t, "PAT-TROIS DOMINIQUE MARIE-LOUISE", cdaDoc.CDA.PatientName)
	assert.Equal(t, "279035121518989 (NIR de test)", cdaDoc.CDA.PatientINS)
	assert.NotEmpty(t, cdaDoc.CDA.Date)
	require.NotEmpty(t, d.Attachments)
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/messages/%d/attachments/0", c.st.API, m.ID), nil)
	req.Header.Set("Authorization", "Bearer "+c.st.APIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, d.Attachments[0].Size, len(body))

	// A message that breaks Ref#2 rules, injected: the check names them.
	bad := "From: <" + baltest.OtherUser + ">\r\nTo: <" + baltest.CPSUser + ">\r\nSubject: test\r\nDate: Mon, 07 Dec 2026 10:00:00 +0100\r\n\r\nbonjour\r\n"
	var injected map[string]int64
	require.Equal(t, http.StatusCreated, c.call("POST", "/api/v1/mailboxes/"+baltest.CPSUser+"/messages", strings.NewReader(bad), &injected))
	require.Equal(t, http.StatusOK, c.call("GET", fmt.Sprintf("/api/v1/messages/%d", injected["id"]), nil, &d))
	assert.False(t, d.Check.Compliant)
	rules := map[string]bool{}
	for _, p := range d.Check.Problems {
		rules[p.Rule] = true
	}
	// No Message-ID (ECO.2.2.1), no sender label (ECO.2.2.7), no
	// X-MSS-NIL (ECO.2.4.3).
	assert.Equal(t, map[string]bool{"ECO.2.2.1": true, "ECO.2.2.7": true, "ECO.2.4.3": true}, rules)
	assert.Equal(t, http.StatusNotFound, c.call("POST", "/api/v1/mailboxes/nobody@test.mssante.fr/messages", strings.NewReader(bad), nil))

	// Answers: a closed Mon espace santé mailbox, then an MDN.
	var ans map[string]int64
	require.Equal(t, http.StatusCreated, c.call("POST", fmt.Sprintf("/api/v1/messages/%d/dsn", m.ID), strings.NewReader(`{"answer":"closed"}`), &ans))
	require.Equal(t, http.StatusOK, c.call("GET", fmt.Sprintf("/api/v1/messages/%d", ans["id"]), nil, &d))
	assert.Equal(t, "dsn", d.Kind)
	assert.Equal(t, baltest.ORGUser, d.Mailbox)
	rec, err := mssante.Parse(bytes.NewReader(rawOf(t, c, ans["id"])), nil)
	require.NoError(t, err)
	dsn, err := mssante.ParseDSN(rec)
	require.NoError(t, err)
	require.Len(t, dsn.Recipients, 1)
	assert.Equal(t, "failed", dsn.Recipients[0].Action)
	assert.Equal(t, "5.2.1", dsn.Recipients[0].Status)
	assert.Equal(t, m.MessageID, dsn.OriginalMessageID)
	assert.Equal(t, http.StatusBadRequest, c.call("POST", fmt.Sprintf("/api/v1/messages/%d/dsn", m.ID), strings.NewReader(`{"answer":"nope"}`), nil))

	require.Equal(t, http.StatusCreated, c.call("POST", fmt.Sprintf("/api/v1/messages/%d/mdn", m.ID), strings.NewReader(`{"error":902}`), &ans))
	rec, err = mssante.Parse(bytes.NewReader(rawOf(t, c, ans["id"])), nil)
	require.NoError(t, err)
	assert.Equal(t, mssante.KindMDN, rec.Kind())
	mdn, err := mssante.ParseMDN(rec)
	require.NoError(t, err)
	assert.Equal(t, m.MessageID, mdn.OriginalMessageID)
	assert.Contains(t, rec.Subject, "902")
}

func rawOf(t *testing.T, c *client, id int64) []byte {
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/messages/%d/raw", c.st.API, id), nil)
	req.Header.Set("Authorization", "Bearer "+c.st.APIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// Every fault the API offers, as a client meets it: the next RCPT
// refused, the connection cut during DATA, answers delayed, a token
// expired, a certificate revoked; DELETE clears them, reset empties the
// mailboxes and the list; a wait that cannot be met answers 408.
func TestFaults(t *testing.T) {
	_, c := startFromFiles(t)
	ctx := context.Background()
	send := func(s *bal.Sender) error {
		_, err := s.Send(ctx, report(baltest.CPSUser, false))
		return err
	}
	org := c.sender("orgP12", nil, baltest.ORGUser)

	require.Equal(t, http.StatusOK, c.call("POST", "/api/v1/faults", strings.NewReader(`{"refuseNextRcpt":{"code":452,"enhanced":"4.2.2","text":"Boite pleine"}}`), nil))
	err := send(org)
	var se *bal.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 452, se.Code)
	assert.Equal(t, "4.2.2", se.Enhanced)
	require.NoError(t, send(org), "the fault hits the next RCPT only")

	require.Equal(t, http.StatusOK, c.call("POST", "/api/v1/faults", strings.NewReader(`{"cutNextData":true}`), nil))
	require.Error(t, send(org), "connection cut during DATA")
	require.NoError(t, send(org))

	require.Equal(t, http.StatusOK, c.call("POST", "/api/v1/faults", strings.NewReader(`{"delay":"300ms"}`), nil))
	start := time.Now()
	require.NoError(t, send(org))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "answers delayed")
	require.Equal(t, http.StatusOK, c.call("DELETE", "/api/v1/faults", nil, nil))

	box := c.st.Mailboxes[0]
	require.Equal(t, baltest.CPSUser, box.Address)
	psc := &bal.PSC{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: box.Token}), Username: box.Address,
		Identity: trace.Actor{ID: "810002813839", Name: "Jean DUPONT"}}
	cpsSender := c.sender("", psc, box.Address)
	m := report(baltest.OtherUser, false)
	m.From = mssante.Sender{Address: box.Address, Kind: mssante.Personal, GivenName: "Jean", FamilyName: "Dupont"}
	_, err = cpsSender.Send(ctx, m)
	require.NoError(t, err, "the written token logs in")
	require.Equal(t, http.StatusOK, c.call("POST", "/api/v1/faults", strings.NewReader(`{"expireToken":"`+box.Token+`"}`), nil))
	_, err = cpsSender.Send(ctx, m)
	require.ErrorIs(t, err, bal.ErrAuth, "expired token")
	assert.Equal(t, http.StatusNotFound, c.call("POST", "/api/v1/faults", strings.NewReader(`{"expireToken":"inconnu"}`), nil))

	require.Equal(t, http.StatusOK, c.call("POST", "/api/v1/faults", strings.NewReader(`{"revoke":"org"}`), nil))
	require.Error(t, send(c.sender("orgP12", nil, baltest.ORGUser)), "revoked certificate refused at the handshake")
	assert.Equal(t, http.StatusBadRequest, c.call("POST", "/api/v1/faults", strings.NewReader(`{"revoke":"server"}`), nil))
	assert.Equal(t, http.StatusBadRequest, c.call("POST", "/api/v1/faults", strings.NewReader(`{"delay":"forever"}`), nil))

	var list struct {
		Total int `json:"total"`
	}
	require.Equal(t, http.StatusOK, c.call("GET", "/api/v1/messages", nil, &list))
	assert.Equal(t, 4, list.Total, "the four messages delivered")
	require.Equal(t, http.StatusOK, c.call("POST", "/api/v1/reset", nil, nil))
	require.Equal(t, http.StatusOK, c.call("GET", "/api/v1/messages", nil, &list))
	assert.Zero(t, list.Total)
	var w map[string]any
	assert.Equal(t, http.StatusRequestTimeout, c.call("GET", "/api/v1/wait?count=1&timeout=200ms", nil, &w))
	assert.EqualValues(t, 0, w["count"])
}

// The patient in words: used names only when they differ, each missing
// part left out, an unknown authority named by its OID.
func TestPatientWords(t *testing.T) {
	for _, tc := range []struct {
		id                ins.Identity
		name, birth, insW string
	}{
		{id: ins.Identity{}, name: "", birth: "", insW: ""},
		{id: ins.Identity{Traits: ins.Traits{BirthFamilyName: "MARTIN", FirstBirthGivenName: "LUC", UsedFamilyName: "DURAND", Sex: ins.Male,
			BirthDate: ins.Date{Year: 2001, Month: 2, Day: 3}}},
			name: "MARTIN LUC (nom utilisé DURAND)", birth: "sexe M, le 03/02/2001"},
		{id: ins.Identity{Traits: ins.Traits{BirthFamilyName: "MARTIN", BirthGivenNames: "LUC PAUL", UsedFamilyName: "MARTIN", UsedGivenName: "LUC",
			BirthPlace: "99134"}, INS: ins.INS{Matricule: testdocs.Patient("test", false).INS.Matricule, Authority: "1.2.3"}},
			name: "MARTIN LUC PAUL", birth: "à (99134)", insW: "279035121518989 (autorité 1.2.3)"},
		{id: ins.Identity{Traits: ins.Traits{BirthFamilyName: "MARTIN", FirstBirthGivenName: "LUCIEN", UsedFamilyName: "MARTIN", UsedGivenName: "LUC",
			BirthPlaceName: "REIMS", BirthPlace: "51454", Sex: ins.Female}},
			name: "MARTIN LUCIEN (prénom utilisé LUC)", birth: "sexe F, à REIMS (51454)"},
	} {
		name, birth, insW := patientWords(&tc.id)
		assert.Equal(t, tc.name, name)
		assert.Equal(t, tc.birth, birth)
		assert.Equal(t, tc.insW, insW)
	}
}
