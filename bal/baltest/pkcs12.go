package baltest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"unicode/utf16"
)

// PKCS12Password is the password of the PKCS#12 files written by
// [PKI.WriteFiles].
const PKCS12Password = "test"

// pkcs12Iterations is OpenSSL's default iteration count for both the key
// encryption and the MAC.
const pkcs12Iterations = 2048

// Object identifiers of PKCS#7, PKCS#12 (RFC 7292), PKCS#5 (RFC 8018), PKCS#9.
var (
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidShroudedKeyBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Certificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidPBES2           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA256  = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	asn1NULL           = asn1.RawValue{Tag: asn1.TagNull}
)

const (
	// pkcs12FriendlyName is the friendlyName of the key and certificate.
	pkcs12FriendlyName = "baltest"
	// pkcs12MACKeyMaterial is the ID of RFC 7292 B.3 that derives MAC keys.
	pkcs12MACKeyMaterial = 3
)

type pfx struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // [0] EXPLICIT, see explicit0
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int
}

type digestInfo struct {
	Algorithm algorithmIdentifier
	Digest    []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// explicit0 wraps DER in an [0] EXPLICIT tag. encoding/asn1 ignores the
// tag options of RawValue fields, so the fields of type RawValue below that
// PKCS#12 defines as [0] EXPLICIT hold the wrapped value.
func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     // [0] EXPLICIT, see explicit0
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID     asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID    asn1.ObjectIdentifier
	Value []byte `asn1:"explicit,tag:0"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm algorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF        algorithmIdentifier
	Encryption algorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	PRF        algorithmIdentifier
}

// PKCS12 encodes the leaf, its chain and its private key as a PKCS#12 file
// protected by password, in the form OpenSSL 3 writes by default: the key
// encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), the certificates
// in clear, an HMAC-SHA256 integrity MAC. This is the "software
// certificate" form an applicative mailbox's ORG certificate is delivered
// in.
func (l *Leaf) PKCS12(password string) ([]byte, error) {
	fail := func(err error) ([]byte, error) { return nil, fmt.Errorf("baltest: PKCS#12: %w", err) }
	keyID := sha1.Sum(l.Cert.Raw)
	attrs, err := bagAttributes(keyID[:])
	if err != nil {
		return fail(err)
	}

	var certBags []safeBag
	for i, c := range append([]*x509.Certificate{l.Cert}, l.Chain...) {
		b, err := asn1.Marshal(certBag{ID: oidX509Certificate, Value: c.Raw})
		if err != nil {
			return fail(err)
		}
		bag := safeBag{ID: oidCertBag, Value: explicit0(b)}
		if i == 0 {
			bag.Attributes = attrs
		}
		certBags = append(certBags, bag)
	}
	shrouded, err := shroudKey(l, password)
	if err != nil {
		return fail(err)
	}
	keyBags := []safeBag{{ID: oidShroudedKeyBag, Value: explicit0(shrouded), Attributes: attrs}}

	var safe []contentInfo
	for _, bags := range [][]safeBag{certBags, keyBags} {
		ci, err := dataContentInfo(bags)
		if err != nil {
			return fail(err)
		}
		safe = append(safe, ci)
	}
	authSafe, err := dataContentInfo(safe)
	if err != nil {
		return fail(err)
	}
	// The MAC covers the content octets of the authSafe data.
	var content []byte
	if _, err := asn1.Unmarshal(authSafe.Content.Bytes, &content); err != nil {
		return fail(err)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	macKey := pkcs12KDF(bmpPassword(password), salt, pkcs12MACKeyMaterial, pkcs12Iterations, sha256.Size)
	mac := hmac.New(sha256.New, macKey)
	mac.Write(content)
	out, err := asn1.Marshal(pfx{
		Version:  3,
		AuthSafe: authSafe,
		MacData: macData{
			Mac:        digestInfo{Algorithm: algorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1NULL}, Digest: mac.Sum(nil)},
			MacSalt:    salt,
			Iterations: pkcs12Iterations,
		},
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// dataContentInfo wraps the DER encoding of v in a PKCS#7 data ContentInfo.
func dataContentInfo(v any) (contentInfo, error) {
	der, err := asn1.Marshal(v)
	if err != nil {
		return contentInfo{}, err
	}
	octets, err := asn1.Marshal(der)
	if err != nil {
		return contentInfo{}, err
	}
	return contentInfo{ContentType: oidData, Content: explicit0(octets)}, nil
}

// bagAttributes are the friendlyName and localKeyId that pair the key with
// its certificate.
func bagAttributes(keyID []byte) ([]pkcs12Attribute, error) {
	id, err := asn1.Marshal(keyID)
	if err != nil {
		return nil, err
	}
	name := asn1.RawValue{Class: asn1.ClassUniversal, Tag: 30, Bytes: bmp(pkcs12FriendlyName)} // BMPString
	return []pkcs12Attribute{
		{ID: oidFriendlyName, Values: []asn1.RawValue{name}},
		{ID: oidLocalKeyID, Values: []asn1.RawValue{{FullBytes: id}}},
	}, nil
}

// shroudKey encrypts the PKCS#8 key with PBES2: PBKDF2-HMAC-SHA256 on the
// UTF-8 password, AES-256-CBC with PKCS#7 padding.
func shroudKey(l *Leaf, password string) ([]byte, error) {
	plain, err := x509.MarshalPKCS8PrivateKey(l.Key)
	if err != nil {
		return nil, err
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	key, err := pbkdf2.Key(sha256.New, password, salt, pkcs12Iterations, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	for range pad {
		plain = append(plain, byte(pad))
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(plain, plain)

	kdfParams, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: pkcs12Iterations, PRF: algorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1NULL}})
	if err != nil {
		return nil, err
	}
	ivParam, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF:        algorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		Encryption: algorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivParam}},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm: algorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		Data:      plain,
	})
}

// bmp encodes s as UTF-16 big-endian (BMPString content).
func bmp(s string) []byte {
	var out []byte
	for _, r := range utf16.Encode([]rune(s)) {
		out = append(out, byte(r>>8), byte(r))
	}
	return out
}

// bmpPassword is the password form of RFC 7292 B.1: its BMPString encoding
// followed by two zero bytes.
func bmpPassword(password string) []byte {
	return append(bmp(password), 0, 0)
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2 with SHA-256
// (u = 32, v = 64 bytes).
func pkcs12KDF(password, salt []byte, id byte, iterations, size int) []byte {
	const u, v = sha256.Size, sha256.BlockSize
	fill := func(b []byte) []byte { // repeat b to a multiple of v bytes
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	in := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		h := sha256.Sum256(append(append([]byte{}, d...), in...))
		a := h[:]
		for range iterations - 1 {
			h = sha256.Sum256(a)
			a = h[:]
		}
		out = append(out, a...)
		// I_j = (I_j + B + 1) mod 2^(8v), B being A repeated to v bytes.
		b := make([]byte, v)
		for i := range b {
			b[i] = a[i%u]
		}
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(in[j+k]) + int(b[k]) + carry
				in[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}
