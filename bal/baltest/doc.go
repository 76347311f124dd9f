// SPDX-License-Identifier: Apache-2.0

// Package baltest is test support for the bal package and for vendors' CI,
// in the spirit of net/http/httptest: it gives a test what an MSSanté
// operator would, on loopback, started and stopped by the test itself.
//
//   - [NewPKI]: an in-memory public key infrastructure shaped like
//     IGC-Santé (the ANS certificate authority): two roots, the "FORT
//     PERSONNES" and "ELEMENTAIRE ORGANISATIONS" intermediates, a CPS card
//     certificate, an ORG software certificate for an applicative mailbox, an
//     operator server certificate, revoked, expired and wrong-host variants,
//     and CRLs with distribution points that [PKI.ServeCRL] answers.
//   - [NewOperator]: an in-process test operator in one line (go-smtp
//     submission + go-imap v2 server sharing in-memory mailboxes): STARTTLS
//     and implicit TLS, client certificates checked against the PKI (revoked
//     and expired refused), SASL EXTERNAL, XOAUTH2, OAUTHBEARER and PLAIN,
//     550 5.1.1 / 5.1.2 refusals, SIZE, success DSNs, IDLE. No root and no
//     Debian package needed: the fast option for a vendor's CI; the real
//     daemons below are the realistic one.
//   - [StartDovecot]: a real Dovecot (Debian package dovecot-imapd and
//     dovecot-lmtpd) with IMAP over STARTTLS and implicit TLS, LMTP, client
//     certificates checked against the PKI and its CRLs (SASL EXTERNAL),
//     passwords (PLAIN, LOGIN) and OAuth2 bearer tokens (XOAUTH2,
//     OAUTHBEARER) checked by an introspection endpoint served by the test.
//   - [StartPostfix]: a real Postfix (Debian package postfix) accepting
//     submissions only over TLS, with a client certificate from the PKI
//     (CPS card, software certificate) or, with
//     PostfixConfig.ClientCertOptional, SMTP AUTH checked by Dovecot
//     (XOAUTH2/OAUTHBEARER tokens, PLAIN), relaying to the Dovecot LMTP,
//     with real DSNs.
//   - [NewSoftHSMToken]: a SoftHSM2 token (Debian packages softhsm2 and
//     opensc) holding the CPS key and certificate, a stand-in for a CPS card
//     read through PKCS#11.
//
// The daemons are started by PID, without systemd, from a temporary
// directory, on free loopback ports, and stopped when the test ends. They
// need root (Dovecot and Postfix switch users) and their Debian packages;
// when one is missing the test is skipped, or fails when the environment
// variable MSS_REQUIRE is "all" (see internal/testenv).
//
// Nothing in this package is meant for production: private keys are kept in
// memory and written unencrypted to test directories.
package baltest
