// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/examples/internal/setup"
	"github.com/ecdaf744/gomss/mssante"
)

// openCard opens the CPS card (or any PKCS#11 token holding an IGC-Santé
// authentication certificate) named by -pkcs11 and -token-label, with the
// PIN read from the environment variable named by -pin-env. The sender is
// then the card holder's personal BAL, labelled with the names on the card.
// In a build without cgo, bal.OpenCPS fails with bal.ErrCPSUnsupported.
func openCard(ctx context.Context, o *options) (bal.Authenticator, func() error, mssante.Sender, error) {
	mode := bal.CPSModeTLS13PSS
	switch o.cpsMode {
	case "", "tls13-pss":
	case "tls12-pkcs1":
		mode = bal.CPSModeTLS12PKCS1
	default:
		return nil, nil, mssante.Sender{}, fmt.Errorf("-cps-mode %q: want tls13-pss or tls12-pkcs1", o.cpsMode)
	}
	var chain []*x509.Certificate
	if o.chain != "" {
		var err error
		if chain, err = setup.ReadCertificates(o.chain); err != nil {
			return nil, nil, mssante.Sender{}, err
		}
	}
	cps, err := bal.OpenCPS(ctx, bal.CPSConfig{
		Chain:      chain,
		ModulePath: o.pkcs11,
		TokenLabel: o.tokenLabel,
		Mode:       mode,
		PIN: func(context.Context) (string, error) {
			pin := os.Getenv(o.pinEnv)
			if pin == "" {
				return "", fmt.Errorf("the card's PIN is read from $%s, which is empty", o.pinEnv)
			}
			return pin, nil
		},
	})
	if err != nil {
		return nil, nil, mssante.Sender{}, err
	}
	id := cps.Identity()
	return cps, cps.Close, mssante.Sender{Address: o.from, Kind: mssante.Personal, GivenName: id.GivenName, FamilyName: id.Surname}, nil
}
