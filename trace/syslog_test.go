// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ecdaf744/gomss/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --- a small, strict RFC 5424 parser, written from the ABNF (§6) ---

type sdParam struct{ name, value string }

type sdElement struct {
	id     string
	params []sdParam
}

type syslogMsg struct {
	pri                              int
	timestamp                        string
	hostname, appName, procID, msgID string
	sd                               []sdElement
	msg                              string // after the BOM, if any
	hasMsg, bom                      bool
}

// values returns the values of the parameters called name in the element
// id, in order.
func (m *syslogMsg) values(id, name string) []string {
	var vs []string
	for _, e := range m.sd {
		if e.id != id {
			continue
		}
		for _, p := range e.params {
			if p.name == name {
				vs = append(vs, p.value)
			}
		}
	}
	return vs
}

func (m *syslogMsg) value(name string) (string, bool) {
	vs := m.values(SyslogSDID, name)
	if len(vs) != 1 {
		return "", false
	}
	return vs[0], true
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$`)

func parseSyslog(b []byte) (*syslogMsg, error) {
	p := &syslogParser{b: b}
	m := &syslogMsg{}
	if !p.eat('<') {
		return nil, errors.New("no '<'")
	}
	digits := p.while(func(c byte) bool { return c >= '0' && c <= '9' })
	if len(digits) < 1 || len(digits) > 3 {
		return nil, fmt.Errorf("PRIVAL %q", digits)
	}
	m.pri, _ = strconv.Atoi(digits)
	if m.pri > 191 {
		return nil, fmt.Errorf("PRIVAL %d > 191", m.pri)
	}
	if !p.eat('>') || !p.eat('1') || !p.eat(' ') {
		return nil, errors.New("bad PRI/VERSION")
	}
	var err error
	if m.timestamp, err = p.token("TIMESTAMP", 64); err != nil {
		return nil, err
	}
	if m.timestamp != "-" {
		if !timestampRE.MatchString(m.timestamp) {
			return nil, fmt.Errorf("TIMESTAMP %q", m.timestamp)
		}
		if _, err := time.Parse(time.RFC3339Nano, m.timestamp); err != nil {
			return nil, fmt.Errorf("TIMESTAMP: %v", err)
		}
	}
	for _, f := range []struct {
		dst  *string
		name string
		max  int
	}{{&m.hostname, "HOSTNAME", 255}, {&m.appName, "APP-NAME", 48}, {&m.procID, "PROCID", 128}, {&m.msgID, "MSGID", 32}} {
		if *f.dst, err = p.token(f.name, f.max); err != nil {
			return nil, err
		}
	}
	// STRUCTURED-DATA
	if p.eat('-') {
	} else {
		for p.peek() == '[' {
			p.i++
			var e sdElement
			if e.id, err = p.sdName(); err != nil {
				return nil, fmt.Errorf("SD-ID: %v", err)
			}
			for p.eat(' ') {
				var prm sdParam
				if prm.name, err = p.sdName(); err != nil {
					return nil, fmt.Errorf("PARAM-NAME: %v", err)
				}
				if !p.eat('=') || !p.eat('"') {
					return nil, fmt.Errorf("PARAM %s: no =\"", prm.name)
				}
				if prm.value, err = p.paramValue(); err != nil {
					return nil, fmt.Errorf("PARAM %s: %v", prm.name, err)
				}
				e.params = append(e.params, prm)
			}
			if !p.eat(']') {
				return nil, fmt.Errorf("SD-ELEMENT %s: no ']' at %d", e.id, p.i)
			}
			m.sd = append(m.sd, e)
		}
		if len(m.sd) == 0 {
			return nil, errors.New("no STRUCTURED-DATA")
		}
	}
	if p.i == len(b) {
		return m, nil
	}
	if !p.eat(' ') {
		return nil, fmt.Errorf("junk after STRUCTURED-DATA at %d", p.i)
	}
	m.hasMsg = true
	rest := b[p.i:]
	if bytes.HasPrefix(rest, []byte("\xEF\xBB\xBF")) {
		m.bom = true
		rest = rest[3:]
		if !utf8.Valid(rest) {
			return nil, errors.New("MSG-UTF8 is not UTF-8")
		}
	}
	m.msg = string(rest)
	return m, nil
}

type syslogParser struct {
	b []byte
	i int
}

func (p *syslogParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *syslogParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.b) {
		p.i++
		return true
	}
	return false
}

func (p *syslogParser) while(ok func(byte) bool) string {
	j := p.i
	for p.i < len(p.b) && ok(p.b[p.i]) {
		p.i++
	}
	return string(p.b[j:p.i])
}

// token reads 1*max PRINTUSASCII and the SP after it.
func (p *syslogParser) token(name string, max int) (string, error) {
	s := p.while(func(c byte) bool { return c >= 33 && c <= 126 })
	if len(s) < 1 || len(s) > max {
		return "", fmt.Errorf("%s %q: length %d, want 1 to %d", name, s, len(s), max)
	}
	if !p.eat(' ') {
		return "", fmt.Errorf("%s %q: no SP after it", name, s)
	}
	return s, nil
}

func (p *syslogParser) sdName() (string, error) {
	s := p.while(func(c byte) bool { return c >= 33 && c <= 126 && c != '=' && c != ']' && c != '"' })
	if len(s) < 1 || len(s) > 32 {
		return "", fmt.Errorf("SD-NAME %q: length %d", s, len(s))
	}
	return s, nil
}

// paramValue reads an escaped PARAM-VALUE and its closing quote.
func (p *syslogParser) paramValue() (string, error) {
	var v []byte
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch c {
		case '"':
			if !utf8.Valid(v) {
				return "", errors.New("PARAM-VALUE is not UTF-8")
			}
			return string(v), nil
		case ']':
			return "", errors.New("unescaped ']'")
		case '\\':
			if n := p.peek(); n == '"' || n == '\\' || n == ']' {
				v = append(v, n)
				p.i++
			} else {
				v = append(v, c) // §6.3.3: other backslashes are kept
			}
		default:
			v = append(v, c)
		}
	}
	return "", errors.New("unterminated PARAM-VALUE")
}

// --- formatting ---

var paris = time.FixedZone("CEST", 2*3600)

func sampleEvent() Event {
	return Event{
		ID:         "0123456789abcdef0123456789abcdef",
		Time:       time.Date(2026, 3, 14, 15, 9, 26, 535897932, paris),
		Actor:      Actor{ID: "810001234567", IDType: "IDNPS", Name: `Élise "Lili" Müller`, Auth: AuthCPS},
		OnBehalfOf: &Actor{ID: "899700001234", Name: "Secrétariat [cardio]"},
		Mailbox:    Mailbox{Address: "cardio@chu-exemple.mssante.fr", Kind: "ORG"},
		Action:     Send,
		Request: Request{
			Server:  "smtp.mssante.fr:587",
			Command: "RCPT TO",
			Params:  []string{"<dr.x@a.mssante.fr>", `C:\dossier]`},
		},
		Response:    Response{OK: false, Code: "550", Text: "5.1.1 unknown user"},
		MessageID:   "<20260314150926.1@chu-exemple.fr>",
		Correlation: "corr-1",
		Software:    "gomss test",
	}
}

func TestFormatSyslogGolden(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	got := string(FormatSyslog(sampleEvent(), "lps.chu-exemple.fr", "dpi", 0))
	want := `<108>1 2026-03-14T15:09:26.535897+02:00 lps.chu-exemple.fr dpi ` + pid + ` send ` +
		`[mss@32473 id="0123456789abcdef0123456789abcdef" actor.id="810001234567" actor.idType="IDNPS"` +
		` actor.name="Élise \"Lili\" Müller" actor.auth="CPS"` +
		` onBehalfOf.id="899700001234" onBehalfOf.name="Secrétariat [cardio\]"` +
		` mailbox.address="cardio@chu-exemple.mssante.fr" mailbox.kind="ORG" action="send"` +
		` request.server="smtp.mssante.fr:587" request.command="RCPT TO"` +
		` request.param.0="<dr.x@a.mssante.fr>" request.param.1="C:\\dossier\]"` +
		` response.ok="false" response.code="550" response.text="5.1.1 unknown user"` +
		` messageId="<20260314150926.1@chu-exemple.fr>" correlation="corr-1" software="gomss test"]` +
		" \xEF\xBB\xBF" + `send by 810001234567 (Élise "Lili" Müller) for 899700001234 (Secrétariat [cardio]) on cardio@chu-exemple.mssante.fr: RCPT TO failed 550`
	if got != want {
		t.Fatalf("FormatSyslog:\n got %s\nwant %s", got, want)
	}
	m, err := parseSyslog([]byte(got))
	require.NoError(t, err)
	if v, _ := m.value("actor.name"); v != `Élise "Lili" Müller` {
		t.Errorf("actor.name parsed back as %q", v)
	}
	if v, _ := m.value("request.param.1"); v != `C:\dossier]` {
		t.Errorf("request.param.1 parsed back as %q", v)
	}

	// The smallest event: required parameters only, success, UTC.
	e := Event{ID: "x", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: Actor{ID: "a"},
		Action: Login, Request: Request{Command: "AUTHENTICATE"}, Response: Response{OK: true}}
	got = string(FormatSyslog(e, "", "", FacilityAuthPriv))
	want = `<85>1 2026-01-02T03:04:05Z - - ` + pid + ` login [mss@32473 id="x" actor.id="a" action="login" request.command="AUTHENTICATE" response.ok="true"]` +
		" \xEF\xBB\xBFlogin by a: AUTHENTICATE ok"
	if got != want {
		t.Fatalf("FormatSyslog:\n got %s\nwant %s", got, want)
	}
}

func TestFormatSyslogPRI(t *testing.T) {
	for _, c := range []struct {
		facility int
		resp     Response
		want     int
	}{
		{0, Response{OK: true}, 13*8 + 5},
		{0, Response{Code: "NO"}, 13*8 + 4},
		{0, Response{Text: "timeout"}, 13*8 + 4},
		{0, Response{}, 13*8 + 6},
		{FacilityAuthPriv, Response{OK: true}, 85},
		{FacilityAuthPriv, Response{Code: "550"}, 84},
		{23, Response{OK: true}, 189}, // local7
		{1, Response{Code: "x"}, 12},  // user
		{24, Response{OK: true}, 13*8 + 5},
		{-1, Response{OK: true}, 13*8 + 5},
	} {
		e := sampleEvent()
		e.Response = c.resp
		m, err := parseSyslog(FormatSyslog(e, "h", "a", c.facility))
		require.NoError(t, err)
		if m.pri != c.want {
			t.Errorf("facility %d, response %+v: PRI %d, want %d", c.facility, c.resp, m.pri, c.want)
		}
	}
}

func TestFormatSyslogLimits(t *testing.T) {
	e := sampleEvent()
	e.Action = Action(strings.Repeat("a", 40))
	long := strings.Repeat("h", 300)
	m, err := parseSyslog(FormatSyslog(e, long, strings.Repeat("p", 60), 0))
	require.NoError(t, err)
	if m.hostname != long[:255] || m.appName != strings.Repeat("p", 48) || m.msgID != strings.Repeat("a", 32) {
		t.Errorf("not cut to the RFC 5424 lengths: hostname %d, app-name %d, msgid %d octets", len(m.hostname), len(m.appName), len(m.msgID))
	}
	if v, _ := m.value("action"); v != string(e.Action) {
		t.Errorf("the SD must keep the whole action, got %q", v)
	}

	e.Action = "envoi réussi"
	m, err = parseSyslog(FormatSyslog(e, "poste 12", "é", 0))
	require.NoError(t, err)
	assert.EqualValues(t, "poste_12", m.hostname, "header fields not made printable ASCII")
	assert.EqualValues(t, "__", m.appName, "header fields not made printable ASCII")
	assert.EqualValues(t, "envoi_r__ussi", m.msgID, "header fields not made printable ASCII")

	h := syslogHeader{hostname: "h", appName: "a", procID: headerField(strings.Repeat("9", 200), maxProcID), facility: 13}
	m, err = parseSyslog(h.appendMessage(nil, &e, true))
	require.NoError(t, err)
	if len(m.procID) != 128 {
		t.Errorf("PROCID of %d octets, want 128", len(m.procID))
	}
}

func TestFormatSyslogTimestamp(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 14, 15, 9, 26, 535897932, paris), "2026-03-14T15:09:26.535897+02:00"},
		{time.Date(2026, 3, 14, 15, 9, 26, 500000000, time.FixedZone("", -(9*3600+30*60))), "2026-03-14T15:09:26.5-09:30"},
		{time.Date(2026, 3, 14, 15, 9, 26, 999, time.UTC), "2026-03-14T15:09:26Z"},
		{time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("LMT", 561)), "2026-03-14T15:00:05Z"}, // Paris LMT, +00:09:21
		{time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("", 30*3600)), "2026-03-13T09:09:26Z"},
		{time.Time{}, "-"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "-"},
	} {
		e := sampleEvent()
		e.Time = c.t
		m, err := parseSyslog(FormatSyslog(e, "h", "a", 0))
		require.NoError(t, err, "%v", c.t)
		if m.timestamp != c.want {
			t.Errorf("%v: TIMESTAMP %s, want %s", c.t, m.timestamp, c.want)
		}
	}
}

func FuzzFormatSyslog(f *testing.F) {
	s := sampleEvent()
	f.Add(s.ID, s.Actor.ID, s.Actor.Name, s.OnBehalfOf.Name, s.Mailbox.Address, string(s.Action), s.Request.Command,
		s.Request.Params[0], s.Request.Params[1], s.Response.Code, s.Response.Text, "h", "a", int64(1773497366535897932), 7200, 0, false)
	f.Add(`\`, `]`, `"`, "\xff\xfe", "a\nb", "", "", `\]`, `\\"`, "", "", "", "", int64(0), 561, 10, true)
	f.Fuzz(func(t *testing.T, id, actorID, actorName, obName, addr, action, command, p1, p2, code, text, host, app string,
		nanos int64, offset, facility int, ok bool) {
		e := Event{
			ID: id, Time: time.Unix(0, nanos).In(time.FixedZone("", offset%(48*3600))),
			Actor: Actor{ID: actorID, Name: actorName}, OnBehalfOf: &Actor{Name: obName},
			Mailbox: Mailbox{Address: addr}, Action: Action(action),
			Request:  Request{Command: command, Params: []string{p1, p2}},
			Response: Response{OK: ok, Code: code, Text: text},
		}
		out := FormatSyslog(e, host, app, facility)
		m, err := parseSyslog(out)
		if err != nil {
			t.Fatalf("%v\n%q", err, out)
		}
		if want := facilityOrDefault(facility)*8 + severity(e.Response); m.pri != want {
			t.Errorf("PRI %d, want %d", m.pri, want)
		}
		if !m.bom {
			t.Error("no BOM")
		}
		if m.timestamp != "-" {
			ts, _ := time.Parse(time.RFC3339Nano, m.timestamp)
			if d := e.Time.Sub(ts); d < 0 || d >= time.Microsecond {
				t.Errorf("TIMESTAMP %s is %v from %v", m.timestamp, d, e.Time)
			}
		}
		fix := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		for _, c := range []struct{ name, want string }{
			{"id", id}, {"actor.id", actorID}, {"action", action}, {"request.command", command}, {"response.ok", strconv.FormatBool(ok)},
		} {
			if got, found := m.value(c.name); !found || got != fix(c.want) {
				t.Errorf("%s = %q (present %v), want %q", c.name, got, found, fix(c.want))
			}
		}
		for _, c := range []struct{ name, want string }{
			{"actor.name", actorName}, {"onBehalfOf.name", obName}, {"mailbox.address", addr}, {"response.code", code}, {"response.text", text},
		} {
			got, found := m.value(c.name)
			if found != (c.want != "") || got != fix(c.want) {
				t.Errorf("%s = %q (present %v), want %q", c.name, got, found, fix(c.want))
			}
		}
		for i, p := range []string{p1, p2} {
			name := fmt.Sprint("request.param.", i)
			if got, found := m.value(name); !found || got != fix(p) {
				t.Errorf("%s = %q (present %v), want %q", name, got, found, fix(p))
			}
		}
	})
}

func BenchmarkSyslogFormat(b *testing.B) {
	e := sampleEvent()
	b.ReportAllocs()
	for b.Loop() {
		FormatSyslog(e, "lps.chu-exemple.fr", "dpi", 0)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// --- a test PKI ---

type testPKI struct {
	caPEM, certPEM, keyPEM []byte
	pool                   *x509.CertPool
	cert                   tls.Certificate
}

func newTestPKI(t testing.TB, cn string) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn + " CA", Organization: []string{"gomss test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"gomss test"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	p := &testPKI{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pool:    x509.NewCertPool(),
	}
	p.pool.AddCert(ca)
	if p.cert, err = tls.X509KeyPair(p.certPEM, p.keyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

// --- the recorder against an in-process TLS collector ---

// frameReader reads RFC 5425 frames.
func readFrame(r *bufio.Reader) ([]byte, error) {
	n, err := r.ReadString(' ')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
	if err != nil || size < 1 || strings.HasPrefix(n, "0") {
		return nil, fmt.Errorf("bad MSG-LEN %q", n)
	}
	b := make([]byte, size)
	_, err = io.ReadFull(r, b)
	return b, err
}

// goCollector is a TLS syslog receiver; each accepted connection's frames
// go to msgs. Connections are kept so that a test can break them.
type goCollector struct {
	ln    net.Listener
	msgs  chan []byte
	mu    sync.Mutex
	conns []net.Conn
}

func newGoCollector(t *testing.T, pki *testPKI) *goCollector {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.cert}})
	require.NoError(t, err)
	c := &goCollector{ln: ln, msgs: make(chan []byte, 100)}
	t.Cleanup(func() { ln.Close(); c.breakAll() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			go func() {
				r := bufio.NewReader(conn)
				for {
					b, err := readFrame(r)
					if err != nil {
						return
					}
					c.msgs <- b
				}
			}()
		}
	}()
	return c
}

func (c *goCollector) breakAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *goCollector) next(t *testing.T) *syslogMsg {
	t.Helper()
	select {
	case b := <-c.msgs:
		m, err := parseSyslog(b)
		if err != nil {
			t.Fatalf("%v: %q", err, b)
		}
		return m
	case <-time.After(time.Minute): // from the Record on: a hang guard
		t.Fatal("no message received")
		return nil
	}
}

func TestSyslogRecorderFramingReconnect(t *testing.T) {
	pki := newTestPKI(t, "collector")
	col := newGoCollector(t, pki)
	ctx := context.Background()
	r, err := DialSyslog(ctx, SyslogConfig{Addr: col.ln.Addr().String(), TLS: &tls.Config{RootCAs: pki.pool}, Hostname: "lps", AppName: "dpi"})
	require.NoError(t, err)
	defer r.Close()

	e := sampleEvent()
	e.ID = ""
	require.NoError(t, r.Record(ctx, e))
	m := col.next(t)
	if id, _ := m.value("id"); len(id) != 32 {
		t.Errorf("Record did not normalise the event: id %q", id)
	}
	if m.hostname != "lps" || m.appName != "dpi" || m.procID != strconv.Itoa(os.Getpid()) || m.msgID != "send" {
		t.Errorf("header %q %q %q %q", m.hostname, m.appName, m.procID, m.msgID)
	}

	// The collector drops the connection: the next event goes through a new one.
	col.breakAll()
	time.Sleep(50 * time.Millisecond) // let the close reach the client
	e.ID = "after-break"
	require.NoError(t, r.Record(ctx, e), "Record after the collector closed the connection")
	if id, _ := col.next(t).value("id"); id != "after-break" {
		t.Errorf("got id %q after reconnect", id)
	}

	// Concurrent records are all framed whole.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			e := sampleEvent()
			e.ID = fmt.Sprint("c", i)
			assert.NoError(t, r.Record(ctx, e))
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range 20 {
		id, _ := col.next(t).value("id")
		seen[id] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct events of 20", len(seen))
	}

	// An invalid event is refused before anything is sent.
	bad := sampleEvent()
	bad.Response.Text = "body\r\nline"
	if err := r.Record(ctx, bad); !errors.Is(err, ErrEvent) {
		t.Errorf("Record(event with a line break) = %v, want ErrEvent", err)
	}
	// A cancelled context stops Record.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, r.Record(cctx, sampleEvent()), context.Canceled, "Record(cancelled)")
	assert.NoError(t, r.Close())
	assert.ErrorIs(t, r.Record(ctx, sampleEvent()), net.ErrClosed, "Record after Close")
	select {
	case b := <-col.msgs:
		t.Errorf("unexpected message %q", b)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSyslogRecorderMaxMessage(t *testing.T) {
	pki := newTestPKI(t, "collector")
	col := newGoCollector(t, pki)
	ctx := context.Background()
	cfg := SyslogConfig{Addr: col.ln.Addr().String(), TLS: &tls.Config{RootCAs: pki.pool}, MaxMessage: 1000}
	r, err := DialSyslog(ctx, cfg)
	require.NoError(t, err)
	defer r.Close()
	e := sampleEvent()
	e.Actor.Name = strings.Repeat("n", 300) // MSG repeats it: 1000 octets with, less without
	full := len(FormatSyslog(e, "", "", 0))
	if full <= 1000 {
		t.Fatalf("test event of %d octets should exceed 1000", full)
	}
	require.NoError(t, r.Record(ctx, e))
	if m := col.next(t); m.hasMsg {
		t.Errorf("MSG kept in an oversized message")
	} else if v, _ := m.value("actor.name"); v != e.Actor.Name {
		t.Errorf("actor.name lost")
	}
	e.Request.Params = []string{strings.Repeat("p", 500), strings.Repeat("q", 500)}
	if err := r.Record(ctx, e); !errors.Is(err, ErrEvent) {
		t.Errorf("Record(oversized structured data) = %v, want ErrEvent", err)
	}
}

func TestDialSyslogRefuses(t *testing.T) {
	pki := newTestPKI(t, "collector")
	col := newGoCollector(t, pki)
	other := newTestPKI(t, "other")
	ctx := context.Background()
	addr := col.ln.Addr().String()
	for name, cfg := range map[string]SyslogConfig{
		"no Addr":            {TLS: &tls.Config{RootCAs: pki.pool}},
		"facility 24":        {Addr: addr, TLS: &tls.Config{RootCAs: pki.pool}, Facility: 24},
		"InsecureSkipVerify": {Addr: addr, TLS: &tls.Config{InsecureSkipVerify: true}},
		"TLS 1.1":            {Addr: addr, TLS: &tls.Config{RootCAs: pki.pool, MaxVersion: tls.VersionTLS11}},
		"unknown CA":         {Addr: addr, TLS: &tls.Config{RootCAs: other.pool}},
		"system roots":       {Addr: addr},
		"wrong name":         {Addr: addr, TLS: &tls.Config{RootCAs: pki.pool, ServerName: "collector.example"}},
	} {
		if r, err := DialSyslog(ctx, cfg); err == nil {
			r.Close()
			t.Errorf("%s: DialSyslog succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// A timeout bounds the handshake with a server that never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	start := time.Now()
	if _, err := DialSyslog(ctx, SyslogConfig{Addr: ln.Addr().String(), TLS: &tls.Config{RootCAs: pki.pool}, Timeout: 200 * time.Millisecond}); err == nil {
		t.Error("DialSyslog to a silent server succeeded")
	}
	// Without the timeout the handshake would wait for ever: a bound far
	// above 200 ms tells the two apart without measuring the machine.
	if d := time.Since(start); d > time.Minute {
		t.Errorf("DialSyslog took %v with a 200ms timeout", d)
	}
}

// --- against a real rsyslog with a TLS input ---

// rsyslogd is an rsyslogd started by a test, receiving on 127.0.0.1:port
// with the gtls driver and writing each message as one JSON line (the
// fields rsyslog parsed, the structured data as mmpstrucdata decoded it,
// and the raw message) to out.
type rsyslogd struct {
	bin, dir, conf, out string
	pki                 *testPKI
	port                int
	proc                *os.Process
	done                chan struct{}
	stderr              bytes.Buffer
}

// gtlsModule finds rsyslog's GnuTLS network stream driver.
func gtlsModule() string {
	for _, pattern := range []string{"/usr/lib/*/rsyslog/lmnsd_gtls.so", "/usr/lib/rsyslog/lmnsd_gtls.so", "/usr/lib64/rsyslog/lmnsd_gtls.so"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

const rsyslogConf = `# written by gomss trace tests
global(
  workDirectory="{{dir}}/work"
  maxMessageSize="64k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="{{dir}}/ca.pem"
  defaultNetstreamDriverCertFile="{{dir}}/server.pem"
  defaultNetstreamDriverKeyFile="{{dir}}/server.key"
)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" {{auth}})
module(load="mmpstrucdata")

template(name="fields" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="appname" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="raw" name="rawmsg" format="jsonf")
  property(outname="parsed" name="$!rfc5424-sd" format="jsonf")
}

ruleset(name="trace") {
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="{{dir}}/out.jsonl" template="fields")
}
input(type="imtcp" address="127.0.0.1" port="{{port}}" ruleset="trace")

# rsyslog's own messages
action(type="omfile" file="{{dir}}/internal.log")
`

// startRsyslogd starts rsyslogd with the server certificate of pki. auth
// is the imtcp authentication: streamDriver.authMode="anon" (no client
// certificate) or x509/name with permittedPeer.
func startRsyslogd(t *testing.T, pki *testPKI, auth string) *rsyslogd {
	t.Helper()
	bin := "/usr/sbin/rsyslogd" // Debian's place, often outside a user's PATH
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.LookPath(t, "rsyslog", "rsyslogd")
	}
	if gtlsModule() == "" {
		testenv.Missing(t, "rsyslog", "lmnsd_gtls.so (Debian package rsyslog-gnutls) not found under /usr/lib/*/rsyslog")
	}
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "work"), 0o700))
	for name, b := range map[string][]byte{"ca.pem": pki.caPEM, "server.pem": pki.certPEM, "server.key": pki.keyPEM} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", strconv.Itoa(port), "{{auth}}", auth).Replace(rsyslogConf)
	rs := &rsyslogd{bin: bin, pki: pki, dir: dir, conf: filepath.Join(dir, "rsyslog.conf"), out: filepath.Join(dir, "out.jsonl"), port: port}
	require.NoError(t, os.WriteFile(rs.conf, []byte(conf), 0o600))
	if out, err := exec.Command(bin, "-N1", "-f", rs.conf).CombinedOutput(); err != nil {
		t.Fatalf("rsyslogd -N1 refuses the configuration: %v\n%s\n%s", err, out, conf)
	}
	rs.start(t)
	t.Cleanup(func() {
		rs.stop(t)
		if t.Failed() {
			internal, _ := os.ReadFile(filepath.Join(dir, "internal.log"))
			t.Logf("rsyslogd stderr:\n%s\ninternal.log:\n%s", rs.stderr.String(), internal)
		}
	})
	return rs
}

func (rs *rsyslogd) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(rs.port)) }

func (rs *rsyslogd) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(rs.bin, "-n", "-f", rs.conf, "-i", filepath.Join(rs.dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = &rs.stderr, &rs.stderr
	require.NoError(t, cmd.Start())
	rs.proc, rs.done = cmd.Process, make(chan struct{})
	go func() { cmd.Wait(); close(rs.done) }()
	deadline := time.Now().Add(time.Minute) // a hang guard: rsyslogd may start slowly on a busy machine
	for {
		d := &net.Dialer{Timeout: time.Second}
		c, err := tls.DialWithDialer(d, "tcp", rs.addr(), &tls.Config{RootCAs: rs.pki.pool, Certificates: []tls.Certificate{rs.pki.cert}})
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-rs.done:
			t.Fatalf("rsyslogd exited: %s", rs.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd does not listen on %s: %v", rs.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (rs *rsyslogd) stop(t *testing.T) {
	if rs.proc == nil {
		return
	}
	rs.proc.Signal(syscall.SIGTERM)
	select {
	case <-rs.done:
	case <-time.After(5 * time.Second):
		rs.proc.Kill()
		<-rs.done
	}
	rs.proc = nil
}

// rsyslogRecord is one line of out.jsonl.
type rsyslogRecord struct {
	PRI, Facility, Severity, Timestamp, Hostname, AppName, ProcID, MsgID, SD, Msg, Raw string
	Parsed                                                                             string
}

// wait polls out.jsonl until a message whose raw text contains each of
// ids arrived, and returns them by id.
func (rs *rsyslogd) wait(t *testing.T, ids ...string) map[string]rsyslogRecord {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // from the records on: a hang guard
	for {
		got := map[string]rsyslogRecord{}
		b, _ := os.ReadFile(rs.out)
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var raw map[string]any
			require.NoError(t, json.Unmarshal(line, &raw), "rsyslog output line %q", line)
			s := func(k string) string {
				switch v := raw[k].(type) {
				case string:
					return v
				case nil:
					return ""
				default:
					j, _ := json.Marshal(v)
					return string(j)
				}
			}
			r := rsyslogRecord{s("pri"), s("facility"), s("severity"), s("timestamp"), s("hostname"), s("appname"),
				s("procid"), s("msgid"), s("sd"), s("msg"), s("raw"), s("parsed")}
			for _, id := range ids {
				if strings.Contains(r.Raw, `id="`+id+`"`) {
					got[id] = r
				}
			}
		}
		if len(got) == len(ids) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslog wrote %d of the events %q in 1 min; out.jsonl:\n%s", len(got), ids, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const anon = `streamDriver.authMode="anon"`

func TestSyslogRsyslog(t *testing.T) {
	pki := newTestPKI(t, "rsyslog")
	rs := startRsyslogd(t, pki, anon)
	ctx := context.Background()
	pid := strconv.Itoa(os.Getpid())
	const host, app = "lps.chu-exemple.fr", "gomss-test"
	r, err := DialSyslog(ctx, SyslogConfig{Addr: rs.addr(), TLS: &tls.Config{RootCAs: pki.pool}, Hostname: host, AppName: app, MaxMessage: 32 << 10})
	require.NoError(t, err)
	defer r.Close()

	ok := Event{
		Time:     time.Now().In(paris),
		Actor:    Actor{ID: "810001234567", IDType: "IDNPS", Name: "Dr Chloé Lefèvre-Ødegård", Auth: AuthPSC},
		Mailbox:  Mailbox{Address: "chloe.lefevre@medecin.mssante.fr", Kind: "PER"},
		Action:   Login,
		Request:  Request{Server: "imap.mssante.fr:143", Command: "AUTHENTICATE", Params: []string{"XOAUTH2"}},
		Response: Response{OK: true, Code: "OK", Text: "Logged in"},
		Software: "gomss test",
	}
	failed := sampleEvent()
	failed.ID = ""
	failed.Time = time.Now().UTC()
	pending := ok
	pending.Action, pending.Request, pending.Response = Delete, Request{Command: "UID STORE", Params: []string{"42", `+FLAGS (\Deleted)`}}, Response{}
	big := ok
	big.Action = DirectorySearch
	big.Request = Request{Command: "GET /fhir/v2/PractitionerRole"}
	for i := range 24 {
		big.Request.Params = append(big.Request.Params, fmt.Sprintf("%02d=%s]\\\"", i, strings.Repeat("é", 240)))
	}
	events := map[string]*Event{"ok": &ok, "failed": &failed, "pending": &pending, "big": &big}
	var ids []string
	for name, e := range events {
		require.NoError(t, e.Normalize())
		require.NoError(t, r.Record(ctx, *e), "%s", name)
		ids = append(ids, e.ID)
	}
	if n := len(FormatSyslog(big, host, app, 0)); n <= DefaultSyslogMaxMessage {
		t.Fatalf("the big event is %d octets; it should exceed %d", n, DefaultSyslogMaxMessage)
	}
	got := rs.wait(t, ids...)

	for name, e := range events {
		rec := got[e.ID]
		want := string(FormatSyslog(*e, host, app, 0))
		if rec.Raw != want {
			t.Errorf("%s: rsyslog received\n%q\nwant\n%q", name, rec.Raw, want)
		}
		sev := severity(e.Response)
		if rec.PRI != strconv.Itoa(FacilityLogAudit*8+sev) || rec.Severity != strconv.Itoa(sev) || rec.Facility != "13" {
			t.Errorf("%s: rsyslog PRI %s, facility %s, severity %s; want facility 13, severity %d", name, rec.PRI, rec.Facility, rec.Severity, sev)
		}
		if rec.MsgID != string(e.Action) || rec.Hostname != host || rec.AppName != app || rec.ProcID != pid {
			t.Errorf("%s: rsyslog header msgid %q hostname %q app-name %q procid %q", name, rec.MsgID, rec.Hostname, rec.AppName, rec.ProcID)
		}
		ts, err := time.Parse(time.RFC3339Nano, rec.Timestamp)
		if err != nil || !ts.Equal(e.Time.Truncate(time.Microsecond)) {
			t.Errorf("%s: rsyslog timereported %q (%v), want %v", name, rec.Timestamp, err, e.Time.Truncate(time.Microsecond))
		}
		if _, off := ts.Zone(); err == nil {
			if _, want := e.Time.Zone(); off != want {
				t.Errorf("%s: rsyslog timereported offset %d, want %d", name, off, want)
			}
		}

		// The structured data as rsyslog's mmpstrucdata decoded it.
		var parsed map[string]map[string]any
		if err := json.Unmarshal([]byte(rec.Parsed), &parsed); err != nil {
			t.Errorf("%s: mmpstrucdata output %q: %v", name, rec.Parsed, err)
			continue
		}
		sd := parsed[SyslogSDID]
		if sd == nil {
			t.Errorf("%s: no %s element in %s", name, SyslogSDID, rec.Parsed)
			continue
		}
		wantSD := map[string]string{
			"id": e.ID, "actor.id": e.Actor.ID, "actor.idType": e.Actor.IDType, "actor.name": e.Actor.Name,
			"actor.auth": string(e.Actor.Auth), "mailbox.address": e.Mailbox.Address, "mailbox.kind": e.Mailbox.Kind,
			"action": string(e.Action), "request.server": e.Request.Server, "request.command": e.Request.Command,
			"response.ok": strconv.FormatBool(e.Response.OK), "response.code": e.Response.Code,
			"response.text": e.Response.Text, "messageId": e.MessageID, "correlation": e.Correlation, "software": e.Software,
		}
		for i, p := range e.Request.Params {
			wantSD[fmt.Sprint("request.param.", i)] = p
		}
		if e.OnBehalfOf != nil {
			wantSD["onBehalfOf.id"], wantSD["onBehalfOf.name"] = e.OnBehalfOf.ID, e.OnBehalfOf.Name
		}
		for k, v := range wantSD {
			gv, present := sd[strings.ToLower(k)]
			if !present {
				gv, present = sd[k]
			}
			if v == "" && !present && k != "response.ok" {
				continue
			}
			if gv != v {
				t.Errorf("%s: rsyslog decoded %s = %#v, want %q", name, k, gv, v)
			}
		}
		if name == "failed" || name == "pending" {
			t.Logf("%s: mmpstrucdata: %s", name, rec.Parsed)
			t.Logf("%s: msg: %q", name, rec.Msg)
		}
		nonEmpty := 0
		for _, v := range wantSD {
			if v != "" {
				nonEmpty++
			}
		}
		if len(sd) != nonEmpty {
			t.Errorf("%s: rsyslog decoded %d parameters, want %d: %s", name, len(sd), nonEmpty, rec.Parsed)
		}
		if !strings.Contains(rec.Msg, e.Request.Command) {
			t.Errorf("%s: rsyslog msg %q", name, rec.Msg)
		}
	}

	// rsyslog restarts: the recorder notices the closed connection and
	// reconnects.
	rs.stop(t)
	rs.start(t)
	again := ok
	again.ID, again.Action = "after-restart", Logout
	require.NoError(t, r.Record(ctx, again), "Record after rsyslog restarted")
	if rec := rs.wait(t, "after-restart")["after-restart"]; rec.MsgID != "logout" {
		t.Errorf("after restart: msgid %q", rec.MsgID)
	}
}

func TestSyslogRsyslogUntrusted(t *testing.T) {
	pki := newTestPKI(t, "rsyslog")
	rs := startRsyslogd(t, pki, anon)
	ctx := context.Background()

	// A client that does not trust the test CA fails the handshake.
	other := newTestPKI(t, "other")
	_, err := DialSyslog(ctx, SyslogConfig{Addr: rs.addr(), TLS: &tls.Config{RootCAs: other.pool}})
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Errorf("DialSyslog trusting another CA: %v, want a certificate verification error", err)
	}
	// Nor does one that expects another name.
	_, err = DialSyslog(ctx, SyslogConfig{Addr: rs.addr(), TLS: &tls.Config{RootCAs: pki.pool, ServerName: "collector.example"}})
	if !errors.As(err, &verr) {
		t.Errorf("DialSyslog expecting another name: %v, want a certificate verification error", err)
	}

	// A frame sent in clear is not taken as an event by the TLS input.
	e := sampleEvent()
	e.ID = "cleartext"
	msg := FormatSyslog(e, "h", "a", 0)
	c, err := net.Dial("tcp", rs.addr())
	require.NoError(t, err)
	fmt.Fprintf(c, "%d %s", len(msg), msg)
	c.Close()

	// A trusting client gets through; once its event arrived, the others
	// would have too.
	r, err := DialSyslog(ctx, SyslogConfig{Addr: rs.addr(), TLS: &tls.Config{RootCAs: pki.pool, ServerName: "localhost"}})
	require.NoError(t, err)
	defer r.Close()
	e.ID = "trusted"
	require.NoError(t, r.Record(ctx, e))
	rs.wait(t, "trusted")
	b, _ := os.ReadFile(rs.out)
	if n := bytes.Count(b, []byte("\n")); n != 1 || bytes.Contains(b, []byte("cleartext")) {
		t.Errorf("rsyslog wrote %d events, want only the trusted one:\n%s", n, b)
	}
}

// TestSyslogRsyslogClientCert: a collector that requires a client
// certificate (ATNA mutual authentication) gets events from a recorder
// configured with one, and none from a recorder without.
func TestSyslogRsyslogClientCert(t *testing.T) {
	pki := newTestPKI(t, "rsyslog")
	rs := startRsyslogd(t, pki, `streamDriver.authMode="x509/name" permittedPeer=["localhost"]`)
	ctx := context.Background()

	e := sampleEvent()
	e.ID = "no-client-cert"
	// rsyslog checks the client's certificate after the handshake (with TLS
	// 1.3 every server does): DialSyslog must wait for the refusal.
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		start := time.Now()
		r, err := DialSyslog(ctx, SyslogConfig{Addr: rs.addr(), TLS: &tls.Config{RootCAs: pki.pool, MaxVersion: version}})
		if err == nil {
			err = r.Record(ctx, e)
			r.Close()
			t.Errorf("%s without a client certificate: DialSyslog succeeded, Record: %v", tls.VersionName(version), err)
		} else {
			t.Logf("%s without a client certificate (%v): %v", tls.VersionName(version), time.Since(start), err)
		}
	}
	// A certificate for another name is refused too.
	other := newTestPKI(t, "other")
	if r, err := DialSyslog(ctx, SyslogConfig{Addr: rs.addr(), TLS: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{other.cert}}}); err == nil {
		r.Close()
		t.Error("DialSyslog with a client certificate from another CA succeeded")
	} else {
		t.Logf("client certificate from another CA: %v", err)
	}

	r, err := DialSyslog(ctx, SyslogConfig{Addr: rs.addr(), TLS: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.cert}}})
	require.NoError(t, err)
	defer r.Close()
	e.ID = "client-cert"
	require.NoError(t, r.Record(ctx, e))
	rs.wait(t, "client-cert")
	if b, _ := os.ReadFile(rs.out); bytes.Contains(b, []byte("no-client-cert")) {
		t.Errorf("rsyslog accepted an event from a client without a certificate:\n%s", b)
	}
}
