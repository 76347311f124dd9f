// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Revocation of the operator's certificates (Ref#2 ECO.1.1.5/ECO.1.1.6:
// the client checks that the operator's certificate is not revoked, by CRL
// or OCSP; SC.MSS/CONF.22, Ref#2 ECO.1.1.7: "Le système DOIT s'assurer de
// conserver la dernière CRL non expirée, lorsque le contrôle de révocation
// est réalisé au moyen des CRL, afin d'éviter tout échec de connexion avec
// l'Opérateur MSSanté en cas d'erreur lors de la récupération de la CRL" —
// REM Ségur vague 2, ansforge/segur-squash-plugins,
// macros/import_gsheet/import_gsheet - Copie.xlsx).
//
// Every certificate of the verified chain but the root is checked against
// a CRL of its issuer that is valid now:
//
//  1. an offline CRL (Trust.OfflineCRLs) of the issuer, valid now, is used
//     first and nothing is fetched: an installation that hands CRLs over as
//     files usually cannot reach the distribution points;
//  2. otherwise the CRL of the certificate's distribution point, through
//     the CRLCache: a CRL fetched less than CRLCache.Refresh ago is used as
//     it is; older, the distribution point is asked again, and when that
//     fails (server down, stalled until the caller's context ends, a CRL
//     that does not verify) the last CRL kept for that issuer and
//     distribution point is used as long as it has not expired
//     (SC.MSS/CONF.22);
//  3. once the kept CRL's nextUpdate has passed it is expired and never
//     used again: the status is then unknown and the connection refused
//     with ErrRevocationUnknown. SC.MSS/CONF.22 keeps only a CRL "non
//     expirée", and RFC 5280 §6.3.3 (a)(1)(ii) and (k) leave the status
//     undetermined when no current CRL can be had: gomss fails closed (no
//     grace period). Hand a current CRL over offline if the distribution
//     point stays out of reach.
//
// A CRL is valid for a certificate when its issuer name is the
// certificate's issuer name, its signature verifies with the issuer's key
// (RFC 5280 §6.3.3 (b)(1), (f), (g)) and now is before its nextUpdate; a
// CRL without nextUpdate is refused (RFC 5280 §5.1.2.5: conforming CRL
// issuers MUST include it, and without it a kept CRL could never expire).

// CRLSource hands over CRLs without fetching them: the files an operator or
// an administrator publishes, a bundle shipped with the software. See
// [CRLList] and [CRLDir].
type CRLSource interface {
	// CRLs returns the CRLs the source holds that may have been issued by
	// issuer (the caller checks issuer name, signature and dates). A
	// source may return CRLs together with an error (some of its content
	// could not be read): the CRLs are used, the error is reported only
	// when no valid CRL was found.
	CRLs(ctx context.Context, issuer *x509.Certificate) ([]*x509.RevocationList, error)
}

// CRLList is a fixed set of CRLs, a [CRLSource]; [ParseCRLs] reads one from
// a file's content.
type CRLList []*x509.RevocationList

// CRLs returns the CRLs of the list whose issuer name is issuer's subject.
func (l CRLList) CRLs(_ context.Context, issuer *x509.Certificate) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	for _, crl := range l {
		if crl != nil && bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
			out = append(out, crl)
		}
	}
	return out, nil
}

// CRLDir is a directory of CRL files, a [CRLSource]: every regular file
// whose name ends in .crl, .der or .pem (case-insensitively), DER-encoded
// or PEM ("X509 CRL" blocks; other blocks, such as certificates of a
// CA-and-CRL bundle, are skipped). The directory is listed at each lookup
// and a file is parsed again only when its size or modification time has
// changed, so that an operator dropping in this week's CRL needs no
// restart. A file that cannot be read or parsed is skipped and named in
// the error. The zero value with Path set is ready to use; a CRLDir must
// not be copied after first use.
type CRLDir struct {
	// Path is the directory.
	Path string

	mu    sync.Mutex
	files map[string]crlFile
}

type crlFile struct {
	size int64
	mod  time.Time
	crls []*x509.RevocationList
	err  error
}

// CRLs returns the CRLs of the directory's files whose issuer name is
// issuer's subject.
func (d *CRLDir) CRLs(ctx context.Context, issuer *x509.Certificate) ([]*x509.RevocationList, error) {
	entries, err := os.ReadDir(d.Path)
	if err != nil {
		return nil, fmt.Errorf("bal: CRL directory: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]crlFile{}
	var all CRLList
	var errs []error
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if ext != ".crl" && ext != ".der" && ext != ".pem" {
			continue
		}
		path := filepath.Join(d.Path, e.Name())
		fi, err := os.Stat(path) // follows symbolic links, as an operator's "current.crl" may be one
		if err != nil {
			errs = append(errs, fmt.Errorf("bal: CRL file %s: %w", path, err))
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		f, ok := d.files[e.Name()]
		if !ok || f.size != fi.Size() || !f.mod.Equal(fi.ModTime()) {
			f = crlFile{size: fi.Size(), mod: fi.ModTime()}
			data, err := os.ReadFile(path)
			if err == nil {
				f.crls, err = ParseCRLs(data)
			}
			if err != nil {
				f.err = fmt.Errorf("bal: CRL file %s: %w", path, err)
			}
		}
		seen[e.Name()] = f
		all = append(all, f.crls...)
		if f.err != nil {
			errs = append(errs, f.err)
		}
	}
	d.files = seen // forget the files that were removed
	out, _ := all.CRLs(ctx, issuer)
	return out, joinErrs(errs)
}

// maxCRLSize bounds a fetched CRL; the largest public CRLs are a few tens
// of megabytes.
const maxCRLSize = 32 << 20

// ParseCRLs parses the content of a CRL file: one DER-encoded CRL
// (RFC 5280 §4.2.1.13: what an HTTP distribution point serves), or PEM
// text holding one or more "X509 CRL" blocks (RFC 7468 §5; other blocks,
// such as the certificates of a CA-and-CRL bundle, are skipped). It
// checks no signature: that is done against the issuer at use.
func ParseCRLs(data []byte) ([]*x509.RevocationList, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		crl, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, fmt.Errorf("bal: DER CRL: %w", err)
		}
		return []*x509.RevocationList{crl}, nil
	}
	var out []*x509.RevocationList
	rest := trimmed
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		crl, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bal: PEM block %d (X509 CRL): %w", n, err)
		}
		out = append(out, crl)
	}
	if len(out) == 0 {
		return nil, errors.New(`bal: PEM text without an "X509 CRL" block`)
	}
	return out, nil
}

// validCRL checks that crl can be used for a certificate issued by issuer
// at now (see the rules at the top of this file).
func validCRL(crl *x509.RevocationList, issuer *x509.Certificate, now time.Time) error {
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("issued by %q, not by the certificate's issuer %q", crl.Issuer, issuer.Subject)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("signature does not verify with the key of %q: %v", issuer.Subject, err)
	}
	if crl.NextUpdate.IsZero() {
		return errors.New("no nextUpdate (RFC 5280 §5.1.2.5)")
	}
	if !now.Before(crl.NextUpdate) {
		return fmt.Errorf("expired at its nextUpdate %s", crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	return nil
}

// newer reports whether a was issued after b (b nil: true).
func newer(a, b *x509.RevocationList) bool {
	return b == nil || a.ThisUpdate.After(b.ThisUpdate)
}

// CRLCache fetches CRLs from HTTP distribution points and keeps, for each
// issuer and distribution point, the last valid CRL until it expires
// (SC.MSS/CONF.22; see [Trust] for the whole check). The zero value is
// ready to use; a CRLCache may be shared by Trusts and goroutines.
type CRLCache struct {
	// Client fetches CRLs (a client with a 10 s timeout when nil). The
	// fetch also ends with the context of the Send, Open or
	// TLSConfigContext that needs it.
	Client *http.Client
	// Refresh is how long a CRL is used before its distribution point is
	// asked for a newer one, and how long after a failed attempt the next
	// one is made while a valid CRL is kept: one hour when zero (a choice:
	// IGC-Santé's publication period was not found; a revocation is then
	// seen within the hour without a fetch per connection); negative: a
	// CRL is used until its nextUpdate and fetched only then.
	Refresh time.Duration

	mu      sync.Mutex
	entries map[crlKey]*crlEntry
}

// crlKey names what a kept CRL is valid for: a distribution point and the
// issuer (subject and key) whose signature it was checked against, so
// that a CRL is never used for another issuer than the one it verified
// with, even when two issuers name the same URL.
type crlKey struct {
	url    string
	issuer [sha256.Size]byte
}

func keyOf(url string, issuer *x509.Certificate) crlKey {
	h := sha256.New()
	h.Write(issuer.RawSubject)
	h.Write(issuer.RawSubjectPublicKeyInfo)
	k := crlKey{url: url}
	h.Sum(k.issuer[:0])
	return k
}

type crlEntry struct {
	crl     *x509.RevocationList // valid for the key's issuer when stored
	fetched time.Time            // last successful fetch
	tried   time.Time            // last attempt, successful or not
}

var defaultCRLCache = &CRLCache{}

func (c *CRLCache) refresh() time.Duration {
	switch {
	case c.Refresh == 0:
		return time.Hour
	case c.Refresh < 0:
		return time.Duration(1<<63 - 1)
	}
	return c.Refresh
}

// get returns a valid CRL of issuer published at url.
func (c *CRLCache) get(ctx context.Context, url string, issuer *x509.Certificate, now time.Time) (*x509.RevocationList, error) {
	key := keyOf(url, issuer)
	c.mu.Lock()
	var kept *crlEntry
	if e := c.entries[key]; e != nil {
		cp := *e
		kept = &cp
	}
	c.mu.Unlock()
	var keptErr error
	if kept != nil {
		if keptErr = validCRL(kept.crl, issuer, now); keptErr == nil && now.Sub(kept.tried) < c.refresh() {
			return kept.crl, nil
		}
	}
	crl, err := c.fetch(ctx, url, issuer, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[crlKey]*crlEntry{}
	}
	e := c.entries[key]
	if e == nil {
		e = &crlEntry{}
	}
	if err == nil {
		e.fetched, e.tried = now, now
		// Never replace a valid CRL by an older one (a stale mirror, a
		// replayed answer): a certificate revoked in the newer one would
		// be let in.
		if e.crl == nil || validCRL(e.crl, issuer, now) != nil || !newer(e.crl, crl) {
			e.crl = crl
		}
		c.entries[key] = e
		return e.crl, nil
	}
	if e.crl == nil {
		return nil, fmt.Errorf("CRL %s: %w", url, err)
	}
	e.tried = now
	c.entries[key] = e
	if keptErr = validCRL(e.crl, issuer, now); keptErr == nil {
		return e.crl, nil // SC.MSS/CONF.22: the last CRL that has not expired
	}
	return nil, fmt.Errorf("CRL %s: %w; the CRL kept from %s is %v", url, err, e.fetched.UTC().Format(time.RFC3339), keptErr)
}

func (c *CRLCache) fetch(ctx context.Context, url string, issuer *x509.Certificate, now time.Time) (*x509.RevocationList, error) {
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, maxCRLSize+1))
	if err != nil {
		return nil, err
	}
	if len(der) > maxCRLSize {
		return nil, fmt.Errorf("larger than %d bytes", maxCRLSize)
	}
	crls, err := ParseCRLs(der)
	if err != nil {
		return nil, err
	}
	if len(crls) != 1 {
		return nil, fmt.Errorf("%d CRLs served, want one", len(crls))
	}
	if err := validCRL(crls[0], issuer, now); err != nil {
		return nil, err
	}
	return crls[0], nil
}

// revocation checks certificate chains (see the rules at the top of this
// file).
type revocation struct {
	cache   *CRLCache
	offline CRLSource
	now     time.Time
}

// checkChain checks every certificate but the root against its issuer's
// CRL.
func (r revocation) checkChain(ctx context.Context, chain []*x509.Certificate) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		crl, err := r.crlFor(ctx, cert, issuer)
		if err != nil {
			return fmt.Errorf("%w: %q (serial %s, issuer %q): %w", ErrRevocationUnknown, cert.Subject.CommonName, cert.SerialNumber, issuer.Subject.CommonName, err)
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return fmt.Errorf("%w: %q (serial %s) revoked on %s (CRL of %q issued %s)", ErrRevoked, cert.Subject.CommonName, cert.SerialNumber,
					e.RevocationTime.UTC().Format("2006-01-02"), issuer.Subject.CommonName, crl.ThisUpdate.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

// crlFor returns a CRL of issuer valid now: the newest valid offline one,
// or else the one of cert's first distribution point that gives one.
func (r revocation) crlFor(ctx context.Context, cert, issuer *x509.Certificate) (*x509.RevocationList, error) {
	var errs []error
	if r.offline != nil {
		crls, err := r.offline.CRLs(ctx, issuer)
		if err != nil {
			errs = append(errs, fmt.Errorf("offline CRLs: %w", err))
		}
		var best *x509.RevocationList
		var rejected []string
		for _, crl := range crls {
			if err := validCRL(crl, issuer, r.now); err != nil {
				rejected = append(rejected, fmt.Sprintf("offline CRL issued %s: %v", crl.ThisUpdate.UTC().Format(time.RFC3339), err))
				continue
			}
			if newer(crl, best) {
				best = crl
			}
		}
		if best != nil {
			return best, nil
		}
		for _, s := range rejected {
			errs = append(errs, errors.New(s))
		}
	}
	if len(cert.CRLDistributionPoints) == 0 {
		errs = append(errs, errors.New("no CRL distribution point and no valid offline CRL of its issuer"))
		return nil, joinErrs(errs)
	}
	for _, url := range slices.Compact(slices.Clone(cert.CRLDistributionPoints)) {
		crl, err := r.cache.get(ctx, url, issuer, r.now)
		if err == nil {
			return crl, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break // the other distribution points would fail the same way
		}
	}
	return nil, joinErrs(errs)
}

// joinErrs joins errs on one line, keeping them for errors.Is (the
// caller's context, mostly).
func joinErrs(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return &joinedError{msg: strings.Join(msgs, "; "), errs: errs}
}

type joinedError struct {
	msg  string
	errs []error
}

func (e *joinedError) Error() string   { return e.msg }
func (e *joinedError) Unwrap() []error { return e.errs }
