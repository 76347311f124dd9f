package annuaire

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Domain names with non-ASCII characters are compared in their ASCII
// (IDNA "A-label") form: each label holding non-ASCII characters becomes
// "xn--" followed by its Punycode encoding (RFC 3492, parameters of §5).
// Labels are lower-cased first (Unicode simple case folding by
// strings.ToLower); Unicode normalisation (NFC) and the IDNA2008 validity
// tables are not applied: the liste blanche and the queries are compared
// with the same transformation, which is what matching needs.

const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

var errPunycode = errors.New("punycode overflow")

// DomainASCII returns the comparable form of a domain name: trimmed, final
// dot removed, lower case, non-ASCII labels as "xn--" Punycode. It fails on
// an empty name, an empty label, invalid UTF-8 or a name longer than 253
// bytes once encoded.
func DomainASCII(domain string) (string, error) {
	d := strings.TrimSuffix(strings.TrimSpace(domain), ".")
	if d == "" {
		return "", errors.New("annuaire: empty domain name")
	}
	if !utf8.ValidString(d) {
		return "", errors.New("annuaire: domain name is not valid UTF-8")
	}
	ascii := true
	for i := 0; i < len(d); i++ {
		if d[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		d = strings.ToLower(d)
	} else {
		labels := strings.Split(strings.ToLower(d), ".")
		for i, l := range labels {
			if isASCII(l) {
				continue
			}
			enc, err := punyEncode(l)
			if err != nil {
				return "", err
			}
			labels[i] = "xn--" + enc
		}
		d = strings.Join(labels, ".")
	}
	if len(d) > 253 {
		return "", errors.New("annuaire: domain name longer than 253 bytes")
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" {
			return "", errors.New("annuaire: empty label in domain " + clip(domain))
		}
	}
	return d, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// punyEncode encodes one label (RFC 3492 §6.3).
func punyEncode(label string) (string, error) {
	runes := []rune(label)
	out := make([]byte, 0, len(label)+8)
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h < len(runes) {
		m := rune(0x7FFFFFFF)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		if int(m-n) > (1<<31-1-delta)/(h+1) {
			return "", errPunycode
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				switch {
				case t < pcTMin:
					t = pcTMin
				case t > pcTMax:
					t = pcTMax
				}
				if q < t {
					break
				}
				out = append(out, punyDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, punyDigit(q))
			bias = punyAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out), nil
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func punyAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
