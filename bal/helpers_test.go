package bal_test

import (
	"crypto/x509"
	"os"

	"golang.org/x/oauth2"
)

type x509Cert = x509.Certificate

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

type oauth2Token = oauth2.Token
