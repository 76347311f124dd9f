// SPDX-License-Identifier: Apache-2.0

// Package annuairetest provides test support for code using package
// annuaire and its subpackages, for this module's tests and for vendors'
// CI: a deterministic generator of realistic synthetic
// Extraction_Correspondance_MSSante files, and an in-process fake of the
// Annuaire Santé FHIR API v2 for annuaire/fhir's Client (see NewServer).
// Nothing here reaches the network; every person generated is fictitious.
package annuairetest

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// ExtractionOptions tune WriteExtraction. The zero value writes a file with
// the shape of the real national extraction of August 2026.
type ExtractionOptions struct {
	// Rows is the number of data rows (default 536,000, the real file's size).
	Rows int
	// Domains is the number of mail domains (default 5,000), spread with a
	// heavy tail: the national domain of physicians holds about 12 % of
	// the rows, the median domain about 5.
	Domains int
	// Seed selects the data; the same options always give the same bytes.
	Seed uint64
	// ORGShare is the share of organisational (ORG) rows (default 0.15);
	// the rest are personal (PER).
	ORGShare float64
}

// Header is the header line of the extraction, the 31 columns of the real
// file in their published order.
const Header = "Type de BAL|Adresse BAL|Type Identifiant PP|Identifiant PP|Identification nationale PP|" +
	"Type identifiant structure|Identification Structure|Service de rattachement|Civilité d'exercice|" +
	"Nom d'exercice|Prénom d'exercice|Catégorie profession|Libellé de catégorie profession|Code Profession|" +
	"Libellé Profession|Code savoir-faire|Libellé savoir-faire|Dématérialisation|Raison Sociale structure BAL|" +
	"Enseigne commerciale structure BAL|L2COMPLEMENTLOCALISATION structure BAL|" +
	"L3COMPLEMENTDISTRIBUTION structure BAL|L4NUMEROVOIE structure BAL|L4COMPLEMENTNUMEROVOIE structure BAL|" +
	"NL4TYPEVOIE structure BAL|L4LIBELLEVOIE structure BAL|L5LIEUDITMENTION structure BAL|" +
	"L6LIGNEACHEMINEMENT structure BAL|Code postal structure BAL|Département structure BAL|Pays structure BAL"

// Stats describes a generated file.
type Stats struct {
	Rows, PER, ORG int
	Bytes          int64
	Domains        int // domains actually used
	SharedAddrs    int // addresses written on two rows (two structures)
	UpperAddrs     int // addresses holding upper-case letters
}

// professions: TRE_G15 code, label, share of PER rows, civility, specialty choices.
var professions = []struct {
	code, label string
	weight      float64
	civ         string
	sf          [][2]string
}{
	{"10", "Médecin", 0.46, "DR", [][2]string{{"SM54", "Médecine générale"}, {"SM26", "Qualifié en Médecine Générale"}, {"SM04", "Cardiologie et maladies vasculaires"}, {"SM41", "Pneumologie"}, {"", ""}}},
	{"21", "Pharmacien", 0.12, "", nil},
	{"60", "Infirmier", 0.15, "", nil},
	{"70", "Masseur-Kinésithérapeute", 0.08, "", nil},
	{"40", "Chirurgien-Dentiste", 0.06, "DR", nil},
	{"50", "Sage-Femme", 0.04, "", nil},
	{"80", "Pédicure-Podologue", 0.02, "", nil},
	{"91", "Orthophoniste", 0.02, "", nil},
	{"92", "Orthoptiste", 0.01, "", nil},
	{"26", "Audioprothésiste", 0.01, "", nil},
	{"28", "Opticien-Lunetier", 0.01, "", nil},
	{"96", "Psychomotricien", 0.01, "", nil},
	{"94", "Ergothérapeute", 0.005, "", nil},
	{"95", "Diététicien", 0.005, "", nil},
}

// nationalDomains: the order-wide domains of the national operator carry
// the head of the distribution: 30 % of a profession's personal mailboxes
// (medecin.mssante.fr: about 12 % of all rows).
var nationalDomains = []string{
	"medecin.mssante.fr", "pharmacien.mssante.fr", "infirmier.mssante.fr",
	"masseur-kinesitherapeute.mssante.fr", "chirurgien-dentiste.mssante.fr",
	"sage-femme.mssante.fr", "pedicure-podologue.mssante.fr",
}

var families = strings.Fields(`MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT
SIMON MICHEL LEFEBVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE
ROUSSEAU VINCENT MULLER LEFEVRE FAURE ANDRE MERCIER BLANC GUERIN BOYER GARNIER CHEVALIER FRANCOIS
LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLEMENT MORIN NICOLAS HENRY ROUSSEL MATHIEU GAUTIER MASSON
MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOEL MEYER DUFOUR MEUNIER BRUN BLANCHARD GIRAUD JOLY RIVIERE
LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ GERARD ROCHE RENARD SCHMITT ROY LEROUX COLIN VIDAL CARON
PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE BENOIT REY
LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE LOPEZ JEAN DUPUY GUILLOT HUBERT BERGER CARPENTIER
SANCHEZ DUPUIS MOULIN LOUIS DESCHAMPS HUET VASSEUR PEREZ BOUCHER FLEURY ROYER KLEIN JACQUET ADAM PARIS
POIRIER MARTY AUBRY GUYOT CARRE CHARLES RENAULT CHARPENTIER MENARD MAILLARD BARON BERTIN BAILLY HERVE
SCHNEIDER FERNANDEZ LE_GALL COLLET LEGER BOUVIER JULIEN PREVOST MILLET PERROT DANIEL LE_ROUX COUSIN
GERMAIN BRETON BESSON LANGLOIS REMY LE_GOFF PELLETIER LEVEQUE PERRIER LEBLANC BARRE LEBRUN MARCHAL
WEBER MALLET HAMON BOULANGER JACOB MONNIER MICHAUD RODRIGUEZ GUICHARD GILLET ETIENNE GRONDIN POULAIN
TESSIER CHEVALLIER COLLIN CHAUVIN DA_SILVA BOUCHET GAY LEMAITRE BENARD MARECHAL HUMBERT REYNAUD
ANTOINE HOARAU PERRET BARTHELEMY CORDIER PICHON LEJEUNE GILBERT LAMY DELAUNAY PASQUIER CARLIER LAPORTE
D'ALMEIDA LEFÈVRE BÉNARD GRÉGOIRE MÉNARD`)

var givens = strings.Fields(`Jean Marie Pierre Michel Philippe Nicolas Anne Catherine Isabelle Nathalie
Sophie Christophe Sylvie Frédéric Laurent Stéphane Valérie Julien Céline Sébastien Émilie Hélène Jérôme
François Françoise Aurélie Thomas Camille Léa Chloé Manon Mathilde Héloïse Zoé Noël Gaëlle Joël Loïc
Anaïs Benoît Agnès Cécile Élodie Étienne Guillaume Alexandre Claire Caroline Olivier David Vincent Patrick
Jean-François Marie-Hélène Jean-Luc Anne-Sophie Pierre-Yves Marie-Christine Thérèse Geneviève Ophélie
Maëlle Inès Adèle Raphaël Gaël Noémie Amélie Séverine Bérénice Clémence Lucie Hugo Louis Paul Lucas`)

var streets = []string{"DE LA REPUBLIQUE", "VICTOR HUGO", "JEAN JAURES", "PASTEUR", "DU GENERAL DE GAULLE",
	"DE LA GARE", "DES ECOLES", "DU MOULIN", "DE L'EGLISE", "NATIONALE", "DE LA LIBERATION", "GAMBETTA",
	"DES LILAS", "DU STADE", "DE VERDUN", "CARNOT", "DE LA PAIX", "DES TILLEULS", "FOCH", "DE PARIS"}
var streetTypes = []string{"R", "AV", "BD", "PL", "CHE", "ALL", "RTE", "IMP", "QUAI"}
var services = []string{"Secrétariat", "Cardiologie", "Urgences", "Radiologie", "Pédiatrie", "Maternité",
	"Laboratoire", "Pharmacie", "Médecine interne", "Chirurgie", "Oncologie", "Psychiatrie", "Gériatrie",
	"Bureau des entrées", "Direction", "DIM", "Imagerie", "Consultations externes"}
var structureKinds = []string{"CENTRE HOSPITALIER", "CLINIQUE", "CENTRE DE SANTE", "EHPAD", "MAISON DE SANTE",
	"LABORATOIRE", "PHARMACIE", "CABINET MEDICAL", "GROUPEMENT HOSPITALIER", "CENTRE DE RADIOLOGIE"}

var syll = strings.Fields("ba be bi bo bu da de di do du fa fe fi fo ga ge gi go la le li lo lu ma me mi mo " +
	"na ne ni no pa pe pi po ra re ri ro ru sa se si so ta te ti to va ve vi vo char bran gril mont vall rous plan")

type gen struct {
	r       *rand.Rand
	w       *bufio.Writer
	n       int64
	buf     []byte
	used    map[string]struct{}
	profCum []float64
	domCum  []float64
	domains []string
	stats   Stats
	domUsed []bool
}

// WriteExtraction writes a synthetic extraction: the real header, then
// opts.Rows rows in the real column format, deterministic for opts. About
// 166 bytes per row, as the real file: 536,000 rows make ≈ 89 MB.
// RPPS, ADELI, FINESS and SIRET identifiers carry valid keys (a SIRET's
// SIREN too); the structure column holds the IDNST, type digit then
// identifier ("1"+FINESS, "3"+SIRET, "4"+RPPS rang); a few addresses hold
// capitals; about 170 per 536,000 addresses appear on two rows (two
// structures), as in the real file.
func WriteExtraction(w io.Writer, opts ExtractionOptions) (Stats, error) {
	if opts.Rows <= 0 {
		opts.Rows = 536000
	}
	if opts.Domains <= 0 {
		opts.Domains = 5000
	}
	if opts.Domains < len(nationalDomains)+1 {
		opts.Domains = len(nationalDomains) + 1
	}
	if opts.ORGShare <= 0 || opts.ORGShare >= 1 {
		opts.ORGShare = 0.15
	}
	g := &gen{
		r:    rand.New(rand.NewPCG(opts.Seed, 0x6d73732d616e6e75)),
		w:    bufio.NewWriterSize(w, 256<<10),
		used: make(map[string]struct{}, opts.Rows),
	}
	g.setup(opts.Domains)
	g.line(Header)
	sharedEvery := 536000 / 170
	for i := 0; i < opts.Rows; i++ {
		shared := i%sharedEvery == sharedEvery/2 && i+1 < opts.Rows
		if g.r.Float64() < opts.ORGShare {
			g.org(shared)
		} else {
			g.per(shared)
		}
		if shared {
			i++
			g.stats.SharedAddrs++
		}
	}
	for _, u := range g.domUsed {
		if u {
			g.stats.Domains++
		}
	}
	g.stats.Bytes = g.n
	if err := g.w.Flush(); err != nil {
		return g.stats, err
	}
	return g.stats, nil
}

func (g *gen) setup(nd int) {
	cum := 0.0
	for _, p := range professions {
		cum += p.weight
		g.profCum = append(g.profCum, cum)
	}
	// Domain weights: the 7 national domains are mostly reached through
	// their profession (see per); the others follow a Zipf-like tail.
	g.domains = append(g.domains, nationalDomains...)
	head := []float64{0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001}
	rest := nd - len(nationalDomains)
	tail := 0.0
	// 1/(k+5)^1.5 puts about 7 % of the rows on the largest of these
	// domains and 4 to 5 on the median one, as in the real file.
	for k := 1; k <= rest; k++ {
		tail += 1 / math.Pow(float64(k+5), 1.5)
	}
	cum = 0
	for _, h := range head {
		cum += h
		g.domCum = append(g.domCum, cum)
	}
	left := 1 - cum
	for k := 1; k <= rest; k++ {
		cum += left * (1 / math.Pow(float64(k+5), 1.5)) / tail
		g.domCum = append(g.domCum, cum)
		g.domains = append(g.domains, g.domainName(k))
	}
	g.domUsed = make([]bool, len(g.domains))
}

func (g *gen) domainName(k int) string {
	kinds := []string{"ch-", "cl-", "ghu-", "ehpad-", "cds-", "msp-", "labo-", "", "gcs-", "cab-"}
	var b strings.Builder
	b.WriteString(kinds[k%len(kinds)])
	for j := 0; j < 1+k%2; j++ {
		b.WriteString(syll[g.r.IntN(len(syll))])
	}
	b.WriteString(strconv.Itoa(k))
	if k%9 == 0 {
		b.WriteString(".sante.fr")
	} else {
		b.WriteString(".mssante.fr")
	}
	return b.String()
}

func pick(cum []float64, x float64) int {
	lo, hi := 0, len(cum)-1
	x *= cum[len(cum)-1]
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// luhnDigits returns n-1 random digits (after prefix) and a Luhn check digit.
func (g *gen) luhnNumber(prefix string, n int) string {
	b := []byte(prefix)
	for len(b) < n-1 {
		b = append(b, byte('0'+g.r.IntN(10)))
	}
	sum := 0
	for i := len(b) - 1; i >= 0; i-- {
		d := int(b[i] - '0')
		if (len(b)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(append(b, byte('0'+(10-sum%10)%10)))
}

func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 32)
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		case strings.ContainsRune("àâäÀÂÄ", r):
			b.WriteByte('a')
		case strings.ContainsRune("éèêëÉÈÊË", r):
			b.WriteByte('e')
		case strings.ContainsRune("îïÎÏ", r):
			b.WriteByte('i')
		case strings.ContainsRune("ôöÔÖ", r):
			b.WriteByte('o')
		case strings.ContainsRune("ùûüÙÛÜ", r):
			b.WriteByte('u')
		case r == 'ç' || r == 'Ç':
			b.WriteByte('c')
		}
	}
	return b.String()
}

func (g *gen) family() string {
	if g.r.IntN(3) == 0 { // long tail of rarer names
		var b strings.Builder
		for j := 0; j < 2+g.r.IntN(4)/3; j++ {
			b.WriteString(syll[g.r.IntN(len(syll))])
		}
		return strings.ToUpper(b.String())
	}
	return strings.ReplaceAll(families[g.r.IntN(len(families))], "_", " ")
}

type place struct {
	name, trade, l2, l3, num, suffix, stype, street, l5, cityLine, cp, dept string
	idType, id                                                              string
}

func (g *gen) place(kind string) place {
	var p place
	d := 1 + g.r.IntN(95)
	dept := fmt.Sprintf("%02d", d)
	cp := fmt.Sprintf("%02d%03d", d, g.r.IntN(100)*10)
	switch x := g.r.IntN(100); {
	case x < 2:
		dept = []string{"2A", "2B"}[x]
		cp = fmt.Sprintf("20%03d", g.r.IntN(30)*10)
	case x < 5:
		d := 971 + g.r.IntN(4)
		dept = strconv.Itoa(d)
		cp = fmt.Sprintf("%d%02d", d, g.r.IntN(10)*10)
	}
	town := strings.ToUpper(syll[g.r.IntN(len(syll))] + syll[g.r.IntN(len(syll))] + syll[g.r.IntN(len(syll))])
	if g.r.IntN(4) == 0 {
		town = "SAINT-" + town
	}
	p.cp, p.dept = cp, dept
	p.cityLine = cp + " " + town
	p.name = kind + " " + town
	if g.r.IntN(8) == 0 {
		p.trade = p.name
	}
	if g.r.IntN(10) == 0 {
		p.l2 = "BATIMENT " + string(rune('A'+g.r.IntN(6)))
	}
	if g.r.IntN(12) == 0 {
		p.l3 = "BP " + strconv.Itoa(1+g.r.IntN(900))
	}
	p.num = strconv.Itoa(1 + g.r.IntN(180))
	if g.r.IntN(15) == 0 {
		p.suffix = "B"
	}
	p.stype = streetTypes[g.r.IntN(len(streetTypes))]
	p.street = streets[g.r.IntN(len(streets))]
	switch x := g.r.IntN(10); {
	// The structure column holds the IDNST: the TRE_G07 type digit, then
	// the FINESS, SIRET or RPPS rang.
	case x < 4:
		p.idType, p.id = "1", "1"+g.luhnNumber(dept[:2], 9)
		if dept == "2A" || dept == "2B" {
			p.id = "1" + g.luhnNumber("20", 9)
		}
	case x < 8:
		// A SIRET is a SIREN, itself with a Luhn key, then a NIC: 4 digits
		// and the Luhn key of the 14. The SIREN of La Poste, whose
		// establishments follow another rule, is never drawn.
		siren := g.luhnNumber("", 9)
		for siren == "356000000" {
			siren = g.luhnNumber("", 9)
		}
		p.idType, p.id = "3", "3"+g.luhnNumber(siren, 14)
	default:
		p.idType, p.id = "4", "4"+g.luhnNumber("", 11)+fmt.Sprintf("%02d", g.r.IntN(10))
	}
	return p
}

func (g *gen) domain() string {
	k := pick(g.domCum, g.r.Float64())
	g.domUsed[k] = true
	return g.domains[k]
}

func (g *gen) unique(local, dom string) string {
	a := local + "@" + dom
	for n := 2; ; n++ {
		if _, ok := g.used[strings.ToLower(a)]; !ok {
			break
		}
		a = local + strconv.Itoa(n) + "@" + dom
	}
	g.used[strings.ToLower(a)] = struct{}{}
	if g.r.IntN(200) == 0 {
		// A few addresses are published with capitals.
		g.stats.UpperAddrs++
		at := strings.IndexByte(a, '@')
		a = strings.ToUpper(a[:1]) + a[1:at] + a[at:]
		if a[0] < 'A' || a[0] > 'Z' {
			g.stats.UpperAddrs--
		}
	}
	return a
}

func (g *gen) per(shared bool) {
	pi := pick(g.profCum, g.r.Float64())
	pr := professions[pi]
	fam, giv := g.family(), givens[g.r.IntN(len(givens))]
	var dom string
	if pi < len(nationalDomains) && g.r.IntN(10) < 3 {
		dom = nationalDomains[min(pi, len(nationalDomains)-1)]
		g.domUsed[min(pi, len(nationalDomains)-1)] = true
	} else {
		dom = g.domain()
	}
	addr := g.unique(asciiLower(giv)+"."+asciiLower(fam), dom)
	idType, id := "8", g.luhnNumber("10", 11)
	if g.r.IntN(33) == 0 {
		idType, id = "0", g.luhnNumber("", 9)
	}
	sf := [2]string{}
	if len(pr.sf) > 0 {
		sf = pr.sf[g.r.IntN(len(pr.sf))]
	}
	kind := "CABINET MEDICAL"
	if g.r.IntN(2) == 0 {
		kind = structureKinds[g.r.IntN(len(structureKinds))]
	}
	svc := ""
	if g.r.IntN(8) == 0 {
		svc = services[g.r.IntN(len(services))]
	}
	dem := []string{"true", "false", "true", ""}[g.r.IntN(4)]
	rows := 1
	if shared {
		rows = 2
	}
	noPlace := g.r.IntN(20) < 15 // many personal BALs carry no structure
	for k := 0; k < rows; k++ {
		p := place{}
		if !noPlace || shared {
			p = g.place(kind)
		}
		g.row("PER", addr, idType, id, idType+id, p.idType, p.id, svc, pr.civ, fam, giv, "C", "Civil",
			pr.code, pr.label, sf[0], sf[1], dem, p)
	}
}

func (g *gen) org(shared bool) {
	kind := structureKinds[g.r.IntN(len(structureKinds))]
	svc := services[g.r.IntN(len(services))]
	dom := g.domain()
	addr := g.unique(asciiLower(strings.ReplaceAll(svc, " ", "-"))+"."+syll[g.r.IntN(len(syll))]+syll[g.r.IntN(len(syll))], dom)
	dem := []string{"true", "false", ""}[g.r.IntN(3)]
	rows := 1
	if shared {
		rows = 2
	}
	for k := 0; k < rows; k++ {
		p := g.place(kind)
		g.row("ORG", addr, "", "", "", p.idType, p.id, svc, "", "", "", "", "", "", "", "", "", dem, p)
	}
}

func (g *gen) row(cols ...any) {
	b := g.buf[:0]
	for i, c := range cols {
		if i > 0 {
			b = append(b, '|')
		}
		switch v := c.(type) {
		case string:
			b = append(b, v...)
		case place:
			country := "FRANCE"
			if v.cp == "" {
				country = ""
			}
			for j, s := range []string{v.name, v.trade, v.l2, v.l3, v.num, v.suffix, v.stype, v.street, v.l5, v.cityLine, v.cp, v.dept, country} {
				if j > 0 {
					b = append(b, '|')
				}
				b = append(b, s...)
			}
		}
	}
	b = append(b, '\n')
	g.buf = b
	n, _ := g.w.Write(b)
	g.n += int64(n)
	if cols[0] == "PER" {
		g.stats.PER++
	} else {
		g.stats.ORG++
	}
	g.stats.Rows++
}

func (g *gen) line(s string) {
	n, _ := g.w.WriteString(s + "\n")
	g.n += int64(n)
}
