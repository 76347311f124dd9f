// SPDX-License-Identifier: Apache-2.0

// Package trace records a nominative, tamper-evident trace of every
// mailbox action, as MSSanté client software must (SC.MSS/CONF.17 and
// SC.MSS/CONF.18, ANS FAQ des industriels 10217; Référentiel socle #2 §5,
// ECO.4.1.1–2).
//
// An Event says who acted (the authenticated actor: IDNPS/RPPS, name,
// CPS, certificate or Pro Santé Connect, and for an organisational or
// applicative BAL the real user behind it when known), when (local
// workstation time with its zone, and UTC), on which mailbox, which
// action, the request sent to the MSSanté server (command and parameters,
// never message content) and the server's response, including failures.
// Normalize refuses what could carry content.
//
// Recorders (sinks): the append-only file log (FileLog), FHIR AuditEvent
// per the ANS TDE profile, syslog RFC 5424 over TLS, a slog bridge. Guard
// applies the fail-closed policy: an action whose trace cannot be written
// is refused.
package trace
