//go:build !cgo

package main

import (
	"context"
	"errors"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/mssante"
)

// openCard fails: PKCS#11 needs cgo (package bal's CPS support is built
// only with cgo).
func openCard(context.Context, *options) (bal.Authenticator, func() error, mssante.Sender, error) {
	return nil, nil, mssante.Sender{}, errors.New("-pkcs11: this program was built without cgo (CGO_ENABLED=0), so it cannot load a PKCS#11 module")
}
