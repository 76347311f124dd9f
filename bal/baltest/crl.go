// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// CRLHandler returns a handler publishing the CRLs under their file names
// (see [PKIOptions.CRLURL]): GET <path>/ACI-EL-ORG.crl answers the DER
// encoding (application/pkix-crl), and the same name with ".pem" instead of
// ".crl" the PEM encoding. Only the last path element is looked at, so the
// handler can be mounted anywhere.
func (p *PKI) CRLHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		for _, ca := range p.CAs() {
			switch name {
			case ca.crlFile:
				w.Header().Set("Content-Type", "application/pkix-crl")
				w.Write(ca.CRLDER)
				return
			case strings.TrimSuffix(ca.crlFile, ".crl") + ".pem":
				w.Header().Set("Content-Type", "application/x-pem-file")
				w.Write(ca.CRLPEM())
				return
			}
		}
		http.NotFound(w, r)
	})
}

// CRLServer is a running HTTP server publishing a PKI's CRLs at the
// distribution points named in its certificates.
type CRLServer struct {
	// URL is the base URL of the CRLs (PKIOptions.CRLURL or the one chosen
	// by NewPKI).
	URL string

	srv  *http.Server
	hits atomic.Int64
	done chan struct{}
}

// ServeCRL starts an HTTP server on the loopback address named by the PKI's
// CRL URL. It fails when that address is not a loopback one (a PKI made
// with a PKIOptions.CRLURL of your own: serve [PKI.CRLHandler] there
// instead) or when the port was taken by someone else since NewPKI chose
// it. Close the server when done.
func (p *PKI) ServeCRL() (*CRLServer, error) {
	u, err := url.Parse(p.crlBase)
	if err != nil {
		return nil, fmt.Errorf("baltest: CRL URL %q: %w", p.crlBase, err)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "http" || ip == nil || !ip.IsLoopback() || u.Port() == "" {
		return nil, fmt.Errorf("baltest: CRL URL %q is not http://<loopback address>:<port>; serve PKI.CRLHandler yourself", p.crlBase)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("baltest: CRL server: %w", err)
	}
	s := &CRLServer{URL: p.crlBase, done: make(chan struct{})}
	h := p.CRLHandler()
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h.ServeHTTP(w, r)
	})}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// Requests returns how many requests the server has answered, so that a
// test can tell whether a client fetched the CRLs.
func (s *CRLServer) Requests() int64 { return s.hits.Load() }

// Close stops the server and waits until it has stopped.
func (s *CRLServer) Close() {
	s.srv.Close()
	<-s.done
}
