// SPDX-License-Identifier: Apache-2.0

//go:build unix

package baltest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// dovecotConf is a complete Dovecot 2.3 configuration: nothing is read from
// /etc/dovecot. Settings are explained where they are not obvious.
var dovecotConf = template.Must(template.New("dovecot.conf").Parse(`# written by gomss/bal/baltest
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
log_path = {{.Dir}}/dovecot.log
info_log_path = {{.Dir}}/dovecot.log
debug_log_path = {{.Dir}}/dovecot.log
auth_verbose = yes
auth_debug = {{.Debug}}
mail_debug = {{.Debug}}
verbose_ssl = yes
postmaster_address = postmaster@{{.Domain}}

ssl = required
ssl_cert = <{{.Files.Server.Cert}}
ssl_key = <{{.Files.Server.Key}}
ssl_min_protocol = TLSv1.2
# Client certificates are requested and checked against the IGC-Santé-like
# roots and intermediates; the CRLs follow them in the same file.
ssl_ca = <{{.Files.CABundleCRLs}}
ssl_verify_client_cert = yes
ssl_require_crl = {{.RequireCRL}}
ssl_cert_username_field = commonName
auth_ssl_username_from_cert = yes
auth_ssl_require_client_cert = {{.RequireClientCert}}
auth_mechanisms = plain login external xoauth2 oauthbearer
# Tests make many failed attempts from 127.0.0.1: no 2-second delay after a
# failure, and no growing per-IP penalty (the auth process runs as the
# dovecot user from the start, so it cannot reach anvil's root-only
# penalty socket).
auth_failure_delay = 0

mail_location = maildir:{{.Dir}}/mail/%u

# PLAIN and LOGIN: addresses and passwords.
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN {{.Dir}}/passwords
}
# EXTERNAL: the certificate's common name, mapped to its mailbox (user=).
passdb {
  driver = passwd-file
  mechanisms = external
  args = {{.Dir}}/certificates
}
# XOAUTH2 and OAUTHBEARER: bearer tokens checked by introspection.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {{.Dir}}/oauth2.conf.ext
}
userdb {
  driver = passwd-file
  args = {{.Dir}}/users
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = {{.IMAPPort}}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = {{.IMAPSPort}}
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = {{.LMTPPort}}
  }
}
service auth {
  user = $default_internal_user
  drop_priv_before_exec = yes
{{- if .AuthSocket}}
  # SMTP AUTH for Postfix (smtpd_sasl_type = dovecot): a client socket
  # (the name does not end in -login, -master or -userdb) that only
  # Postfix's processes may open.
  unix_listener {{.AuthSocket}} {
    user = {{.AuthSocketUser}}
    mode = 0600
  }
{{- end}}
}
# ... and so must read its configuration as that user.
service config {
  unix_listener config {
    user = $default_internal_user
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    user = root
    group = root
    mode = 0600
  }
}
# Mail processes run as nobody and must reach the stats socket.
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
`))

var dovecotOAuth2Conf = template.Must(template.New("oauth2.conf.ext").Parse(`introspection_mode = post
introspection_url = {{.IntrospectionURL}}
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
`))

type dovecotParams struct {
	Dir                           string
	Files                         Files
	Domain                        string
	Debug                         string
	RequireCRL, RequireClientCert string
	IMAPPort, IMAPSPort, LMTPPort int
	IntrospectionURL              string
	// AuthSocket is the name in base_dir of the authentication socket for
	// Postfix, owned by AuthSocketUser; empty for none.
	AuthSocket, AuthSocketUser string
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeDovecotFiles writes dovecot.conf, oauth2.conf.ext and the user files.
func writeDovecotFiles(p dovecotParams, users []MailUser, uid, gid int) error {
	for name, tmpl := range map[string]*template.Template{"dovecot.conf": dovecotConf, "oauth2.conf.ext": dovecotOAuth2Conf} {
		var b strings.Builder
		if err := tmpl.Execute(&b, p); err != nil {
			return fmt.Errorf("baltest: %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(p.Dir, name), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("baltest: %w", err)
		}
	}
	// passwd-file lines: user:password:uid:gid:gecos:home:shell:extra fields
	var passwords, certs, userdb strings.Builder
	for _, u := range users {
		addr := strings.ToLower(u.Address)
		if err := checkPasswdField(u.Address, u.Password); err != nil {
			return err
		}
		if u.Password != "" {
			fmt.Fprintf(&passwords, "%s:{PLAIN}%s\n", addr, u.Password)
		}
		for _, cn := range u.CertNames {
			if err := checkPasswdField(cn); err != nil {
				return err
			}
			fmt.Fprintf(&certs, "%s:::::::nopassword user=%s\n", strings.ToLower(cn), addr)
			if u.Password != "" {
				// With a valid certificate Dovecot takes the user name from
				// it for every mechanism, PLAIN included.
				fmt.Fprintf(&passwords, "%s:{PLAIN}%s:::::: user=%s\n", strings.ToLower(cn), u.Password, addr)
			}
		}
		fmt.Fprintf(&userdb, "%s::%d:%d::%s/mail/%s::\n", addr, uid, gid, p.Dir, addr)
	}
	for name, content := range map[string]string{"passwords": passwords.String(), "certificates": certs.String(), "users": userdb.String()} {
		if err := os.WriteFile(filepath.Join(p.Dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("baltest: %w", err)
		}
	}
	return nil
}

// checkPasswdField refuses values that would break a passwd-file line.
func checkPasswdField(values ...string) error {
	for _, v := range values {
		if strings.ContainsAny(v, ": \t\r\n") {
			return fmt.Errorf("baltest: Dovecot user field %q contains a colon, a space or a line break", v)
		}
	}
	return nil
}
