//go:build unix

package bal_test

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ecdaf744/gomss/bal"
	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/trace"
)

// Capability lists for Dovecot's imap_capability: Dovecot 2.3's own list
// after login, less MOVE (and less UIDPLUS).
const (
	capsNoMove        = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY LITERAL+ SPECIAL-USE"
	capsNoMoveUIDPlus = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY LITERAL+ SPECIAL-USE"
)

type moveEnv struct {
	dc     *baltest.Dovecot
	s      *bal.Session
	mu     sync.Mutex
	events []trace.Event
}

// newMoveEnv starts Dovecot advertising caps after login ("" for its own
// list), makes the folders on disk, opens a session on ORGUser and appends
// n report messages to its INBOX.
func newMoveEnv(t *testing.T, caps string, n int, folders ...string) *moveEnv {
	t.Helper()
	pki, err := baltest.NewPKI(nil)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := pki.ServeCRL()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(crl.Close)
	cfg := baltest.DovecotConfig{PKI: pki}
	if caps != "" {
		cfg.ExtraConfig = "imap_capability = " + caps
	}
	m := &moveEnv{dc: baltest.StartDovecot(t, cfg)}
	if len(folders) > 0 {
		// Maildir++ folders, owned like the mailbox, made before the first
		// login (Dovecot's mailbox list index would not see them later).
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		root := filepath.Join(m.dc.Dir, "mail", strings.ToLower(baltest.ORGUser))
		dirs := []string{root}
		for _, f := range folders {
			dirs = append(dirs, filepath.Join(root, "."+f))
			for _, sub := range []string{"cur", "new", "tmp"} {
				dirs = append(dirs, filepath.Join(root, "."+f, sub))
			}
		}
		for _, d := range dirs {
			if err := os.MkdirAll(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(d, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	auth, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	if err != nil {
		t.Fatal(err)
	}
	r := &bal.Receiver{Server: endpoint(t, m.dc.IMAPAddr, false), ServerName: "localhost",
		Trust: &bal.Trust{Roots: []*x509Cert{pki.RootFort.Cert, pki.RootElementaire.Cert}}, Auth: auth,
		Mailbox: trace.Mailbox{Address: baltest.ORGUser, Kind: "APP"}, Software: "gomss-test",
		Trace: trace.RecorderFunc(func(_ context.Context, e trace.Event) error {
			m.mu.Lock()
			m.events = append(m.events, e)
			m.mu.Unlock()
			return nil
		})}
	ctx := context.Background()
	if m.s, err = r.Open(ctx); err != nil {
		t.Fatalf("%v\n%s", err, m.dc.Log())
	}
	t.Cleanup(func() { m.s.Close() })
	for i := 0; i < n; i++ {
		if err := m.s.Append(ctx, "INBOX", reportRaw(t, baltest.ORGUser), ""); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// ids fetches folder from the start and returns the Message-IDs in it.
func (m *moveEnv) ids(t *testing.T, folder string) []string {
	t.Helper()
	msgs, _, err := m.s.FetchNew(context.Background(), folder, bal.State{})
	if err != nil {
		t.Fatalf("fetching %s: %v", folder, err)
	}
	var out []string
	for _, f := range msgs {
		if f.Message == nil {
			t.Fatalf("%s UID %d: %v", folder, f.UID, f.ParseErr)
		}
		out = append(out, f.Message.MessageID)
	}
	sort.Strings(out)
	return out
}

// inbox selects the INBOX and returns its messages.
func (m *moveEnv) inbox(t *testing.T) []*bal.Fetched {
	t.Helper()
	msgs, _, err := m.s.FetchNew(context.Background(), "INBOX", bal.State{})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// lastMove returns the outcome (second) event of the last Move.
func (m *moveEnv) lastMove(t *testing.T) trace.Event {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.events) - 1; i >= 0; i-- {
		if m.events[i].Action == trace.Move {
			return m.events[i]
		}
	}
	t.Fatal("no move event traced")
	return trace.Event{}
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// maildir returns the paths of the message files of folder ("" for the
// INBOX) of ORGUser on disk.
func (m *moveEnv) maildir(t *testing.T, folder string) []string {
	t.Helper()
	dir := filepath.Join(m.dc.Dir, "mail", strings.ToLower(baltest.ORGUser))
	if folder != "" {
		dir = filepath.Join(dir, "."+folder)
	}
	var out []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			out = append(out, filepath.Join(dir, sub, e.Name()))
		}
	}
	return out
}

// checkMoved checks that the first message of the INBOX, moved to dest,
// is the only one there and is gone from the INBOX, the others staying.
func checkMoved(t *testing.T, m *moveEnv, before []*bal.Fetched, dest string) {
	t.Helper()
	var rest []string
	for _, f := range before[1:] {
		rest = append(rest, f.Message.MessageID)
	}
	if got := m.ids(t, dest); !equal(got, []string{before[0].Message.MessageID}) {
		t.Errorf("%s holds %v, want only %s", dest, got, before[0].Message.MessageID)
	}
	if got := m.ids(t, "INBOX"); !equal(got, sorted(rest...)) {
		t.Errorf("INBOX holds %v, want %v", got, sorted(rest...))
	}
	if got := len(m.maildir(t, "")); got != len(rest) {
		t.Errorf("INBOX maildir holds %d files, want %d", got, len(rest))
	}
	if got := len(m.maildir(t, dest)); got != 1 {
		t.Errorf("%s maildir holds %d files, want 1", dest, got)
	}
}

// Without MOVE, the destination missing: the COPY is refused (TRYCREATE),
// the folder is created, the COPY repeated and only then the message is
// flagged and expunged (it used to be expunged after the refused COPY and
// lost, with an OK trace).
func TestMoveWithoutMOVEFolderMissing(t *testing.T) {
	m := newMoveEnv(t, capsNoMove, 2)
	ctx := context.Background()
	before := m.inbox(t)
	if len(before) != 2 {
		t.Fatalf("%d messages in INBOX", len(before))
	}
	if err := m.s.Move(ctx, before[0].UID, "Erreurs", before[0].Message.MessageID); err != nil {
		t.Fatalf("%v\n%s", err, m.dc.Log())
	}
	ev := m.lastMove(t)
	if !ev.Response.OK || ev.Request.Command != "UID COPY" || !strings.Contains(ev.Response.Text, "CREATE Erreurs") || !strings.Contains(ev.Response.Text, "expunged") {
		t.Errorf("move traced as %+v %+v", ev.Request, ev.Response)
	}
	checkMoved(t, m, before, "Erreurs")
}

// Without MOVE, the destination existing: one COPY, no CREATE.
func TestMoveWithoutMOVEFolderExists(t *testing.T) {
	m := newMoveEnv(t, capsNoMove, 2, "Erreurs")
	ctx := context.Background()
	folders, err := m.s.Folders(ctx)
	if err != nil || !strings.Contains(" "+strings.Join(folders, " ")+" ", " Erreurs ") {
		t.Fatalf("folders %v, %v", folders, err)
	}
	before := m.inbox(t)
	if err := m.s.Move(ctx, before[0].UID, "Erreurs", before[0].Message.MessageID); err != nil {
		t.Fatalf("%v\n%s", err, m.dc.Log())
	}
	ev := m.lastMove(t)
	if !ev.Response.OK || ev.Request.Command != "UID COPY" || strings.Contains(ev.Response.Text, "CREATE") {
		t.Errorf("move traced as %+v %+v", ev.Request, ev.Response)
	}
	checkMoved(t, m, before, "Erreurs")
}

// With MOVE advertised (Dovecot's own list): UID MOVE, the folder created
// when missing, and a second move into the existing folder.
func TestMoveWithMOVE(t *testing.T) {
	m := newMoveEnv(t, "", 3)
	ctx := context.Background()
	before := m.inbox(t)
	if err := m.s.Move(ctx, before[0].UID, "Traites", before[0].Message.MessageID); err != nil {
		t.Fatalf("%v\n%s", err, m.dc.Log())
	}
	ev := m.lastMove(t)
	if !ev.Response.OK || ev.Request.Command != "UID MOVE" || !strings.Contains(ev.Response.Text, "CREATE Traites") {
		t.Errorf("move traced as %+v %+v", ev.Request, ev.Response)
	}
	checkMoved(t, m, before, "Traites")
	if err := m.s.Move(ctx, before[1].UID, "Traites", before[1].Message.MessageID); err != nil {
		t.Fatal(err)
	}
	if ev := m.lastMove(t); !ev.Response.OK || strings.Contains(ev.Response.Text, "CREATE") {
		t.Errorf("second move traced as %+v", ev.Response)
	}
	if got, want := m.ids(t, "Traites"), sorted(before[0].Message.MessageID, before[1].Message.MessageID); !equal(got, want) {
		t.Errorf("Traites holds %v, want %v", got, want)
	}
	if got := m.ids(t, "INBOX"); !equal(got, []string{before[2].Message.MessageID}) {
		t.Errorf("INBOX holds %v", got)
	}
}

// Without MOVE, a destination that cannot be created: Move fails, traced
// NO, and the message stays in the INBOX, not flagged \Deleted.
func TestMoveWithoutMOVERefusedKeepsMessage(t *testing.T) {
	m := newMoveEnv(t, capsNoMove, 1)
	ctx := context.Background()
	before := m.inbox(t)
	dest := strings.Repeat("x", 300) // over Dovecot's name length limit
	if err := m.s.Move(ctx, before[0].UID, dest, before[0].Message.MessageID); err == nil {
		t.Fatal("move to a folder that cannot be created succeeded")
	}
	if ev := m.lastMove(t); ev.Response.OK {
		t.Errorf("refused move traced OK: %+v", ev.Response)
	}
	if got := m.ids(t, "INBOX"); !equal(got, []string{before[0].Message.MessageID}) {
		t.Errorf("INBOX holds %v after a refused move", got)
	}
	for _, p := range m.maildir(t, "") {
		if _, flags, _ := strings.Cut(filepath.Base(p), ":2,"); strings.Contains(flags, "T") {
			t.Errorf("message flagged \\Deleted after a refused move: %s", p)
		}
	}
}

// Without MOVE nor UIDPLUS: the message is copied and flagged \Deleted but
// no EXPUNGE is sent, so a message someone else flagged \Deleted stays.
func TestMoveWithoutMOVEOrUIDPLUS(t *testing.T) {
	m := newMoveEnv(t, capsNoMoveUIDPlus, 2)
	ctx := context.Background()
	before := m.inbox(t) // the SELECT moved the files to cur/
	// The second message is flagged \Deleted (maildir flag T) behind the
	// session's back.
	var other string
	for _, p := range m.maildir(t, "") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), before[1].Message.MessageID) {
			other = p
		}
	}
	if other == "" {
		t.Fatal("second message not found on disk")
	}
	base, _, _ := strings.Cut(filepath.Base(other), ":2,")
	flagged := filepath.Join(filepath.Dir(filepath.Dir(other)), "cur", base+":2,T")
	if err := os.Rename(other, flagged); err != nil {
		t.Fatal(err)
	}
	if err := m.s.Move(ctx, before[0].UID, "Erreurs", before[0].Message.MessageID); err != nil {
		t.Fatalf("%v\n%s", err, m.dc.Log())
	}
	ev := m.lastMove(t)
	if !ev.Response.OK || ev.Request.Command != "UID COPY" || !strings.Contains(ev.Response.Text, `left flagged \Deleted`) {
		t.Errorf("move traced as %+v %+v", ev.Request, ev.Response)
	}
	if got := m.ids(t, "Erreurs"); !equal(got, []string{before[0].Message.MessageID}) {
		t.Errorf("Erreurs holds %v", got)
	}
	// Both stay in the INBOX, both flagged \Deleted.
	files := m.maildir(t, "")
	if len(files) != 2 {
		t.Fatalf("INBOX maildir holds %v", files)
	}
	for _, p := range files {
		if _, flags, _ := strings.Cut(filepath.Base(p), ":2,"); !strings.Contains(flags, "T") {
			t.Errorf("%s not flagged \\Deleted", p)
		}
	}
}

// lastEvent returns the last event traced for action.
func (m *moveEnv) lastEvent(t *testing.T, action trace.Action) trace.Event {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.events) - 1; i >= 0; i-- {
		if m.events[i].Action == action {
			return m.events[i]
		}
	}
	t.Fatalf("no %s event traced", action)
	return trace.Event{}
}

// Delete on a server with UIDPLUS removes the message alone; without
// UIDPLUS it leaves it flagged \Deleted (a plain EXPUNGE would take the
// messages others flagged too) and the trace says so.
func TestDelete(t *testing.T) {
	for _, tc := range []struct {
		caps     string
		expunged bool
	}{{"", true}, {capsNoMoveUIDPlus, false}} {
		m := newMoveEnv(t, tc.caps, 2)
		ctx := context.Background()
		before := m.inbox(t)
		if err := m.s.Delete(ctx, before[0].UID, before[0].Message.MessageID); err != nil {
			t.Fatalf("%v\n%s", err, m.dc.Log())
		}
		ev := m.lastEvent(t, trace.Delete)
		files := m.maildir(t, "")
		if tc.expunged {
			if len(files) != 1 || ev.Response.Text != "deleted" {
				t.Errorf("with UIDPLUS: %d files left, traced %q", len(files), ev.Response.Text)
			}
			continue
		}
		if len(files) != 2 || !ev.Response.OK || !strings.Contains(ev.Response.Text, "no UIDPLUS") {
			t.Errorf("without UIDPLUS: %d files left, traced %+v", len(files), ev.Response)
		}
		flagged := 0
		for _, p := range files {
			if _, flags, _ := strings.Cut(filepath.Base(p), ":2,"); strings.Contains(flags, "T") {
				flagged++
			}
		}
		if flagged != 1 {
			t.Errorf("%d messages flagged \\Deleted, want 1", flagged)
		}
	}
}
