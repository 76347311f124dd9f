// SPDX-License-Identifier: Apache-2.0

package baltest

import (
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// PKCS12Password is the password of the PKCS#12 files written by
// [PKI.WriteFiles].
const PKCS12Password = "test"

// PKCS12 encodes the leaf, its chain and its private key as a PKCS#12 file
// protected by password, in the form OpenSSL 3 writes by default
// (go-pkcs12's Modern2023 encoder): the key and the certificates encrypted
// with PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC), an
// HMAC-SHA256 integrity MAC. The key and the leaf carry the same localKeyId
// (the SHA-1 of the leaf). This is the "software certificate" form an
// applicative mailbox's ORG certificate is delivered in.
func (l *Leaf) PKCS12(password string) ([]byte, error) {
	return l.encodePKCS12(pkcs12.Modern2023, password)
}

// PKCS12Legacy is [Leaf.PKCS12] with the weak algorithms of files exported
// by older tools (OpenSSL 1.x with -descert, Windows before Server 2019,
// Java before 12), go-pkcs12's LegacyDES encoder: key and certificates
// encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC, an HMAC-SHA1 MAC. It lets
// a test check that such a file, still found on practice computers, is read
// too. OpenSSL 3 reads it only with -legacy.
func (l *Leaf) PKCS12Legacy(password string) ([]byte, error) {
	return l.encodePKCS12(pkcs12.LegacyDES, password)
}

func (l *Leaf) encodePKCS12(enc *pkcs12.Encoder, password string) ([]byte, error) {
	out, err := enc.Encode(l.Key, l.Cert, l.Chain, password)
	if err != nil {
		return nil, fmt.Errorf("baltest: PKCS#12 of %q: %w", l.Cert.Subject.CommonName, err)
	}
	return out, nil
}
