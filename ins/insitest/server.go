// SPDX-License-Identifier: Apache-2.0

package insitest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/ecdaf744/gomss/ins/insi"
)

// Options configures NewServer. The zero value is a server with an empty
// base that accepts any IDAM.
type Options struct {
	// People is the reference base.
	People []Person
	// IDAMs are the authorisation numbers the fake knows; a request with
	// another IDAM gets FaultUnknownIDAM. Empty: any IDAM is accepted.
	IDAMs []string
	// PKI issues the server certificate and is the trust anchor for
	// client and card certificates. Nil: NewServer generates one (share
	// one between tests: generation takes a few tens of milliseconds).
	PKI *PKI
}

// Condition is a behaviour of the service the fake produces for one
// request, queued with Server.Enqueue.
type Condition struct {
	kind  condKind
	delay time.Duration
	fault Fault
}

type condKind int

const (
	condFault condKind = iota + 1
	condSlow
	condCut
	condMalformed
)

// Conditions a client meets.
var (
	// ServiceUnavailable answers FaultUnavailable (insi_102).
	ServiceUnavailable = Condition{kind: condFault, fault: FaultUnavailable}
	// UnknownIDAM answers FaultUnknownIDAM (desir_550) whatever the IDAM.
	UnknownIDAM = Condition{kind: condFault, fault: FaultUnknownIDAM}
	// CutConnection closes the connection after reading the request,
	// without an answer.
	CutConnection = Condition{kind: condCut}
	// MalformedAnswer answers HTTP 200 with a truncated envelope.
	MalformedAnswer = Condition{kind: condMalformed}
)

// Slow answers normally after d, or gives up when the client goes away.
func Slow(d time.Duration) Condition { return Condition{kind: condSlow, delay: d} }

// AnswerFault answers with the given fault.
func AnswerFault(f Fault) Condition { return Condition{kind: condFault, fault: f} }

// Server is a running fake INSi service on a loopback port, speaking
// HTTPS with client certificates like the real one.
type Server struct {
	// URL is the endpoint to put in insi.Config.Endpoint.
	URL string
	// PKI is the test PKI: PKI.Auto and PKI.Manu are accepted client
	// certificates, PKI.CPS a card certificate for CPx mode.
	PKI *PKI

	ln   net.Listener
	srv  *http.Server
	done chan struct{}

	mu       sync.Mutex
	people   []Person
	idams    []string
	queue    []Condition
	requests []*Request
}

// NewServer starts a fake service on 127.0.0.1. Close it when done.
func NewServer(opts Options) (*Server, error) {
	p := opts.PKI
	if p == nil {
		var err error
		if p, err = NewPKI(); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("insitest: listening: %w", err)
	}
	s := &Server{
		URL:    "https://" + ln.Addr().String() + "/lps",
		PKI:    p,
		ln:     ln,
		done:   make(chan struct{}),
		people: slices.Clone(opts.People),
		idams:  slices.Clone(opts.IDAMs),
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{p.Server.TLSCertificate()},
		ClientCAs:    p.Roots(),
		// Both modes on one server: mTLS presents a certificate, CPx
		// does not and signs an assertion instead.
		ClientAuth: tls.VerifyClientCertIfGiven,
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(tls.NewListener(ln, tc))
	}()
	return s, nil
}

// Close stops the server and closes its connections.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}

// ClientTLSConfig returns the configuration a client needs to verify the
// server (insi.Config.TLS).
func (s *Server) ClientTLSConfig() *tls.Config { return s.PKI.ClientTLSConfig() }

// AddPerson adds p to the reference base.
func (s *Server) AddPerson(p Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.people = append(s.people, p)
}

// Enqueue queues conditions, one per coming request that passes the
// authentication and schema checks, in order.
func (s *Server) Enqueue(c ...Condition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, c...)
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, hr *http.Request) {
	if hr.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
	if err != nil {
		return
	}
	req := ValidateRequest(body)
	if ct := hr.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/soap+xml") {
		req.problem("HTTP Content-Type %q: SOAP 1.2 wants application/soap+xml", ct)
	}
	if hr.TLS != nil && len(hr.TLS.PeerCertificates) > 0 {
		req.ClientCN = hr.TLS.PeerCertificates[0].Subject.CommonName
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	// Authentication first, as the service's gateway does.
	if req.ClientCN != "" {
		if req.ClientCN != insi.CNAuto && req.ClientCN != insi.CNManu {
			writeFault(w, FaultAccessLevel, req.MessageID)
			return
		}
	} else if why := s.verifyAssertion(req); why != "" {
		writeFault(w, faultAssertion(why), req.MessageID)
		return
	}
	if len(req.Problems) > 0 {
		writeFault(w, faultInvalid(req.Problems), req.MessageID)
		return
	}
	s.mu.Lock()
	knownIDAM := len(s.idams) == 0 || slices.Contains(s.idams, req.IDAM)
	var cond Condition
	if len(s.queue) > 0 {
		cond, s.queue = s.queue[0], s.queue[1:]
	}
	people := slices.Clone(s.people)
	s.mu.Unlock()
	if !knownIDAM {
		writeFault(w, FaultUnknownIDAM, req.MessageID)
		return
	}
	switch cond.kind {
	case condFault:
		writeFault(w, cond.fault, req.MessageID)
		return
	case condCut:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case condMalformed:
		w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
		_, _ = io.WriteString(w, envelopeStart+`<RESULTAT xmlns="`+insi.NSResultat+`"><CR><CodeCR>00</Code`)
		return
	case condSlow:
		t := time.NewTimer(cond.delay)
		select {
		case <-t.C:
		case <-hr.Context().Done():
			t.Stop()
			return
		}
	}
	writeAnswer(w, answer(req, people))
}

// answer applies the fake's matching rules to the base.
func answer(req *Request, people []Person) []byte {
	var found []*Person
	for i := range people {
		p := &people[i]
		if (req.Operation == insi.OpSearchByTraits && p.matchTraits(req)) ||
			(req.Operation == insi.OpSearchWithVitale && p.matchVitale(req)) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return resultXML(insi.CRNone, LabelNone, nil)
	case 1:
		return resultXML(insi.CROK, LabelOK, found[0])
	}
	return resultXML(insi.CRSeveral, LabelSeveral, nil)
}

func writeAnswer(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	_, _ = w.Write(b)
}

// writeFault answers HTTP 500, as SOAP 1.2 over HTTP does for faults.
func writeFault(w http.ResponseWriter, f Fault, messageID string) {
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(f.xml(messageID))
}

// verifyAssertion checks the CPx assertion PS of a request without client
// certificate: present, signed (XML-DSig, checked by goxmldsig) by a card
// certificate that chains to the PKI's FORT root. It returns "" when the
// assertion verifies, else why not.
func (s *Server) verifyAssertion(req *Request) string {
	if req.doc == nil {
		return "no client certificate and no readable request"
	}
	a := req.doc.FindElement("./Envelope/Header/Security/Assertion")
	if a == nil || a.NamespaceURI() != insi.NSSAML {
		return "no client certificate and no assertion PS in wsse:Security"
	}
	certEl := a.FindElement("./Signature/KeyInfo/X509Data/X509Certificate")
	if certEl == nil {
		return "assertion without X509Certificate"
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(certEl.Text()), ""))
	if err != nil {
		return "assertion certificate is not base64"
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "assertion certificate: " + err.Error()
	}
	inter := x509.NewCertPool()
	inter.AddCert(s.PKI.FortPersonnes.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: s.PKI.Roots(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return "assertion certificate not trusted: " + err.Error()
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	vc.IdAttribute = "ID"
	doc := etree.NewDocument()
	doc.SetRoot(a.Copy())
	if _, err := vc.Validate(doc.Root()); err != nil {
		return "assertion signature: " + err.Error()
	}
	if n := a.FindElement("./Subject/NameID"); n != nil {
		req.AssertionSubject = n.Text()
	}
	return ""
}
