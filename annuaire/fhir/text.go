package fhir

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// equalFoldASCII compares a and b ignoring ASCII case only: an address
// with "ſ" (U+017F) is not the one with "s", as strings.EqualFold would
// say.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// departmentOf derives the department from a postal code, by the rule the
// extraction reader applies to a missing department column: 97x/98x
// overseas, otherwise the first two digits ("20" for Corsica, whose 2A and
// 2B the postal code does not tell apart).
func departmentOf(cp string) string {
	if len(cp) < 2 {
		return ""
	}
	if (cp[:2] == "97" || cp[:2] == "98") && len(cp) >= 3 {
		return cp[:3]
	}
	return cp[:2]
}
