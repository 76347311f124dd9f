package bal_test

import (
	"crypto/x509"
	"os"
)

type x509Cert = x509.Certificate

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
