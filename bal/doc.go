// SPDX-License-Identifier: Apache-2.0

// Package bal is the mailbox client of an MSSanté BAL (boîte aux
// lettres): it finds the operator's servers, trusts only IGC-Santé,
// authenticates, sends and receives MSSanté messages, and traces every
// action through package trace.
//
//   - Operator: Discover reads DNS SRV records (RFC 6186: submission 587
//     with STARTTLS, IMAP 143 with STARTTLS; implicit TLS 465/993 as
//     fallback); explicit Endpoints win.
//   - Trust: IGC-Santé roots supplied by the caller (system roots off by
//     default, Ref#2 ECO.1.1.10), TLS 1.2 minimum (SC.MSS/CONF.01), the
//     TLS 1.2 cipher suites of SC.MSS/CONF.03 that crypto/tls implements
//     securely (ECDHE-RSA with AES-GCM; see DefaultCipherSuites for the
//     listed CBC and DHE suites Go lacks or deems insecure) over curves of
//     256 bits or more (DefaultCurves: P-256, P-384, P-521 and their
//     ML-KEM hybrids; no X25519), host name checked, every certificate of
//     the operator's chain checked against a CRL of its issuer: an offline
//     one handed over as files (CRLDir, CRLList) first, else its
//     distribution point's, fetched within the caller's context through a
//     cache that refreshes it hourly and keeps the last CRL that has not
//     expired when the distribution point is down (SC.MSS/CONF.22); an
//     expired CRL is never used (ErrRevocationUnknown).
//   - Authenticator, one interface, three implementations: Certificate (an
//     IGC-Santé software certificate, PKCS#12, for organisational and
//     applicative BALs; SASL EXTERNAL when asked), CPS (the CPS card
//     through PKCS#11, cgo only, TLS 1.3 RSA-PSS or TLS 1.2 PKCS#1 v1.5),
//     PSC (Pro Santé Connect: an oauth2.TokenSource feeding SASL XOAUTH2 —
//     written here, go-sasl has none — or OAUTHBEARER; a refused token is a
//     *RefusedError carrying the server's JSON and its final NO or 535,
//     the client having acknowledged the JSON as each mechanism specifies
//     so that the server ends the exchange cleanly; a token that cannot be
//     refreshed is a *TokenError that ends the session).
//   - Sender: spools the message (size limits before connecting), forces
//     the TLS handshake and EHLO before the authentication (a certificate
//     refused either way fails the login, traced with its cause), MAIL
//     FROM with SIZE and the DSN parameters (RET, ENVID, NOTIFY, ORCPT)
//     when the server offers DSN, per-recipient results; Batch reuses one
//     connection, and goes on after a refusal. Every error wraps a
//     sentinel: *SMTPError (ErrRefused) when the server said no, with
//     Temporary() for a 4xx reply except a refusal of the client
//     certificate (ErrClientCertificate, Postfix's 421 4.7.1); *SendError
//     for the rest — ErrConnect, ErrServerCertificate, ErrTLS, ErrAuth,
//     ErrConnectionLost, ErrTimeout (also os.ErrDeadlineExceeded),
//     ErrInterrupted, ErrBatchClosed, ErrMessage, ErrSpool… — with
//     Temporary() and DataSent: whether the whole message had gone, up to
//     its final ".", so that the server may have accepted it although no
//     answer came (sending it again may deliver it twice).
//   - Software certificates: NewCertificateFromPKCS12 refuses a
//     certificate outside its validity period (ErrCertificateExpired,
//     ErrCertificateNotYetValid), as OpenCPS does for a card.
//   - Receiver/Session: folders, new messages by UID with UIDVALIDITY
//     tracking, parsed by package mssante, mark seen, move, delete,
//     append, IDLE.
//   - Loop: the receive loop of an applicative BAL (the PFI pattern): the
//     handler first, then the MDN (or error e-mail) and the move — nothing
//     is moved or deleted before the handler returns; messages that are
//     neither documents nor reports are moved aside (Loop.Other), traced;
//     OnPass reports each pass; reconnects after failures; Run returns nil
//     when its context ends.
//
// Every action is traced before it is attempted and with its outcome
// (fail closed by default: an action whose trace cannot be written does
// not happen); requests and responses are traced, message content never.
// A failed action is still traced: one whose context ends before it starts
// is not attempted and is traced as failed (a send that never reached its
// message transaction, whatever the reason, is traced as a failed send of
// that message), and its error wraps the context's (context.Canceled or
// DeadlineExceeded), not trace.ErrNotRecorded. Outcomes are recorded even
// once the context has ended.
//
// Tested against a real Dovecot 2.3 and Postfix 3.7 started by bal/baltest
// on loopback: the three authentication modes on IMAP and on submission,
// both CPS TLS modes, DSNs, the receive loop with MDNs, IDLE, faults
// (Postfix killed during DATA, Dovecot restarted during IDLE) and a
// negative TLS matrix (see the tests).
package bal
