// SPDX-License-Identifier: Apache-2.0

package fhir

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strings"
	"time"

	"github.com/ecdaf744/gomss/annuaire"
	"github.com/ecdaf744/gomss/internal/ascii"
)

// PractitionerQuery selects practitioners; empty fields are not searched.
type PractitionerQuery struct {
	// ID is an RPPS (11 digits), an IDNPS (12 characters) or a
	// comma-separated list of them (the identifier parameter).
	ID string
	// Family and Given search the names of practice (FHIR string search:
	// starts with, ignoring case and accents).
	Family, Given string
	// Qualification is a profession, category or savoir-faire code ("10"
	// médecin, "SM54" médecine générale), optionally "system|code".
	Qualification string
	// Mailbox is an MSSanté address (mailbox-mss).
	Mailbox string
	// ActiveOnly adds active=true.
	ActiveOnly bool
}

func (q PractitionerQuery) params() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s = strings.TrimSpace(s); s != "" {
			v.Set(k, s)
		}
	}
	set("identifier", q.ID)
	set("family", q.Family)
	set("given", q.Given)
	set("qualification-code", q.Qualification)
	set("mailbox-mss", q.Mailbox)
	if q.ActiveOnly {
		v.Set("active", "true")
	}
	return v
}

// Practitioners yields the practitioners matching q, page after page.
func (c *Client) Practitioners(ctx context.Context, q PractitionerQuery) iter.Seq2[*Practitioner, error] {
	return func(yield func(*Practitioner, error) bool) {
		for b, err := range c.Search(ctx, "Practitioner", q.params()) {
			if err != nil {
				yield(nil, err)
				return
			}
			rs, err := b.Decode()
			if err != nil {
				yield(nil, err)
				return
			}
			for _, p := range rs.Practitioners {
				if !rs.Included["Practitioner/"+p.ID] && !yield(p, nil) {
					return
				}
			}
		}
	}
}

// ResolveMailbox asks the API who is behind an MSSanté address: the
// PractitionerRole holding it (with its Practitioner and Organization
// included), else the Practitioner (PER, CAB), else the Organization (ORG,
// APP). The mailbox-mss search is a FHIR string search (starts with); only
// mailboxes whose address equals addr, ignoring ASCII case, are returned.
// An empty result with a nil error means the API does not know the address.
func (c *Client) ResolveMailbox(ctx context.Context, addr string) ([]annuaire.Mailbox, error) {
	if _, _, err := annuaire.SplitAddress(addr); err != nil {
		return nil, err
	}
	match := func(ms []annuaire.Mailbox) []annuaire.Mailbox {
		var out []annuaire.Mailbox
		for _, m := range ms {
			if ascii.EqualFold(m.Address, addr) {
				out = append(out, m)
			}
		}
		return out
	}
	// 1. PractitionerRole, with the practitioner and the organisation.
	params := url.Values{"mailbox-mss": {addr}, "_include": {"PractitionerRole:practitioner", "PractitionerRole:organization"}}
	var out []annuaire.Mailbox
	for b, err := range c.Search(ctx, "PractitionerRole", params) {
		if err != nil {
			return nil, err
		}
		rs, err := b.Decode()
		if err != nil {
			return nil, err
		}
		pr := map[string]*Practitioner{}
		for _, p := range rs.Practitioners {
			pr["Practitioner/"+p.ID] = p
		}
		org := map[string]*Organization{}
		for _, o := range rs.Organizations {
			org["Organization/"+o.ID] = o
		}
		for _, r := range rs.PractitionerRoles {
			for _, m := range match(r.Mailboxes()) {
				if r.Practitioner != nil {
					if p := pr[r.Practitioner.Reference]; p != nil {
						prof, cat := m.Owner.Profession, m.Owner.Category
						m.Owner = p.Person()
						if prof.Code != "" {
							m.Owner.Profession = prof
						}
						if cat.Code != "" {
							m.Owner.Category = cat
						}
					}
				}
				if r.Organization != nil {
					if o := org[r.Organization.Reference]; o != nil {
						m.Structure = o.Structure()
					}
				}
				out = append(out, m)
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// 2. Practitioner (PER or CAB mailboxes tied to the person only).
	for p, err := range c.Practitioners(ctx, PractitionerQuery{Mailbox: addr}) {
		if err != nil {
			return nil, err
		}
		out = append(out, match(p.Mailboxes())...)
	}
	if len(out) > 0 {
		return out, nil
	}
	// 3. Organization (ORG and APP mailboxes).
	for b, err := range c.Search(ctx, "Organization", url.Values{"mailbox-mss": {addr}}) {
		if err != nil {
			return nil, err
		}
		rs, err := b.Decode()
		if err != nil {
			return nil, err
		}
		for _, o := range rs.Organizations {
			out = append(out, match(o.Mailboxes())...)
		}
	}
	return out, nil
}

// OrganizationQuery selects organisations; empty fields are not searched.
type OrganizationQuery struct {
	// PostalCode is address-postalcode: a postal code, or its start (a
	// department such as "78").
	PostalCode string
	// City is address-city.
	City string
	// Name is the organisation's name.
	Name string
	// ID is a structure identifier (FINESS, SIRET…), optionally "system|value".
	ID string
}

// Workplace is an organisation and the practitioners working there.
type Workplace struct {
	Organization *Organization
	Staff        []Staff
}

// Staff is one practitioner's situation at a Workplace.
type Staff struct {
	Role         *PractitionerRole
	Practitioner *Practitioner // nil if the API did not return it
}

// idBatch bounds the ids of one _id search: maintainers report problems
// around 50 technical ids per request (issue #372).
const idBatch = 40

// Workplaces yields the organisations matching q with the practitioners
// working there, as the ANS documentation advises: Organization with
// _revinclude=PractitionerRole:organization, then the Practitioners by _id
// in batches of 40.
func (c *Client) Workplaces(ctx context.Context, q OrganizationQuery) iter.Seq2[Workplace, error] {
	return func(yield func(Workplace, error) bool) {
		v := url.Values{"_revinclude": {"PractitionerRole:organization"}}
		for k, s := range map[string]string{"address-postalcode": q.PostalCode, "address-city": q.City, "name": q.Name, "identifier": q.ID} {
			if s = strings.TrimSpace(s); s != "" {
				v.Set(k, s)
			}
		}
		for b, err := range c.Search(ctx, "Organization", v) {
			if err != nil {
				yield(Workplace{}, err)
				return
			}
			rs, err := b.Decode()
			if err != nil {
				yield(Workplace{}, err)
				return
			}
			roles := map[string][]*PractitionerRole{}
			var ids []string
			seen := map[string]bool{}
			for _, r := range rs.PractitionerRoles {
				if r.Organization == nil {
					continue
				}
				roles[r.Organization.Reference] = append(roles[r.Organization.Reference], r)
				if r.Practitioner != nil {
					id := strings.TrimPrefix(r.Practitioner.Reference, "Practitioner/")
					if id != "" && !seen[id] {
						seen[id] = true
						ids = append(ids, id)
					}
				}
			}
			prs := map[string]*Practitioner{}
			for start := 0; start < len(ids); start += idBatch {
				batch := ids[start:min(start+idBatch, len(ids))]
				for pb, err := range c.Search(ctx, "Practitioner", url.Values{"_id": {strings.Join(batch, ",")}}) {
					if err != nil {
						yield(Workplace{}, err)
						return
					}
					prsPage, err := pb.Decode()
					if err != nil {
						yield(Workplace{}, err)
						return
					}
					for _, p := range prsPage.Practitioners {
						prs["Practitioner/"+p.ID] = p
					}
				}
			}
			for _, o := range rs.Organizations {
				if rs.Included["Organization/"+o.ID] {
					continue
				}
				w := Workplace{Organization: o}
				for _, r := range roles["Organization/"+o.ID] {
					s := Staff{Role: r}
					if r.Practitioner != nil {
						s.Practitioner = prs[r.Practitioner.Reference]
					}
					w.Staff = append(w.Staff, s)
				}
				if !yield(w, nil) {
					return
				}
			}
		}
	}
}

// Update is one resource changed since a delta sync's start. An inactive
// resource (active=false) signals a deletion: it keeps only its id,
// identifiers and active flag (and, for an Organization, its name).
type Update struct {
	// Type and ID name the resource ("Practitioner", "003-1234567-7654321").
	Type, ID string
	// Deleted is true for an inactive resource.
	Deleted bool
	// LastUpdated is meta.lastUpdated.
	LastUpdated time.Time
	// One of these is set, per Type.
	Practitioner     *Practitioner
	PractitionerRole *PractitionerRole
	Organization     *Organization
}

// Updates yields the resources of one type (Practitioner,
// PractitionerRole or Organization) updated since a time, through
// _lastUpdated=ge…, with extra search parameters if any (for example
// qualification-code=10). since must be within DeltaWindow (30 days) of
// now, or ErrDeltaTooOld is returned: the server keeps no older updates
// and a full sync is needed.
func (c *Client) Updates(ctx context.Context, resourceType string, since time.Time, extra url.Values) iter.Seq2[Update, error] {
	return func(yield func(Update, error) bool) {
		c.init()
		if age := c.now().Sub(since); age > DeltaWindow {
			yield(Update{}, fmt.Errorf("%w: since %s is %v ago; do a full sync", ErrDeltaTooOld, since.Format(time.RFC3339), age.Round(time.Hour)))
			return
		}
		switch resourceType {
		case "Practitioner", "PractitionerRole", "Organization":
		default:
			yield(Update{}, fmt.Errorf("%w: delta sync of %q: want Practitioner, PractitionerRole or Organization", ErrResourceType, resourceType))
			return
		}
		v := url.Values{}
		for k, s := range extra {
			v[k] = s
		}
		v.Set("_lastUpdated", "ge"+since.UTC().Format("2006-01-02T15:04:05Z"))
		for b, err := range c.Search(ctx, resourceType, v) {
			if err != nil {
				yield(Update{}, err)
				return
			}
			rs, err := b.Decode()
			if err != nil {
				yield(Update{}, err)
				return
			}
			var ups []Update
			for _, p := range rs.Practitioners {
				ups = append(ups, Update{Type: "Practitioner", ID: p.ID, Deleted: !p.IsActive(), LastUpdated: p.Meta.Time(), Practitioner: p})
			}
			for _, r := range rs.PractitionerRoles {
				ups = append(ups, Update{Type: "PractitionerRole", ID: r.ID, Deleted: !r.IsActive(), LastUpdated: r.Meta.Time(), PractitionerRole: r})
			}
			for _, o := range rs.Organizations {
				ups = append(ups, Update{Type: "Organization", ID: o.ID, Deleted: !o.IsActive(), LastUpdated: o.Meta.Time(), Organization: o})
			}
			for _, u := range ups {
				if u.Type != resourceType || rs.Included[u.Type+"/"+u.ID] {
					continue
				}
				if !yield(u, nil) {
					return
				}
			}
		}
	}
}
