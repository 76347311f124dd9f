// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Files are the paths of the PEM and DER files written by [PKI.WriteFiles],
// in the forms Dovecot, Postfix, OpenSSL and curl read.
type Files struct {
	// Dir is the directory holding the files.
	Dir string
	// Roots holds the two root certificates (roots.pem).
	Roots string
	// CABundle holds the intermediates then the roots (ca-bundle.pem):
	// Postfix's smtpd_tls_CAfile, a client's CA file.
	CABundle string
	// CRLs holds the four CRLs, PEM-encoded (crls.pem).
	CRLs string
	// CABundleCRLs is CABundle followed by the CRLs (ca-crl-bundle.pem):
	// Dovecot's ssl_ca when it checks CRLs (ssl_require_crl).
	CABundleCRLs string
	// CRLDER are the DER CRLs named as in their distribution points
	// (ACR-FO.crl, ACR-EL.crl, ACI-FO-PP.crl, ACI-EL-ORG.crl), in the order
	// of PKI.CAs.
	CRLDER []string

	// Leaf certificates (followed by their chain) and PKCS#8 keys.
	Server, CPS, ORG, Revoked, Expired, WrongHost LeafFiles

	// ORGPKCS12 holds the ORG certificate, its chain and its key as a
	// PKCS#12 file (org.p12) protected by PKCS12Password.
	ORGPKCS12 string
}

// LeafFiles are the files of one leaf certificate.
type LeafFiles struct {
	// Cert holds the certificate followed by its issuing intermediate.
	Cert string
	// Key holds the unencrypted PKCS#8 private key (mode 0600).
	Key string
}

// WriteFiles writes the PKI's certificates, keys and CRLs into dir, which
// must exist, and returns their paths.
func (p *PKI) WriteFiles(dir string) (Files, error) {
	f := Files{Dir: dir}
	var roots, inters, crls bytes.Buffer
	for _, ca := range p.CAs() {
		if ca.Cert.CheckSignatureFrom(ca.Cert) == nil {
			roots.Write(pemCert(ca.Cert))
		} else {
			inters.Write(pemCert(ca.Cert))
		}
		crls.Write(ca.CRLPEM())
	}
	bundle := slices.Concat(inters.Bytes(), roots.Bytes())
	w := writer{dir: dir}
	f.Roots = w.file("roots.pem", roots.Bytes(), 0o644)
	f.CABundle = w.file("ca-bundle.pem", bundle, 0o644)
	f.CRLs = w.file("crls.pem", crls.Bytes(), 0o644)
	f.CABundleCRLs = w.file("ca-crl-bundle.pem", slices.Concat(bundle, crls.Bytes()), 0o644)
	for _, ca := range p.CAs() {
		f.CRLDER = append(f.CRLDER, w.file(ca.crlFile, ca.CRLDER, 0o644))
	}
	f.Server = w.leaf("server", p.Server)
	f.CPS = w.leaf("cps", p.CPS)
	f.ORG = w.leaf("org", p.ORG)
	f.Revoked = w.leaf("revoked", p.Revoked)
	f.Expired = w.leaf("expired", p.Expired)
	f.WrongHost = w.leaf("wronghost", p.WrongHost)
	p12, err := p.ORG.PKCS12(PKCS12Password)
	if err != nil {
		return Files{}, err
	}
	f.ORGPKCS12 = w.file("org.p12", p12, 0o600)
	if w.err != nil {
		return Files{}, w.err
	}
	return f, nil
}

// WriteLeaf writes a leaf's certificate (with its chain) and key into dir
// as <name>.pem and <name>.key.
func WriteLeaf(dir, name string, l *Leaf) (LeafFiles, error) {
	w := writer{dir: dir}
	f := w.leaf(name, l)
	return f, w.err
}

// writer writes files into dir and keeps the first error.
type writer struct {
	dir string
	err error
}

func (w *writer) file(name string, data []byte, mode os.FileMode) string {
	path := filepath.Join(w.dir, name)
	if w.err == nil {
		if err := os.WriteFile(path, data, mode); err != nil {
			w.err = fmt.Errorf("baltest: writing PKI files: %w", err)
		}
	}
	return path
}

func (w *writer) leaf(name string, l *Leaf) LeafFiles {
	return LeafFiles{
		Cert: w.file(name+".pem", l.CertPEM(), 0o644),
		Key:  w.file(name+".key", l.KeyPEM(), 0o600),
	}
}
