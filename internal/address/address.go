// SPDX-License-Identifier: Apache-2.0

// Package address holds what packages mssante and annuaire share about an
// e-mail address: the one sentinel their errors about an address wrap,
// exported by each as ErrAddress (mssante.ErrAddress and
// annuaire.ErrAddress are this value).
//
// It lives here, in a package importing nothing of gomss, so that neither
// package depends on the other: annuaire does not pull in mssante's
// dependencies (ins, cda, xdm, the MIME and XML libraries), and mssante
// may use annuaire, or annuaire mssante, without an import cycle.
package address

import "errors"

// ErrInvalid is wrapped by every error about an e-mail address that
// cannot be used, whichever package found it.
var ErrInvalid = errors.New("gomss: invalid address")
