// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// postfixMain is a complete main.cf: nothing is read from /etc/postfix
// except the files the postfix command itself needs (postfix-files,
// dynamicmaps.cf in meta_directory).
var postfixMain = template.Must(template.New("main.cf").Parse(`# written by gomss/bal/baltest
compatibility_level = 3.6
queue_directory = {{.Dir}}/queue
data_directory = {{.Dir}}/data
maillog_file = {{.Dir}}/log/postfix.log
maillog_file_prefixes = {{.Dir}}/log
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = {{.Hostname}}
mydomain = {{.Hostname}}
mydestination =
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_peername_lookup = no

# The test domains go to Dovecot over LMTP; any other is bounced at once,
# which gives real failure DSNs.
virtual_mailbox_domains = {{.Domains}}
virtual_transport = lmtp:inet:{{.LMTPAddr}}
default_transport = error:5.1.2 domain outside the test operator
relay_transport = $default_transport

# Submission over STARTTLS only (or implicit TLS on the wrapper-mode
# listener of master.cf), with a client certificate issued by the
# test PKI (required unless ClientCertOptional), or SMTP AUTH. Postfix does
# not read CRLs: revoked certificates are refused by fingerprint.
smtpd_tls_chain_files = {{.Files.Server.Key}}, {{.Files.Server.Cert}}
smtpd_tls_CAfile = {{.Files.CABundle}}
smtpd_tls_security_level = encrypt
smtpd_tls_ask_ccert = yes
smtpd_tls_req_ccert = {{.RequireCert}}
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_fingerprint_digest = sha256
smtpd_relay_restrictions = check_ccert_access texthash:{{.Dir}}/etc/denied_certificates, permit_tls_all_clientcerts, permit_sasl_authenticated, reject
smtpd_recipient_restrictions =

# SMTP AUTH after STARTTLS, checked by Dovecot's authentication service:
# passwords (PLAIN, LOGIN) and bearer tokens (XOAUTH2, OAUTHBEARER).
# EXTERNAL is not offered (Postfix's default mechanism filter): Postfix
# does not pass the client certificate on to Dovecot. A client logged in
# with SASL may only use its own address as envelope sender (the null
# sender of DSNs and MDNs is not checked); certificate clients are not
# restricted.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {{.AuthSocket}}
smtpd_tls_auth_only = yes
smtpd_sender_login_maps = texthash:{{.Dir}}/etc/sender_logins
smtpd_sender_restrictions = reject_authenticated_sender_login_mismatch

# Retry soon after a failure (an LMTP server stopped by a test).
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`))

// postfixMaster lists the services the test needs; the chroot column is
// "n" everywhere (no copy of /etc files into the queue directory).
var postfixMaster = template.Must(template.New("master.cf").Parse(`# written by gomss/bal/baltest
# service   type  private unpriv chroot wakeup maxproc command
{{.SubmissionAddr}} inet n - n - - smtpd
{{.SubmissionsAddr}} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes
pickup      unix  n - n 60    1 pickup
cleanup     unix  n - n -     0 cleanup
qmgr        unix  n - n 300   1 qmgr
tlsmgr      unix  - - n 1000? 1 tlsmgr
rewrite     unix  - - n -     - trivial-rewrite
bounce      unix  - - n -     0 bounce
defer       unix  - - n -     0 bounce
trace       unix  - - n -     0 bounce
verify      unix  - - n -     1 verify
flush       unix  n - n 1000? 0 flush
proxymap    unix  - - n -     - proxymap
proxywrite  unix  - - n -     1 proxymap
smtp        unix  - - n -     - smtp
relay       unix  - - n -     - smtp
showq       unix  n - n -     - showq
error       unix  - - n -     - error
retry       unix  - - n -     - error
discard     unix  - - n -     - discard
lmtp        unix  - - n -     - lmtp
anvil       unix  - - n -     1 anvil
scache      unix  - - n -     1 scache
postlog     unix-dgram n - n - 1 postlogd
`))

type postfixParams struct {
	Dir, Hostname, Domains, LMTPAddr, SubmissionAddr string
	AuthSocket, RequireCert                          string
	Files                                            Files
	// SubmissionsAddr is the implicit TLS listener (wrapper mode).
	SubmissionsAddr string
	// Logins are the addresses a SASL login name may send from, by
	// login name (Dovecot's user name: the lower-cased address).
	Logins []string
}

// writePostfixFiles writes main.cf, master.cf, the table of denied
// certificates and the sender login map into Dir/etc.
func writePostfixFiles(p postfixParams, denied []*x509.Certificate) error {
	etc := filepath.Join(p.Dir, "etc")
	for name, tmpl := range map[string]*template.Template{"main.cf": postfixMain, "master.cf": postfixMaster} {
		var b strings.Builder
		if err := tmpl.Execute(&b, p); err != nil {
			return fmt.Errorf("baltest: %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(etc, name), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("baltest: %w", err)
		}
	}
	var table strings.Builder
	for _, c := range denied {
		// Both lookup keys Postfix tries: the certificate's and the public
		// key's fingerprint.
		fmt.Fprintf(&table, "%s REJECT client certificate revoked\n", fingerprint(c.Raw))
		fmt.Fprintf(&table, "%s REJECT client certificate revoked\n", fingerprint(c.RawSubjectPublicKeyInfo))
	}
	if err := os.WriteFile(filepath.Join(etc, "denied_certificates"), []byte(table.String()), 0o644); err != nil {
		return fmt.Errorf("baltest: %w", err)
	}
	var logins strings.Builder
	for _, l := range p.Logins {
		fmt.Fprintf(&logins, "%s %s\n", l, l)
	}
	if err := os.WriteFile(filepath.Join(etc, "sender_logins"), []byte(logins.String()), 0o644); err != nil {
		return fmt.Errorf("baltest: %w", err)
	}
	return nil
}

// fingerprint is the SHA-256 digest in Postfix's form: upper-case hex bytes
// separated by colons.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
