// SPDX-License-Identifier: Apache-2.0

//go:build !cgo

package bal

import "context"

// OpenCPS needs cgo (PKCS#11 through crypto11): in this build, made with
// CGO_ENABLED=0, it always fails with ErrCPSUnsupported, before looking at
// cfg or asking for the PIN. Build with cgo to use a CPS card; the
// software certificate (Certificate) and Pro Santé Connect (PSC) work in
// every build.
func OpenCPS(ctx context.Context, cfg CPSConfig) (*CPS, error) {
	return nil, ErrCPSUnsupported
}
