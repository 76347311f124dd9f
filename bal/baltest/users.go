// SPDX-License-Identifier: Apache-2.0

package baltest

import "strings"

// TestDomain is the mail domain of the default users, and the domain
// Postfix relays to Dovecot unless told otherwise.
const TestDomain = "test.mssante.fr"

// MailUser is a mailbox of the test operator.
type MailUser struct {
	// Address is the mailbox address: the user name for PLAIN, LOGIN,
	// XOAUTH2 and OAUTHBEARER, and the LMTP recipient.
	Address string
	// Password allows PLAIN and LOGIN authentication when not empty.
	Password string
	// CertNames are the common names of client certificates that log in as
	// this user with SASL EXTERNAL (compared case-insensitively).
	CertNames []string
}

// Default mailboxes, see [DefaultUsers].
const (
	// CPSUser is the personal mailbox of the CPS holder.
	CPSUser = "jean.dupont@" + TestDomain
	// ORGUser is the applicative mailbox of the ORG certificate.
	ORGUser = "lps@" + TestDomain
	// OtherUser is a mailbox reached by password only.
	OtherUser = "secretariat@" + TestDomain
	// DefaultPassword is the password of the default users.
	DefaultPassword = "mot-de-passe-de-test"
)

// DefaultUsers returns the mailboxes a launcher creates when its
// configuration names none:
//
//   - CPSUser, logged in by the CPS certificate;
//   - ORGUser, logged in by the ORG certificate, and also named by the
//     Revoked and Expired certificates so that their refusal can only come
//     from the certificate check, not from an unknown name;
//   - OtherUser.
//
// All have DefaultPassword.
func DefaultUsers(p *PKI) []MailUser {
	return []MailUser{
		{Address: CPSUser, Password: DefaultPassword, CertNames: []string{p.CPS.Cert.Subject.CommonName}},
		{Address: ORGUser, Password: DefaultPassword, CertNames: []string{
			p.ORG.Cert.Subject.CommonName, p.Revoked.Cert.Subject.CommonName, p.Expired.Cert.Subject.CommonName,
		}},
		{Address: OtherUser, Password: DefaultPassword},
	}
}

// domains returns the distinct domains of the users' addresses.
func domains(users []MailUser) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range users {
		d := strings.ToLower(u.Address[strings.LastIndexByte(u.Address, '@')+1:])
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
