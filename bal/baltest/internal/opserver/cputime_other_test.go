// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package opserver

import "time"

// processCPU is not read outside Unix.
func processCPU() (time.Duration, bool) { return 0, false }
