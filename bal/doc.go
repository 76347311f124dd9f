// Package bal is the mailbox client of an MSSanté BAL (boîte aux
// lettres): it connects to the operator, authenticates, sends and receives
// MSSanté messages, and traces every action (package trace).
//
// Status: IN PROGRESS. Done: operator trust (IGC-Santé roots supplied by
// the caller, TLS 1.2 minimum, host name, CRL checks with a cache keeping
// the last valid CRL), the Authenticator interface with the software
// certificate (PKCS#12, SASL EXTERNAL) and Pro Santé Connect (XOAUTH2,
// written here since go-sasl has none, and OAUTHBEARER, with the server's
// refusal as a typed error), and SMTP submission (spooled message, size
// limits before connecting, DSN parameters when offered, per-recipient
// results, 4xx/5xx typed errors, fail-closed traces before and after each
// action). Not done yet: the CPS card through PKCS#11, DNS SRV discovery,
// IMAP (fetch, IDLE, move, delete, append), the receive loop of an
// applicative BAL, and the tests against real Dovecot and Postfix.
package bal
