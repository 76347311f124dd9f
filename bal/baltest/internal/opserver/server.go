// SPDX-License-Identifier: Apache-2.0

// Package opserver is the test operator command (bal/baltest/cmd/mssoperator):
// the in-process operator of bal/baltest with a fresh test PKI written to a
// folder, its CRLs served over HTTP, the Annuaire Santé FHIR fake, a JSON
// HTTP API to inspect and steer it and a web page, so that a vendor's CI in
// any language can exchange MSSanté messages with it.
package opserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/bal/baltest"
)

// Config configures Start.
type Config struct {
	// Dir receives the files (PKI, settings); it is created when missing.
	// The operator keeps no state outside it.
	Dir string
	// SMTP, SMTPS, IMAP, IMAPS and API are the listen addresses
	// (host:port); empty means 127.0.0.1 and a free port.
	SMTP, SMTPS, IMAP, IMAPS, API string
	// Token protects the API (Authorization: Bearer <token>); empty means
	// a random one, written to the settings.
	Token string
	// Domain is the operator's host name (baltest.DefaultServerName when
	// empty).
	Domain string
	// MaxMessageBytes as in baltest.OperatorConfig.
	MaxMessageBytes int64
}

// Settings are what a client needs to connect: written to Dir as
// operator.json and operator.env, and returned by Start.
type Settings struct {
	Dir         string    `json:"dir"`
	Started     time.Time `json:"started"`
	Domain      string    `json:"domain"`
	SMTP        string    `json:"smtp"`  // submission with STARTTLS
	SMTPS       string    `json:"smtps"` // submission with implicit TLS
	IMAP        string    `json:"imap"`  // IMAP with STARTTLS
	IMAPS       string    `json:"imaps"` // IMAP with implicit TLS
	API         string    `json:"api"`   // http://host:port
	APIToken    string    `json:"apiToken"`
	CRLBase     string    `json:"crlBase"`
	Annuaire    string    `json:"annuaire"` // FHIR base URL of the Annuaire Santé fake
	AnnuaireKey string    `json:"annuaireKey"`
	// INSi is the endpoint of the INSi téléservice fake (insi.Config
	// Endpoint); its roots and the INSI-AUTO certificate are in Files
	// (insiRoots, insiAutoCert, insiAutoKey, insiAutoP12).
	INSi      string    `json:"insi"`
	Mailboxes []Mailbox `json:"mailboxes"`
	// Files are the paths of the PKI files, by name (roots, caBundle,
	// crls, and per certificate <name>Cert, <name>Key, <name>P12,
	// <name>P12Legacy).
	Files map[string]string `json:"files"`
	// P12Password protects every PKCS#12 file.
	P12Password string `json:"p12Password"`
}

// Mailbox is a test mailbox and the ways to log in to it.
type Mailbox struct {
	Address  string `json:"address"`
	Password string `json:"password"`
	// Certificate names the certificate of Files that logs in with SASL
	// EXTERNAL ("cps", "org"), empty when none.
	Certificate string `json:"certificate,omitempty"`
	// Token is a Pro Santé Connect-like bearer token for XOAUTH2 and
	// OAUTHBEARER.
	Token string `json:"token"`
}

// Server is a running test operator.
type Server struct {
	Op       *baltest.Operator
	Settings Settings
	store    *store
	crl      *baltest.CRLServer
	api      *http.Server
	apiLn    net.Listener
	fhir     interface{ Close() }
	insi     interface{ Close() }
	leaves   map[string]*baltest.Leaf
	done     chan struct{}
}

// Start starts everything and writes the files. Close stops it.
func Start(cfg Config) (s *Server, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("opserver: a directory is needed")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("opserver: %w", err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("opserver: %w", err)
	}
	token := cfg.Token
	if token == "" {
		token = randomToken()
	}
	s = &Server{store: newStore(), done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	pki, err := baltest.NewPKI(&baltest.PKIOptions{})
	if err != nil {
		return nil, fmt.Errorf("opserver: PKI: %w", err)
	}
	if s.crl, err = pki.ServeCRL(); err != nil {
		return nil, fmt.Errorf("opserver: %w", err)
	}
	files, err := writePKI(filepath.Join(dir, "pki"), pki)
	if err != nil {
		return nil, err
	}
	s.leaves = map[string]*baltest.Leaf{"cps": pki.CPS, "org": pki.ORG, "revoked": pki.Revoked, "expired": pki.Expired}
	s.Op, err = baltest.StartOperator(&baltest.OperatorConfig{PKI: pki, Domain: cfg.Domain, MaxMessageBytes: cfg.MaxMessageBytes,
		SMTPAddr: cfg.SMTP, SMTPSAddr: cfg.SMTPS, IMAPAddr: cfg.IMAP, IMAPSAddr: cfg.IMAPS, Delivered: s.store.add})
	if err != nil {
		return nil, fmt.Errorf("opserver: %w", err)
	}
	var boxes []Mailbox
	for _, u := range s.Op.Users {
		b := Mailbox{Address: u.Address, Password: u.Password, Token: "jeton-" + strings.ReplaceAll(strings.Split(u.Address, "@")[0], ".", "-") + "-" + randomToken()[:8]}
		switch u.Address {
		case baltest.CPSUser:
			b.Certificate = "cps"
		case baltest.ORGUser:
			b.Certificate = "org"
		}
		s.Op.AddToken(b.Token, u.Address)
		boxes = append(boxes, b)
	}
	if err := writeAnnuaireFiles(filepath.Join(dir, "annuaire"), s.Op, files); err != nil {
		return nil, err
	}
	fhirURL, fhirKey, fhirSrv, err := startAnnuaire(s.Op.Users)
	if err != nil {
		return nil, err
	}
	s.fhir = fhirSrv
	insiSrv, err := startINSi(filepath.Join(dir, "pki"), files)
	if err != nil {
		return nil, err
	}
	s.insi = insiSrv
	apiAddr := cfg.API
	if apiAddr == "" {
		apiAddr = "127.0.0.1:0"
	}
	if s.apiLn, err = net.Listen("tcp", apiAddr); err != nil {
		return nil, fmt.Errorf("opserver: API listener: %w", err)
	}
	s.Settings = Settings{
		Dir: dir, Started: time.Now().UTC().Truncate(time.Second), Domain: s.Op.Domain,
		SMTP: s.Op.SMTPAddr, SMTPS: s.Op.SMTPSAddr, IMAP: s.Op.IMAPAddr, IMAPS: s.Op.IMAPSAddr,
		API: "http://" + s.apiLn.Addr().String(), APIToken: token, CRLBase: s.crl.URL,
		Annuaire: fhirURL, AnnuaireKey: fhirKey, INSi: insiSrv.URL,
		Mailboxes: boxes, Files: files, P12Password: baltest.PKCS12Password,
	}
	s.api = &http.Server{Handler: s.handler(token), ReadHeaderTimeout: 10 * time.Second}
	go s.api.Serve(s.apiLn)
	if err := writeSettings(dir, s.Settings); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the servers. The files stay.
func (s *Server) Close() {
	if s.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.api.Shutdown(ctx)
		cancel()
	} else if s.apiLn != nil {
		s.apiLn.Close()
	}
	if s.fhir != nil {
		s.fhir.Close()
	}
	if s.insi != nil {
		s.insi.Close()
	}
	if s.Op != nil {
		s.Op.Close()
	}
	if s.crl != nil {
		s.crl.Close()
	}
}

// writePKI writes the PKI as baltest.PKI.WriteFiles does, plus each client
// certificate as PKCS#12 in modern (AES, PBKDF2, SHA-256) and legacy
// (3DES, SHA-1) encryption, for Java and .NET keystores.
func writePKI(dir string, pki *baltest.PKI) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opserver: %w", err)
	}
	f, err := pki.WriteFiles(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]string{"roots": f.Roots, "caBundle": f.CABundle, "crls": f.CRLs, "caBundleCRLs": f.CABundleCRLs}
	for name, lf := range map[string]baltest.LeafFiles{"server": f.Server, "cps": f.CPS, "org": f.ORG, "revoked": f.Revoked, "expired": f.Expired, "wrongHost": f.WrongHost} {
		files[name+"Cert"], files[name+"Key"] = lf.Cert, lf.Key
	}
	for name, l := range map[string]*baltest.Leaf{"cps": pki.CPS, "org": pki.ORG, "revoked": pki.Revoked, "expired": pki.Expired} {
		modern, err := l.PKCS12(baltest.PKCS12Password)
		if err != nil {
			return nil, fmt.Errorf("opserver: PKCS#12 of %s: %w", name, err)
		}
		legacy, err := l.PKCS12Legacy(baltest.PKCS12Password)
		if err != nil {
			return nil, fmt.Errorf("opserver: PKCS#12 of %s: %w", name, err)
		}
		for key, data := range map[string][]byte{name + "P12": modern, name + "P12Legacy": legacy} {
			file := name + ".p12"
			if strings.HasSuffix(key, "Legacy") {
				file = name + "-legacy.p12"
			}
			path := filepath.Join(dir, file)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				return nil, fmt.Errorf("opserver: %w", err)
			}
			files[key] = path
		}
	}
	return files, nil
}

// writeSettings writes operator.json and operator.env (KEY=value lines,
// MSS_ prefix, for a shell's "set -a; . operator.env" or a CI's env file).
func writeSettings(dir string, st Settings) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "operator.json"), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("opserver: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "operator.env"), []byte(envLines(st)), 0o600)
}

func envLines(st Settings) string {
	env := map[string]string{
		"MSS_DIR": st.Dir, "MSS_DOMAIN": st.Domain, "MSS_SMTP": st.SMTP, "MSS_SMTPS": st.SMTPS, "MSS_IMAP": st.IMAP, "MSS_IMAPS": st.IMAPS,
		"MSS_API": st.API, "MSS_API_TOKEN": st.APIToken, "MSS_CRL_BASE": st.CRLBase, "MSS_ANNUAIRE": st.Annuaire,
		"MSS_ANNUAIRE_KEY": st.AnnuaireKey, "MSS_INSI": st.INSi, "MSS_P12_PASSWORD": st.P12Password,
	}
	for k, v := range st.Files {
		env["MSS_FILE_"+upperSnake(k)] = v
	}
	for _, b := range st.Mailboxes {
		p := "MSS_BOX_" + upperSnake(strings.Split(b.Address, "@")[0]) + "_"
		env[p+"ADDRESS"], env[p+"PASSWORD"], env[p+"TOKEN"] = b.Address, b.Password, b.Token
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s=%s\n", k, env[k])
	}
	return sb.String()
}

// upperSnake turns "caBundle" or "jean.dupont" into "CA_BUNDLE", "JEAN_DUPONT".
func upperSnake(s string) string {
	var sb strings.Builder
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 {
				sb.WriteByte('_')
			}
			sb.WriteRune(r)
		case r >= 'a' && r <= 'z':
			sb.WriteRune(r - 'a' + 'A')
		case r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
