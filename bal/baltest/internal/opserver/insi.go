// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/ins"
	"github.com/ecdaf744/gomss/ins/insitest"
)

// insiPerson is the INSi reference base of the fake: ECETINSI
// PIERRE-ALAIN, one of the test identities the ANS publishes for the INSi
// téléservice (also used by examples/insi-lookup).
func insiPerson() (insitest.Person, error) {
	m, err := ins.ParseMatricule("109076322083489")
	if err != nil {
		return insitest.Person{}, err
	}
	return insitest.Person{
		INS: ins.INS{Matricule: m, Authority: ins.AuthorityNIR},
		Traits: ins.Traits{BirthFamilyName: "ECETINSI", FirstBirthGivenName: "PIERRE-ALAIN", BirthGivenNames: "PIERRE-ALAIN MURIEL",
			Sex: ins.Male, BirthDate: ins.Date{Year: 2009, Month: 7, Day: 14}, BirthPlace: "63220"},
	}, nil
}

// startINSi starts the INSi fake (ins/insitest: mTLS or CPx, SOAP faults
// as documented) and writes into dir its roots and the structure's
// INSI-AUTO software certificate (PEM and PKCS#12).
func startINSi(dir string, files map[string]string) (*insitest.Server, error) {
	p, err := insiPerson()
	if err != nil {
		return nil, fmt.Errorf("opserver: INSi fake: %w", err)
	}
	srv, err := insitest.NewServer(insitest.Options{People: []insitest.Person{p}})
	if err != nil {
		return nil, fmt.Errorf("opserver: INSi fake: %w", err)
	}
	l := srv.PKI.Auto
	key, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("opserver: INSi fake: %w", err)
	}
	pfx, err := pkcs12.Modern2023.Encode(l.Key, l.Cert, l.Chain, baltest.PKCS12Password)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("opserver: INSi fake: %w", err)
	}
	var roots, cert []byte
	for _, ca := range []*x509.Certificate{srv.PKI.RootElementaire.Cert, srv.PKI.RootFort.Cert} {
		roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	}
	cert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Cert.Raw})
	for _, c := range l.Chain {
		cert = append(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	for name, data := range map[string][]byte{
		"insiRoots": roots, "insiAutoCert": cert,
		"insiAutoKey": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), "insiAutoP12": pfx,
	} {
		file := map[string]string{"insiRoots": "insi-roots.pem", "insiAutoCert": "insi-auto.pem", "insiAutoKey": "insi-auto.key", "insiAutoP12": "insi-auto.p12"}[name]
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			srv.Close()
			return nil, fmt.Errorf("opserver: %w", err)
		}
		files[name] = path
	}
	return srv, nil
}
