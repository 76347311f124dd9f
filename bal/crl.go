// SPDX-License-Identifier: Apache-2.0

package bal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
// Every certificate but the root of a chain crypto/x509 verified is
// checked against a CRL of its issuer that is valid now and covers it;
// when crypto/x509 verified several chains (a cross-certified authority),
// the connection is accepted when one of them passes, each certificate
// and issuer being checked once:
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
// A CRL is valid for the certificates of an issuer (otherwise
// ErrCRLRefused) when:
//
//   - its issuer name is, byte for byte, the issuer's subject and its
//     signature verifies with the issuer's key (RFC 5280 §6.3.3 (b)(1),
//     (f), (g));
//   - its thisUpdate has come and its nextUpdate, which it must have
//     (§5.1.2.5; without it a kept CRL could never expire), is still to
//     come;
//   - it has a CRLNumber (§5.2.3: conforming CRL issuers MUST include it),
//     not marked critical, not negative;
//   - it carries no critical extension gomss does not process, among its
//     own or its entries' (§5.2, §5.3: such a CRL MUST NOT be used), and
//     no extension twice; gomss processes the authority key identifier
//     and the issuingDistributionPoint;
//   - it is a complete, direct CRL for every reason: a delta CRL
//     (deltaCRLIndicator, §5.2.4), an indirect one (indirectCRL, entries
//     with certificateIssuer, §5.3.3), one for attribute certificates or
//     for only some reasons (§5.2.5) is refused rather than half used.
//
// A valid CRL covers a certificate (otherwise ErrCRLNotInScope) unless its
// issuingDistributionPoint (§5.2.5, critical or not) excludes it
// (§6.3.3 (b)(2)): onlyContainsUserCerts for a CA certificate,
// onlyContainsCACerts for an end entity, a distribution point name that
// is none of the certificate's distribution point URIs (exact
// comparison; for a certificate without the cRLDistributionPoints
// extension, none of the names is its issuer's name), or a name relative
// to the CRL issuer (not matched: crypto/x509 does not expose such names
// of a certificate).

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

// validCRL checks that crl can be used for the certificates issued by
// issuer at now (see the rules at the top of this file); whether it covers
// a given certificate is crlCovers's question. Its errors wrap
// ErrCRLRefused.
func validCRL(crl *x509.RevocationList, issuer *x509.Certificate, now time.Time) error {
	if err := checkCRL(crl, issuer, now); err != nil {
		return fmt.Errorf("%w: %w", ErrCRLRefused, err)
	}
	return nil
}

func checkCRL(crl *x509.RevocationList, issuer *x509.Certificate, now time.Time) error {
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("issued by %q, not by the certificate's issuer %q (RFC 5280 §6.3.3 (b)(1))", crl.Issuer, issuer.Subject)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("signature does not verify with the key of %q: %v", issuer.Subject, err)
	}
	if now.Before(crl.ThisUpdate) {
		return fmt.Errorf("thisUpdate %s is in the future (not valid yet)", crl.ThisUpdate.UTC().Format(time.RFC3339))
	}
	if crl.NextUpdate.IsZero() {
		return errors.New("no nextUpdate (RFC 5280 §5.1.2.5)")
	}
	if !now.Before(crl.NextUpdate) {
		return fmt.Errorf("expired at its nextUpdate %s", crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	if err := checkCRLExtensions(crl.Extensions); err != nil {
		return err
	}
	if crl.Number == nil {
		return errors.New("no CRLNumber (RFC 5280 §5.2.3: conforming CRL issuers MUST include it)")
	}
	if crl.Number.Sign() < 0 {
		return fmt.Errorf("negative CRLNumber %s (RFC 5280 §5.2.3)", crl.Number)
	}
	for _, e := range crl.RevokedCertificateEntries {
		if err := checkEntryExtensions(e.Extensions); err != nil {
			return fmt.Errorf("entry of serial %s: %w", e.SerialNumber, err)
		}
	}
	return nil
}

// Object identifiers of the CRL and CRL entry extensions of RFC 5280 §5.2
// and §5.3.
var (
	oidAuthorityKeyID      = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber           = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator   = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDP           = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidCRLDistPoints       = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidReasonCode          = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDate      = asn1.ObjectIdentifier{2, 5, 29, 24}
	oidCertificateIssuer   = asn1.ObjectIdentifier{2, 5, 29, 29}
	oidHoldInstructionCode = asn1.ObjectIdentifier{2, 5, 29, 23}
)

// checkCRLExtensions applies RFC 5280 §5.2 to a CRL's extensions: a
// critical extension gomss does not process makes the CRL unusable
// (§5.2: "If a CRL contains a critical extension that the application
// cannot process, then the application MUST NOT use that CRL to determine
// the status of certificates"); the CRLNumber is non-critical (§5.2.3); a
// delta CRL (§5.2.4) is no complete CRL; the issuingDistributionPoint
// (§5.2.5) must be well formed and for public-key certificates, all
// reasons, and this issuer only (indirect CRLs and partitions by reason
// are not supported: refused, never half used). An extension may appear
// once.
func checkCRLExtensions(exts []pkix.Extension) error {
	seen := map[string]bool{}
	for _, e := range exts {
		id := e.Id.String()
		if seen[id] {
			return fmt.Errorf("extension %s appears twice", id)
		}
		seen[id] = true
		switch {
		case e.Id.Equal(oidCRLNumber):
			if e.Critical {
				return errors.New("CRLNumber marked critical (RFC 5280 §5.2.3: it is non-critical)")
			}
		case e.Id.Equal(oidDeltaCRLIndicator):
			return errors.New("a delta CRL (deltaCRLIndicator, RFC 5280 §5.2.4): a complete CRL is needed")
		case e.Id.Equal(oidIssuingDP):
			idp, err := parseIDP(e.Value)
			if err != nil {
				return err
			}
			switch {
			case idp.onlyAttributeCerts:
				return errors.New("issuingDistributionPoint: onlyContainsAttributeCerts, not a CRL of public-key certificates")
			case idp.indirectCRL:
				return errors.New("issuingDistributionPoint: indirectCRL, not supported")
			case idp.someReasons && !idp.allReasons():
				return fmt.Errorf("issuingDistributionPoint: onlySomeReasons %s: a CRL covering every reason is needed (combining partial CRLs is not supported)", idp.reasonNames())
			}
		case e.Id.Equal(oidAuthorityKeyID):
			// processed: crypto/x509 reads it (RFC 5280 §5.2.1)
		default:
			if e.Critical {
				return fmt.Errorf("unknown critical extension %s (RFC 5280 §5.2)", id)
			}
		}
	}
	return nil
}

// checkEntryExtensions applies RFC 5280 §5.3 to a CRL entry's
// extensions: an entry naming another certificate issuer (an indirect
// CRL, §5.3.3) or carrying an unknown critical extension makes the whole
// CRL unusable ("If a CRL contains a critical CRL entry extension that the
// application cannot process, then the application MUST NOT use that CRL
// to determine the status of any certificates").
func checkEntryExtensions(exts []pkix.Extension) error {
	seen := map[string]bool{}
	for _, e := range exts {
		id := e.Id.String()
		if seen[id] {
			return fmt.Errorf("extension %s appears twice", id)
		}
		seen[id] = true
		switch {
		case e.Id.Equal(oidCertificateIssuer):
			return errors.New("certificateIssuer entry extension (indirect CRL, RFC 5280 §5.3.3): not supported")
		case e.Id.Equal(oidReasonCode), e.Id.Equal(oidInvalidityDate), e.Id.Equal(oidHoldInstructionCode):
			// informative: the certificate is revoked whatever the reason
		default:
			if e.Critical {
				return fmt.Errorf("unknown critical entry extension %s (RFC 5280 §5.3)", id)
			}
		}
	}
	return nil
}

// crlCovers reports whether crl, valid for issuer (validCRL), is
// authoritative for cert: by RFC 5280 §6.3.3 (b)(2), when it has an
// issuingDistributionPoint, cert must be of the kind it covers (end-entity
// or CA) and, when it names a distribution point, one of its names must be
// one of cert's distribution points (a certificate without the
// cRLDistributionPoints extension: its issuer's name, as a directoryName).
// URIs are compared exactly; a distribution point named relative to the
// CRL issuer is never matched (crypto/x509 does not expose such names of a
// certificate), so such a CRL is not used.
func crlCovers(crl *x509.RevocationList, cert, issuer *x509.Certificate) error {
	var idp *issuingDP
	for _, e := range crl.Extensions {
		if e.Id.Equal(oidIssuingDP) {
			p, err := parseIDP(e.Value)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrCRLRefused, err)
			}
			idp = &p
		}
	}
	if idp == nil {
		return nil
	}
	isCA := cert.BasicConstraintsValid && cert.IsCA
	switch {
	case idp.onlyUserCerts && isCA:
		return fmt.Errorf("%w: issuingDistributionPoint: onlyContainsUserCerts, and %q is a CA", ErrCRLNotInScope, cert.Subject.CommonName)
	case idp.onlyCACerts && !isCA:
		return fmt.Errorf("%w: issuingDistributionPoint: onlyContainsCACerts, and %q is not a CA", ErrCRLNotInScope, cert.Subject.CommonName)
	case idp.relativeName != nil:
		return fmt.Errorf("%w: issuingDistributionPoint: a distribution point named relative to the CRL issuer, not supported", ErrCRLNotInScope)
	case !idp.hasFullName:
		return nil
	}
	hasDP := slices.ContainsFunc(cert.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidCRLDistPoints) })
	for _, n := range idp.fullName {
		switch {
		case hasDP && n.tag == gnURI && slices.Contains(cert.CRLDistributionPoints, string(n.value)):
			return nil
		case !hasDP && n.tag == gnDirectoryName && bytes.Equal(n.value, issuer.RawSubject):
			return nil
		}
	}
	if hasDP {
		return fmt.Errorf("%w: issuingDistributionPoint names %s, none of the certificate's distribution points %q", ErrCRLNotInScope, idp.names(), cert.CRLDistributionPoints)
	}
	return fmt.Errorf("%w: issuingDistributionPoint names %s, and the certificate, without distribution point, is covered only by the name of its issuer", ErrCRLNotInScope, idp.names())
}

// issuingDP is a parsed issuingDistributionPoint extension (RFC 5280
// §5.2.5).
type issuingDP struct {
	hasFullName        bool          // distributionPoint is fullName
	fullName           []generalName // its names
	relativeName       []byte        // distributionPoint is nameRelativeToCRLIssuer: the RDN's DER SET contents
	onlyUserCerts      bool
	onlyCACerts        bool
	someReasons        bool   // onlySomeReasons present
	reasons            []byte // its bits, first octet bit 8 = bit 0 (unused), then keyCompromise…
	reasonBits         int    // number of bits
	indirectCRL        bool
	onlyAttributeCerts bool
}

// generalName is one GeneralName (RFC 5280 §4.2.1.6): its context tag and
// content (for a directoryName, the DER Name).
type generalName struct {
	tag   int
	value []byte
}

// GeneralName tags (RFC 5280 §4.2.1.6).
const (
	gnOtherName     = 0
	gnRFC822Name    = 1
	gnDNSName       = 2
	gnX400Address   = 3
	gnDirectoryName = 4
	gnEDIPartyName  = 5
	gnURI           = 6
	gnIPAddress     = 7
	gnRegisteredID  = 8
)

// reasonFlagNames are the ReasonFlags bits (RFC 5280 §4.2.1.13).
var reasonFlagNames = []string{"unused", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "privilegeWithdrawn", "aACompromise"}

func (p issuingDP) reason(i int) bool {
	return i < p.reasonBits && p.reasons[i/8]&(0x80>>(i%8)) != 0
}

// allReasons reports whether onlySomeReasons lists every reason
// (keyCompromise to aACompromise).
func (p issuingDP) allReasons() bool {
	for i := 1; i < len(reasonFlagNames); i++ {
		if !p.reason(i) {
			return false
		}
	}
	return true
}

func (p issuingDP) reasonNames() string {
	var out []string
	for i := 0; i < p.reasonBits; i++ {
		if p.reason(i) {
			if i < len(reasonFlagNames) {
				out = append(out, reasonFlagNames[i])
			} else {
				out = append(out, fmt.Sprintf("bit %d", i))
			}
		}
	}
	return "(" + strings.Join(out, ", ") + ")"
}

func (p issuingDP) names() string {
	var out []string
	for _, n := range p.fullName {
		switch n.tag {
		case gnURI:
			out = append(out, "URI "+strconv.Quote(string(n.value)))
		case gnDirectoryName:
			var rdns pkix.RDNSequence
			if _, err := asn1.Unmarshal(n.value, &rdns); err == nil {
				var name pkix.Name
				name.FillFromRDNSequence(&rdns)
				out = append(out, "directoryName "+strconv.Quote(name.String()))
				continue
			}
			out = append(out, "a directoryName")
		default:
			out = append(out, fmt.Sprintf("a GeneralName [%d]", n.tag))
		}
	}
	return strings.Join(out, ", ")
}

// ErrMalformedIDP: an issuingDistributionPoint extension that is not the
// DER encoding RFC 5280 §5.2.5 defines. The CRL carrying it is refused
// (the error also wraps ErrCRLRefused).
var ErrMalformedIDP = errors.New("bal: malformed issuingDistributionPoint")

// parseIDP parses the value of an issuingDistributionPoint extension:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	  distributionPoint          [0] DistributionPointName OPTIONAL,
//	  onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
//	  onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
//	  onlySomeReasons            [3] ReasonFlags OPTIONAL,
//	  indirectCRL                [4] BOOLEAN DEFAULT FALSE,
//	  onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
//	DistributionPointName ::= CHOICE {
//	  fullName                [0] GeneralNames,
//	  nameRelativeToCRLIssuer [1] RelativeDistinguishedName }
//
// (RFC 5280 §5.2.5 and §4.2.1.13, implicit tags; the CHOICE's tag is
// explicit.) Fields must come in this order, each at most once, nothing
// may follow (an element out of place is refused, never skipped: a scope
// restriction cannot be hidden); an explicit FALSE is read as FALSE
// (DER would leave it out). At most one of onlyContainsUserCerts,
// onlyContainsCACerts and onlyContainsAttributeCerts may be TRUE (§5.2.5).
// Errors wrap ErrMalformedIDP.
func parseIDP(der []byte) (issuingDP, error) {
	var p issuingDP
	fail := func(format string, args ...any) (issuingDP, error) {
		return issuingDP{}, fmt.Errorf("%w: %s", ErrMalformedIDP, fmt.Sprintf(format, args...))
	}
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return fail("%v", err)
	}
	if len(rest) > 0 {
		return fail("%d bytes after the SEQUENCE", len(rest))
	}
	if seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return fail("not a SEQUENCE")
	}
	body := seq.Bytes
	last := -1
	for len(body) > 0 {
		var f asn1.RawValue
		body, err = asn1.Unmarshal(body, &f)
		if err != nil {
			return fail("field %d: %v", last+1, err)
		}
		if f.Class != asn1.ClassContextSpecific || f.Tag > 5 {
			return fail("unexpected element (class %d, tag %d)", f.Class, f.Tag)
		}
		if f.Tag <= last {
			return fail("field [%d] after field [%d]: out of order or repeated", f.Tag, last)
		}
		last = f.Tag
		switch f.Tag {
		case 0:
			if !f.IsCompound {
				return fail("distributionPoint is not constructed")
			}
			if err := p.parseDPName(f.Bytes); err != nil {
				return fail("distributionPoint: %v", err)
			}
		case 3:
			if f.IsCompound {
				return fail("onlySomeReasons is constructed")
			}
			if err := p.parseReasons(f.Bytes); err != nil {
				return fail("onlySomeReasons: %v", err)
			}
		default:
			if f.IsCompound || len(f.Bytes) != 1 || (f.Bytes[0] != 0 && f.Bytes[0] != 0xff) {
				return fail("field [%d] is not a DER BOOLEAN", f.Tag)
			}
			v := f.Bytes[0] == 0xff
			switch f.Tag {
			case 1:
				p.onlyUserCerts = v
			case 2:
				p.onlyCACerts = v
			case 4:
				p.indirectCRL = v
			case 5:
				p.onlyAttributeCerts = v
			}
		}
	}
	n := 0
	for _, b := range []bool{p.onlyUserCerts, p.onlyCACerts, p.onlyAttributeCerts} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fail("more than one of onlyContainsUserCerts, onlyContainsCACerts, onlyContainsAttributeCerts")
	}
	return p, nil
}

// parseDPName parses the content of the explicit [0] of a
// DistributionPointName.
func (p *issuingDP) parseDPName(b []byte) error {
	var c asn1.RawValue
	rest, err := asn1.Unmarshal(b, &c)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errors.New("more than one name")
	}
	if c.Class != asn1.ClassContextSpecific || !c.IsCompound || c.Tag > 1 {
		return fmt.Errorf("unexpected element (class %d, tag %d)", c.Class, c.Tag)
	}
	if c.Tag == 1 { // nameRelativeToCRLIssuer: SET OF AttributeTypeAndValue, implicit
		var atvs []pkix.AttributeTypeAndValue
		set := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: c.Bytes}
		full, err := asn1.Marshal(set)
		if err != nil {
			return err
		}
		if rest, err := asn1.UnmarshalWithParams(full, &atvs, "set"); err != nil || len(rest) > 0 || len(atvs) == 0 {
			return errors.New("nameRelativeToCRLIssuer is not a RelativeDistinguishedName")
		}
		p.relativeName = slices.Clone(c.Bytes)
		return nil
	}
	names := c.Bytes
	if len(names) == 0 {
		return errors.New("fullName without a name (GeneralNames is SIZE (1..MAX))")
	}
	for len(names) > 0 {
		var g asn1.RawValue
		names, err = asn1.Unmarshal(names, &g)
		if err != nil {
			return fmt.Errorf("fullName: %v", err)
		}
		if g.Class != asn1.ClassContextSpecific || g.Tag > gnRegisteredID {
			return fmt.Errorf("fullName: not a GeneralName (class %d, tag %d)", g.Class, g.Tag)
		}
		constructed := g.Tag == gnOtherName || g.Tag == gnX400Address || g.Tag == gnDirectoryName || g.Tag == gnEDIPartyName
		if g.IsCompound != constructed {
			return fmt.Errorf("fullName: GeneralName [%d] with the wrong form", g.Tag)
		}
		v := slices.Clone(g.Bytes)
		if g.Tag == gnDirectoryName { // explicit: the content is one Name
			var rdns pkix.RDNSequence
			rest, err := asn1.Unmarshal(g.Bytes, &rdns)
			if err != nil || len(rest) > 0 {
				return errors.New("fullName: directoryName is not one Name")
			}
		}
		p.fullName = append(p.fullName, generalName{tag: g.Tag, value: v})
	}
	p.hasFullName = true
	return nil
}

// parseReasons parses the content of a ReasonFlags BIT STRING.
func (p *issuingDP) parseReasons(b []byte) error {
	if len(b) == 0 {
		return errors.New("empty BIT STRING")
	}
	unused := int(b[0])
	if unused > 7 || (len(b) == 1 && unused != 0) {
		return fmt.Errorf("BIT STRING with %d unused bits", unused)
	}
	if len(b) > 1 && b[len(b)-1]&(1<<unused-1) != 0 {
		return errors.New("BIT STRING with unused bits set")
	}
	p.someReasons = true
	p.reasons = slices.Clone(b[1:])
	p.reasonBits = 8*len(p.reasons) - unused
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

// checkChains accepts when one of the chains crypto/x509 verified passes
// checkChain: a certificate may be cross-certified, and a revoked
// cross-certificate on one path does not condemn another path that is
// good. The certificates the chains share are checked once. When none
// passes, the error names each chain's reason; it wraps ErrRevoked only
// when every chain holds a revoked certificate (then no later attempt can
// succeed), otherwise ErrRevocationUnknown and the reasons of the chains
// whose status is unknown.
func (r revocation) checkChains(ctx context.Context, chains [][]*x509.Certificate) error {
	if len(chains) == 0 {
		return errors.New("bal: no verified chain")
	}
	memo := map[string]error{}
	var errs []error
	for _, chain := range chains {
		err := r.checkChain(ctx, chain, memo)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	e := &chainsError{all: errs}
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = fmt.Sprintf("chain %d (%s): %v", i+1, chainNames(chains[i]), err)
		if !errors.Is(err, ErrRevoked) {
			e.unknown = append(e.unknown, err)
		}
	}
	e.msg = fmt.Sprintf("none of the %d verified chains passes the revocation check: %s", len(errs), strings.Join(msgs, "; "))
	return e
}

// chainsError is checkChains's error when several chains failed.
type chainsError struct {
	msg     string
	all     []error // every chain's error
	unknown []error // those of the chains without a revoked certificate
}

func (e *chainsError) Error() string { return e.msg }
func (e *chainsError) Unwrap() []error {
	if len(e.unknown) > 0 {
		return e.unknown
	}
	return e.all
}

func chainNames(chain []*x509.Certificate) string {
	names := make([]string, len(chain))
	for i, c := range chain {
		names[i] = strconv.Quote(c.Subject.CommonName)
	}
	return strings.Join(names, " < ")
}

// checkChain checks every certificate but the root against its issuer's
// CRL; memo keeps the outcome for each certificate and issuer (subject and
// key) already checked.
func (r revocation) checkChain(ctx context.Context, chain []*x509.Certificate, memo map[string]error) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		k := keyOf("", issuer)
		id := string(k.issuer[:]) + string(cert.Raw)
		err, done := memo[id]
		if !done {
			err = r.checkCert(ctx, cert, issuer)
			memo[id] = err
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r revocation) checkCert(ctx context.Context, cert, issuer *x509.Certificate) error {
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
	return nil
}

// crlFor returns a CRL of issuer valid now that covers cert: the newest
// such offline one, or else the one of cert's first distribution point
// that gives one.
func (r revocation) crlFor(ctx context.Context, cert, issuer *x509.Certificate) (*x509.RevocationList, error) {
	var errs []error
	if r.offline != nil {
		crls, err := r.offline.CRLs(ctx, issuer)
		if err != nil {
			errs = append(errs, fmt.Errorf("offline CRLs: %w", err))
		}
		var best *x509.RevocationList
		var rejected []error
		for _, crl := range crls {
			err := validCRL(crl, issuer, r.now)
			if err == nil {
				err = crlCovers(crl, cert, issuer)
			}
			if err != nil {
				rejected = append(rejected, fmt.Errorf("offline CRL issued %s: %w", crl.ThisUpdate.UTC().Format(time.RFC3339), err))
				continue
			}
			if newer(crl, best) {
				best = crl
			}
		}
		if best != nil {
			return best, nil
		}
		errs = append(errs, rejected...)
	}
	if len(cert.CRLDistributionPoints) == 0 {
		errs = append(errs, errors.New("no CRL distribution point and no valid offline CRL of its issuer"))
		return nil, joinErrs(errs)
	}
	for _, url := range slices.Compact(slices.Clone(cert.CRLDistributionPoints)) {
		crl, err := r.cache.get(ctx, url, issuer, r.now)
		if err == nil {
			if err = crlCovers(crl, cert, issuer); err == nil {
				return crl, nil
			}
			err = fmt.Errorf("CRL %s: %w", url, err)
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
