//go:build cgo

package bal

import _ "github.com/ThalesGroup/crypto11"
