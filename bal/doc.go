// Package bal is the mailbox client of an MSSanté BAL (boîte aux
// lettres): it finds the operator's servers, trusts only IGC-Santé,
// authenticates, sends and receives MSSanté messages, and traces every
// action through package trace.
//
//   - Operator: Discover reads DNS SRV records (RFC 6186: submission 587
//     with STARTTLS, IMAP 143 with STARTTLS; implicit TLS 465/993 as
//     fallback); explicit Endpoints win.
//   - Trust: IGC-Santé roots supplied by the caller (system roots off by
//     default, Ref#2 ECO.1.1.10), TLS 1.2 minimum, host name checked, every
//     certificate of the operator's chain checked against the CRL of its
//     distribution point through a cache keeping the last valid CRL.
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
//   - Sender: spools the message (size limits before connecting), MAIL
//     FROM with SIZE and the DSN parameters (RET, ENVID, NOTIFY, ORCPT)
//     when the server offers DSN, per-recipient results, *SMTPError with
//     Temporary() for 4xx and for no connection at all; Batch reuses one connection.
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
