// SPDX-License-Identifier: Apache-2.0

package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// FHIR AuditEvent sink, ANS "Traçabilité des événements" (TDE) profile.
//
// Sources (repository and path; snapshots as read):
//
//   - [TDE]   github.com/ansforge/interop-ig-fhir-tracabilite-evenements
//     (d63d725, IG ans.fhir.fr.tde 2.0.0, FHIR 4.0.1, sushi-config.yaml):
//     input/fsh/StructureDefinition/TDEAuditEvent.fsh (profile, Id
//     tde-auditevent: subtype ..1, period.start 1.., agent ..2, agent.who 1..,
//     source.observer only Reference(Device | Practitioner | Organization …));
//     input/fsh/Instances/TDEAuditEventExample.fsh and TDEAuditEventExample2.fsh
//     (type audit-event-type#rest or DCM#110101, agent[0].requestor true,
//     observer a Device); input/pagecontent/annexe_audit_dicom.md and
//     specifications_technique_correspondance_metier.md (Trace.identifiant → id,
//     typeEvenement → type, sousTypeEvenement → subtype, occurrence →
//     period.start, déclaration → recorded, description → outcomeDesc,
//     ActeurEvenement [0..2] → agent.who.identifier, ObjetEvenement →
//     entity.what.identifier / entity.type, contenu → entity.what | query |
//     detail; the content is left to each instantiation).
//   - [FRCORE] github.com/Interop-Sante/hl7.fhir.fr.core:
//     input/fsh/profiles/FRCorePractitionerProfile.fsh (idNatPs: type
//     fr-core-cs-v2-0203#IDNPS, system urn:oid:1.2.250.1.71.4.2.1; rpps: type
//     #RPPS, system https://rpps.esante.gouv.fr) and
//     input/fsh/profiles/FRCoreOrganizationProfile.fsh (idNatSt: type #IDNST,
//     system urn:oid:1.2.250.1.71.4.2.2).
//   - [BALP]  github.com/IHE/ITI.BasicAudit (09fe729): input/fsh/Disclose.fsh
//     (export at the source: type DCM#110106, action R; import at the
//     recipient: DCM#110107, action C); PatientCreate.fsh, PatientRead.fsh
//     (RESTful create/read/update/delete: type audit-event-type#rest, action
//     C/R/U/D, data entity audit-entity-type#2 "System Object", role
//     object-role#4 "Domain Resource"); PatientQuery.fsh (query, action E).
//   - [DICOM] PS3.16 CID 400 "Audit Event ID" (110100–110114) and CID 401
//     "Audit Event Type Code" (110120–110147), as enumerated in
//     github.com/oehf/ipf commons/audit/src/main/java/org/openehealth/ipf/
//     commons/audit/codes/EventIdCode.java and EventTypeCode.java; object
//     roles (RFC 3881 / PS3.15 A.5.1.2) in ParticipantObjectTypeCodeRole.java.
//     Action codes of the DICOM messages in the same repository under
//     commons/audit/src/main/java/org/openehealth/ipf/commons/audit/event/:
//     DataExportBuilder.java (PS3.15 A.5.3.4 Export, action Read; exporting
//     includes "sending via e-mail"), UserAuthenticationBuilder.java
//     (Execute), and the ITI query audits (Query 110112, Execute).
//   - [THO]   HL7 terminology as copied in FSH by github.com/yy-dto/IDCore:
//     input/resources/gofsh/input/fsh/codesystems/AuditEventOutcome.fsh
//     (0 Success, 4 Minor failure "often equivalent to an HTTP 400 response",
//     8 Serious failure "unexpected error … HTTP 500"),
//     input/_excludes/codesystems/CodeSystem-AuditEventEntityType.fsh
//     (1 Person, 2 System Object, 3 Organization, 4 Other) and
//     input/resources/gofsh/input/fsh/codesystems/AuditEventEntityRole.fsh
//     (object-role 1–24); extra-security-role-type#humanuser "human user" on
//     agent.type as in HL7Chile/clcore_publish
//     clcore_ig/input/fsh/Instancias/AuditEvent/AuditEventEx.fsh.
//   - URIs as identifiers: system urn:ietf:rfc:3986 (the value is a URI), with
//     mailto: (RFC 6068) for mailboxes and mid: (RFC 2392) for Message-IDs.

// TDEProfile is the canonical URL of the ANS TDE AuditEvent profile, written
// in meta.profile ([TDE] sushi-config.yaml canonical + TDEAuditEvent.fsh Id).
const TDEProfile = "https://interop.esante.gouv.fr/ig/fhir/tde/StructureDefinition/tde-auditevent"

// ActionCodeSystem is the gomss code system of MSSanté mailbox actions,
// used in AuditEvent.subtype: its codes are the Action values (send, fetch,
// read, move, delete, append, mark-seen, mdn-sent, dsn-received,
// mdn-received, directory-search, or any other action given). No standard
// code system names these actions (TDE defines none); it is a namespace
// URI, not a published CodeSystem resource.
const ActionCodeSystem = "https://github.com/ecdaf744/gomss/fhir/CodeSystem/mss-action"

// Code systems and identifier systems written by AuditEvent.
const (
	aeSysDICOM        = "http://dicom.nema.org/resources/ontology/DCM"
	aeSysEventType    = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	aeSysEntityType   = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	aeSysObjectRole   = "http://terminology.hl7.org/CodeSystem/object-role"
	aeSysSecurityRole = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	aeSysFRIDType     = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
	aeSysURI          = "urn:ietf:rfc:3986"
	aeSysIDNPS        = "urn:oid:1.2.250.1.71.4.2.1"
	aeSysRPPS         = "https://rpps.esante.gouv.fr"
	aeSysIDNST        = "urn:oid:1.2.250.1.71.4.2.2"
)

// Detail types of the request, mailbox and message entities
// (AuditEvent.entity.detail.type is a free string in R4).
const (
	aeDetailCommand      = "command"
	aeDetailParam        = "param"
	aeDetailServer       = "server"
	aeDetailCorrelation  = "correlation"
	aeDetailAuth         = "auth-method"
	aeDetailResponseCode = "response-code"
	aeDetailMailboxKind  = "mailbox-kind"
)

// aeClass is how one action is classified: type, subtype and action code.
type aeClass struct {
	typ     aeCoding
	subtype *aeCoding // nil: the gomss ActionCodeSystem code
	action  string
}

var (
	aeUserAuthentication = aeCoding{System: aeSysDICOM, Code: "110114", Display: "User Authentication"} // CID 400
	aeExport             = aeCoding{System: aeSysDICOM, Code: "110106", Display: "Export"}              // CID 400
	aeImport             = aeCoding{System: aeSysDICOM, Code: "110107", Display: "Import"}              // CID 400
	aeQuery              = aeCoding{System: aeSysDICOM, Code: "110112", Display: "Query"}               // CID 400
	aeRest               = aeCoding{System: aeSysEventType, Code: "rest", Display: "RESTful Operation"}

	aeClasses = map[Action]aeClass{
		Login:           {aeUserAuthentication, &aeCoding{System: aeSysDICOM, Code: "110122", Display: "Login"}, "E"},  // CID 401
		Logout:          {aeUserAuthentication, &aeCoding{System: aeSysDICOM, Code: "110123", Display: "Logout"}, "E"}, // CID 401
		Send:            {aeExport, nil, "R"},
		MDNSent:         {aeExport, nil, "R"},
		Fetch:           {aeImport, nil, "C"},
		DSNReceived:     {aeImport, nil, "C"},
		MDNReceived:     {aeImport, nil, "C"},
		Read:            {aeRest, nil, "R"},
		Append:          {aeRest, nil, "C"},
		Move:            {aeRest, nil, "U"},
		MarkSeen:        {aeRest, nil, "U"},
		Delete:          {aeRest, nil, "D"},
		DirectorySearch: {aeQuery, nil, "E"},
	}
	aeOtherClass = aeClass{aeRest, nil, "E"}
)

// The FHIR R4 JSON shapes written (only the elements used).
type (
	aeCoding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	aeConcept struct {
		Coding []aeCoding `json:"coding,omitempty"`
		Text   string     `json:"text,omitempty"`
	}
	aeIdentifier struct {
		Type   *aeConcept `json:"type,omitempty"`
		System string     `json:"system,omitempty"`
		Value  string     `json:"value"`
	}
	aeReference struct {
		Type       string        `json:"type,omitempty"`
		Identifier *aeIdentifier `json:"identifier,omitempty"`
		Display    string        `json:"display,omitempty"`
	}
	aeAgent struct {
		Type      *aeConcept  `json:"type,omitempty"`
		Who       aeReference `json:"who"`
		Name      string      `json:"name,omitempty"`
		Requestor bool        `json:"requestor"`
	}
	aeDetail struct {
		Type        string `json:"type"`
		ValueString string `json:"valueString"`
	}
	aeEntity struct {
		What   *aeReference `json:"what,omitempty"`
		Type   *aeCoding    `json:"type,omitempty"`
		Role   *aeCoding    `json:"role,omitempty"`
		Detail []aeDetail   `json:"detail,omitempty"`
	}
	aeResource struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Meta         struct {
			Profile []string `json:"profile"`
		} `json:"meta"`
		Type    aeCoding   `json:"type"`
		Subtype []aeCoding `json:"subtype"`
		Action  string     `json:"action"`
		Period  struct {
			Start string `json:"start"`
		} `json:"period"`
		Recorded    string    `json:"recorded"`
		Outcome     string    `json:"outcome,omitempty"`
		OutcomeDesc string    `json:"outcomeDesc,omitempty"`
		Agent       []aeAgent `json:"agent"`
		Source      struct {
			Observer aeReference `json:"observer"`
		} `json:"source"`
		Entity []aeEntity `json:"entity,omitempty"`
	}
)

// AuditEvent returns e as a FHIR R4 AuditEvent conforming to the ANS TDE
// profile (TDEProfile), as compact JSON. It normalises a copy of e first
// (Event.Normalize): an event Normalize refuses is refused here with the
// same error. It also refuses, wrapping ErrEvent, what FHIR cannot carry:
// an id that is not a FHIR id ([A-Za-z0-9.-]{1,64}), a control character
// other than tab in a string, an action that is not a FHIR code, a time
// outside years 1–9999.
//
// Mapping (sources in the comments of auditevent.go):
//
//	AuditEvent element          from the Event
//	id                          ID
//	meta.profile                TDEProfile
//	type (1..1)                 by Action, see the table below
//	subtype (TDE ..1)           by Action: DICOM CID 401 Login/Logout, else
//	                            ActionCodeSystem#<action>
//	action                      by Action: C, R, U, D or E
//	period.start (TDE 1..)      Time, local offset kept (UTC when the offset
//	                            is not whole minutes or beyond ±14:00)
//	recorded                    UTC (instant)
//	outcome                     none while Response.Pending (the record made
//	                            before the action); "0" Response.OK; "4" minor failure: the server
//	                            answered with a refusal (Response.Code set:
//	                            SMTP 4xx/5xx, IMAP NO/BAD…), like HTTP 400;
//	                            "8" serious failure: no answer (no code),
//	                            like HTTP 500
//	outcomeDesc                 Response.Code + " " + Response.Text
//	agent[0] (who 1..,          Actor: who.identifier (system by IDType:
//	  requestor 1..1)           IDNPS urn:oid:1.2.250.1.71.4.2.1, RPPS
//	                            https://rpps.esante.gouv.fr, IDNST
//	                            urn:oid:1.2.250.1.71.4.2.2, with FR Core
//	                            identifier type; other: no system, IDType as
//	                            identifier.type.text), who.type Practitioner
//	                            (IDNPS, RPPS) or Organization (IDNST),
//	                            who.display and name = Name, type humanuser
//	                            for IDNPS/RPPS; requestor = OnBehalfOf == nil
//	agent[1] (TDE ..2)          OnBehalfOf when set: the real user, type
//	                            humanuser, requestor true
//	source.observer (1..1)      Reference(Device) with display = Software
//	                            ("gomss" when empty)
//	entity: mailbox             what.identifier urn:ietf:rfc:3986 "mailto:"+
//	                            Mailbox.Address, type 2 System Object, role
//	                            17 Data Repository, detail mailbox-kind = Kind
//	entity: message             when MessageID: what.identifier
//	                            urn:ietf:rfc:3986 "mid:"+Message-ID (RFC 2392,
//	                            no angle brackets), type 2, role 4 Domain
//	                            Resource
//	entity: request             type 2 System Object, role 24 Query; detail
//	                            command, param (each, in order), server
//	                            (host:port), auth-method (Actor.Auth),
//	                            response-code, correlation
//
// Type, subtype and action by Action:
//
//	login             DCM 110114 User Authentication  DCM 110122 Login   E
//	logout            DCM 110114 User Authentication  DCM 110123 Logout  E
//	send, mdn-sent    DCM 110106 Export               gomss code         R
//	fetch,            DCM 110107 Import               gomss code         C
//	  dsn-received, mdn-received
//	read              audit-event-type rest           gomss code         R
//	append            audit-event-type rest           gomss code         C
//	move, mark-seen   audit-event-type rest           gomss code         U
//	delete            audit-event-type rest           gomss code         D
//	directory-search  DCM 110112 Query                gomss code         E
//	any other         audit-event-type rest           gomss code         E
//
// Export and Import follow DICOM PS3.15 A.5.3.4 (exporting includes
// sending by e-mail) and the IHE BALP privacy-disclosure patterns (data
// leaving or entering the LPS: R at the source, C at the recipient); the
// message-store operations on the operator's server follow the BALP
// create/read/update/delete patterns, which use type rest as the TDE
// examples do. Message content never appears: only identifiers, the
// command and its parameters, as Normalize admits them.
func AuditEvent(e Event) ([]byte, error) {
	var buf bytes.Buffer
	if err := aeEncode(&buf, e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// aeEncode writes e as one line of compact JSON followed by a newline.
func aeEncode(buf *bytes.Buffer, e Event) error {
	r, err := aeBuild(e)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("trace: AuditEvent %s: %w", r.ID, err)
	}
	return nil
}

// aeBuild maps a normalised copy of e to the resource.
func aeBuild(e Event) (*aeResource, error) {
	if e.Request.Params != nil {
		e.Request.Params = append([]string(nil), e.Request.Params...)
	}
	if e.OnBehalfOf != nil {
		obo := *e.OnBehalfOf
		e.OnBehalfOf = &obo
	}
	if err := e.Normalize(); err != nil {
		return nil, err
	}
	if err := aeCheck(&e); err != nil {
		return nil, err
	}

	r := &aeResource{ResourceType: "AuditEvent", ID: e.ID}
	r.Meta.Profile = []string{TDEProfile}

	class, known := aeClasses[e.Action]
	if !known {
		class = aeOtherClass
	}
	r.Type = class.typ
	if class.subtype != nil {
		r.Subtype = []aeCoding{*class.subtype}
	} else {
		r.Subtype = []aeCoding{{System: ActionCodeSystem, Code: string(e.Action)}}
	}
	r.Action = class.action

	r.Period.Start = aeDateTime(e.Time)
	r.Recorded = aeDateTime(e.UTC)

	switch {
	case e.Response.OK:
		r.Outcome = "0"
	case e.Response.Pending():
		// Recorded before the action: no outcome yet (outcome is 0..1).
	case e.Response.Code != "":
		r.Outcome = "4"
	default:
		r.Outcome = "8"
	}
	r.OutcomeDesc = strings.TrimSpace(e.Response.Code + " " + e.Response.Text)

	r.Agent = []aeAgent{aeActorAgent(e.Actor, e.OnBehalfOf == nil)}
	if e.OnBehalfOf != nil {
		u := aeActorAgent(*e.OnBehalfOf, true)
		u.Type = aeHumanUser() // the real user behind the BAL is a person
		r.Agent = append(r.Agent, u)
	}

	software := e.Software
	if software == "" {
		software = "gomss"
	}
	r.Source.Observer = aeReference{Type: "Device", Display: software}

	if e.Mailbox.Address != "" {
		m := aeEntity{
			What: &aeReference{Identifier: &aeIdentifier{System: aeSysURI, Value: "mailto:" + url.PathEscape(e.Mailbox.Address)}},
			Type: &aeCoding{System: aeSysEntityType, Code: "2", Display: "System Object"},
			Role: &aeCoding{System: aeSysObjectRole, Code: "17", Display: "Data Repository"},
		}
		m.Detail = aeAppendDetail(m.Detail, aeDetailMailboxKind, e.Mailbox.Kind)
		r.Entity = append(r.Entity, m)
	}
	if e.MessageID != "" {
		r.Entity = append(r.Entity, aeEntity{
			What: &aeReference{Identifier: &aeIdentifier{System: aeSysURI, Value: "mid:" + url.PathEscape(aeBareMessageID(e.MessageID))}},
			Type: &aeCoding{System: aeSysEntityType, Code: "2", Display: "System Object"},
			Role: &aeCoding{System: aeSysObjectRole, Code: "4", Display: "Domain Resource"},
		})
	}
	req := aeEntity{
		Type: &aeCoding{System: aeSysEntityType, Code: "2", Display: "System Object"},
		Role: &aeCoding{System: aeSysObjectRole, Code: "24", Display: "Query"},
	}
	req.Detail = aeAppendDetail(req.Detail, aeDetailCommand, e.Request.Command)
	for _, p := range e.Request.Params {
		req.Detail = aeAppendDetail(req.Detail, aeDetailParam, p)
	}
	req.Detail = aeAppendDetail(req.Detail, aeDetailServer, e.Request.Server)
	req.Detail = aeAppendDetail(req.Detail, aeDetailAuth, string(e.Actor.Auth))
	req.Detail = aeAppendDetail(req.Detail, aeDetailResponseCode, e.Response.Code)
	req.Detail = aeAppendDetail(req.Detail, aeDetailCorrelation, e.Correlation)
	r.Entity = append(r.Entity, req)
	return r, nil
}

// aeActorAgent maps an actor to an agent.
func aeActorAgent(a Actor, requestor bool) aeAgent {
	ag := aeAgent{Who: aeReference{Display: a.Name}, Name: a.Name, Requestor: requestor}
	if a.ID == "" {
		return ag // an unidentified real user: who.display only
	}
	id := &aeIdentifier{Value: a.ID}
	ag.Who.Identifier = id
	switch {
	case strings.EqualFold(a.IDType, "IDNPS"):
		id.System = aeSysIDNPS
		id.Type = &aeConcept{Coding: []aeCoding{{System: aeSysFRIDType, Code: "IDNPS"}}}
		ag.Who.Type = "Practitioner"
		ag.Type = aeHumanUser()
	case strings.EqualFold(a.IDType, "RPPS"):
		id.System = aeSysRPPS
		id.Type = &aeConcept{Coding: []aeCoding{{System: aeSysFRIDType, Code: "RPPS"}}}
		ag.Who.Type = "Practitioner"
		ag.Type = aeHumanUser()
	case strings.EqualFold(a.IDType, "IDNST"):
		id.System = aeSysIDNST
		id.Type = &aeConcept{Coding: []aeCoding{{System: aeSysFRIDType, Code: "IDNST"}}}
		ag.Who.Type = "Organization"
	case a.IDType != "":
		// Unknown namespace: no system is claimed, the kind is kept as text.
		id.Type = &aeConcept{Text: a.IDType}
	}
	return ag
}

func aeHumanUser() *aeConcept {
	return &aeConcept{Coding: []aeCoding{{System: aeSysSecurityRole, Code: "humanuser", Display: "human user"}}}
}

func aeAppendDetail(d []aeDetail, typ, v string) []aeDetail {
	if v == "" {
		return d
	}
	return append(d, aeDetail{Type: typ, ValueString: v})
}

// aeBareMessageID removes one pair of enclosing angle brackets: the mid:
// URL carries the Message-ID without them (RFC 2392).
func aeBareMessageID(id string) string {
	if len(id) >= 2 && id[0] == '<' && id[len(id)-1] == '>' {
		return id[1 : len(id)-1]
	}
	return id
}

// aeDateTime formats t as a FHIR dateTime/instant. The offset is kept when
// FHIR can express it (whole minutes, at most ±14:00); otherwise UTC.
func aeDateTime(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 || off > 14*3600 || off < -14*3600 {
		t = t.UTC()
	}
	return t.Format(time.RFC3339Nano)
}

// aeCheck refuses what a FHIR AuditEvent cannot carry (after Normalize).
func aeCheck(e *Event) error {
	var problems []string
	if !aeValidID(e.ID) {
		problems = append(problems, fmt.Sprintf("id %q is not a FHIR id ([A-Za-z0-9.-]{1,64})", e.ID))
	}
	if !aeValidCode(string(e.Action)) {
		problems = append(problems, fmt.Sprintf("action %q is not a FHIR code (no leading, trailing or repeated spaces)", e.Action))
	}
	for _, t := range []time.Time{e.Time, e.UTC} {
		if y := t.Year(); y < 1 || y > 9999 {
			problems = append(problems, fmt.Sprintf("time %s is outside years 1-9999", t.Format(time.RFC3339)))
			break
		}
	}
	// Normalize leaves tabs and other control characters, and does not look
	// at onBehalfOf.idType: FHIR strings admit no character below U+0020
	// but tab, CR and LF (and CR, LF are already refused).
	check := func(name, v string) {
		if !utf8.ValidString(v) || len(v) > MaxField {
			problems = append(problems, name+" is not UTF-8 of at most MaxField bytes")
			return
		}
		for _, c := range v {
			if c < 0x20 && c != '\t' {
				problems = append(problems, fmt.Sprintf("%s has control character %U, not allowed in a FHIR string", name, c))
				return
			}
		}
	}
	check("actor.id", e.Actor.ID)
	check("actor.idType", e.Actor.IDType)
	check("actor.name", e.Actor.Name)
	check("actor.auth", string(e.Actor.Auth))
	if e.OnBehalfOf != nil {
		check("onBehalfOf.id", e.OnBehalfOf.ID)
		check("onBehalfOf.idType", e.OnBehalfOf.IDType)
		check("onBehalfOf.name", e.OnBehalfOf.Name)
		if e.OnBehalfOf.ID == "" && e.OnBehalfOf.Name == "" {
			problems = append(problems, "onBehalfOf has neither id nor name (agent.who 1..)")
		}
	}
	check("mailbox.address", e.Mailbox.Address)
	check("mailbox.kind", e.Mailbox.Kind)
	check("request.server", e.Request.Server)
	check("request.command", e.Request.Command)
	for i, p := range e.Request.Params {
		check(fmt.Sprintf("request.params[%d]", i), p)
	}
	check("response.code", e.Response.Code)
	check("response.text", e.Response.Text)
	check("messageId", e.MessageID)
	check("correlation", e.Correlation)
	check("software", e.Software)
	if len(problems) > 0 {
		return fmt.Errorf("%w: AuditEvent: %s", ErrEvent, strings.Join(problems, "; "))
	}
	return nil
}

// aeValidID reports whether s matches the FHIR id type [A-Za-z0-9\-\.]{1,64}.
func aeValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// aeValidCode reports whether s matches the FHIR code type
// [^\s]+( [^\s]+)*.
func aeValidCode(s string) bool {
	if s == "" {
		return false
	}
	for _, f := range strings.Split(s, " ") {
		if f == "" || strings.ContainsAny(f, " \t\r\n\v\f") {
			return false
		}
	}
	return true
}

// AuditEventWriter records events as FHIR AuditEvents (see AuditEvent), one
// compact JSON resource per line (NDJSON, the FHIR bulk data format). It is
// safe for concurrent use: each event is written with a single Write call
// under a lock, so lines never interleave.
type AuditEventWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewAuditEventWriter returns a recorder writing AuditEvents to w. Record
// returns once the line is handed to w; durability is w's (wrap a file
// and sync it, or use FileLog, when that matters).
func NewAuditEventWriter(w io.Writer) *AuditEventWriter {
	return &AuditEventWriter{w: w}
}

// Record writes e as one AuditEvent line. It fails, writing nothing, when
// ctx is done or the event is refused (errors wrap ErrEvent); a write error
// is returned as is.
func (aw *AuditEventWriter) Record(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := aeEncode(&buf, e); err != nil {
		return err
	}
	aw.mu.Lock()
	defer aw.mu.Unlock()
	n, err := aw.w.Write(buf.Bytes())
	if err == nil && n < buf.Len() {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("trace: AuditEvent write: %w", err)
	}
	return nil
}

// BundleType is the type of a FHIR Bundle made by AuditEventBundle.
type BundleType string

// Bundle types for a batch of AuditEvents.
const (
	// BundleTransaction posts every AuditEvent to [base]/AuditEvent in one
	// transaction (each entry is a TDE "Flux 1" create, IHE ITI-20).
	BundleTransaction BundleType = "transaction"
	// BundleCollection only groups the AuditEvents (archive, export).
	BundleCollection BundleType = "collection"
)

// AuditEventBundle returns the events as AuditEvents (see AuditEvent) in
// one FHIR R4 Bundle of type t, as compact JSON. In a transaction each
// entry has request POST AuditEvent. The first refused event stops it; the
// error names the event's position.
func AuditEventBundle(t BundleType, events ...Event) ([]byte, error) {
	if t != BundleTransaction && t != BundleCollection {
		return nil, fmt.Errorf("trace: AuditEventBundle: bundle type %q, want %q or %q", t, BundleTransaction, BundleCollection)
	}
	type request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	}
	type entry struct {
		Resource json.RawMessage `json:"resource"`
		Request  *request        `json:"request,omitempty"`
	}
	b := struct {
		ResourceType string     `json:"resourceType"`
		Type         BundleType `json:"type"`
		Entry        []entry    `json:"entry,omitempty"`
	}{ResourceType: "Bundle", Type: t}
	for i, e := range events {
		res, err := AuditEvent(e)
		if err != nil {
			return nil, fmt.Errorf("trace: AuditEventBundle: event %d: %w", i, err)
		}
		en := entry{Resource: res}
		if t == BundleTransaction {
			en.Request = &request{Method: "POST", URL: "AuditEvent"}
		}
		b.Entry = append(b.Entry, en)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("trace: AuditEventBundle: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
