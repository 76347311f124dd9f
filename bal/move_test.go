// SPDX-License-Identifier: Apache-2.0

//go:build unix

package bal_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	crl, err := pki.ServeCRL()
	require.NoError(t, err)
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
		require.NoError(t, err)
		uid, err := strconv.Atoi(nobody.Uid)
		require.NoError(t, err)
		gid, err := strconv.Atoi(nobody.Gid)
		require.NoError(t, err)
		root := filepath.Join(m.dc.Dir, "mail", strings.ToLower(baltest.ORGUser))
		dirs := []string{root}
		for _, f := range folders {
			dirs = append(dirs, filepath.Join(root, "."+f))
			for _, sub := range []string{"cur", "new", "tmp"} {
				dirs = append(dirs, filepath.Join(root, "."+f, sub))
			}
		}
		for _, d := range dirs {
			require.NoError(t, os.MkdirAll(d, 0o700))
			require.NoError(t, os.Chown(d, uid, gid))
		}
	}
	auth, err := bal.NewCertificate(pki.ORG.TLSCertificate())
	require.NoError(t, err)
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
	m.s, err = r.Open(ctx)
	require.NoError(t, err, m.dc.Log())
	t.Cleanup(func() { m.s.Close() })
	for i := 0; i < n; i++ {
		require.NoError(t, m.s.Append(ctx, "INBOX", reportRaw(t, baltest.ORGUser), ""))
	}
	return m
}

// ids fetches folder from the start and returns the Message-IDs in it.
func (m *moveEnv) ids(t *testing.T, folder string) []string {
	t.Helper()
	msgs, _, err := m.s.FetchNew(context.Background(), folder, bal.State{})
	require.NoError(t, err, "fetching %s", folder)
	var out []string
	for _, f := range msgs {
		require.NotNil(t, f.Message, "%s UID %d: %v", folder, f.UID, f.ParseErr)
		out = append(out, f.Message.MessageID)
	}
	sort.Strings(out)
	return out
}

// inbox selects the INBOX and returns its messages.
func (m *moveEnv) inbox(t *testing.T) []*bal.Fetched {
	t.Helper()
	msgs, _, err := m.s.FetchNew(context.Background(), "INBOX", bal.State{})
	require.NoError(t, err)
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
		if !errors.Is(err, fs.ErrNotExist) {
			require.NoError(t, err)
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
	assert.Equal(t, []string{before[0].Message.MessageID}, m.ids(t, dest), "%s holds", dest)
	assert.Equal(t, sorted(rest...), m.ids(t, "INBOX"), "INBOX holds")
	assert.Len(t, m.maildir(t, ""), len(rest), "INBOX maildir files")
	assert.Len(t, m.maildir(t, dest), 1, "%s maildir files", dest)
}

// Without MOVE, the destination missing: the COPY is refused (TRYCREATE),
// the folder is created, the COPY repeated and only then the message is
// flagged and expunged (it used to be expunged after the refused COPY and
// lost, with an OK trace).
func TestMoveWithoutMOVEFolderMissing(t *testing.T) {
	m := newMoveEnv(t, capsNoMove, 2)
	ctx := context.Background()
	before := m.inbox(t)
	require.Len(t, before, 2, "messages in INBOX")
	require.NoError(t, m.s.Move(ctx, before[0].UID, "Erreurs", before[0].Message.MessageID), m.dc.Log())
	ev := m.lastMove(t)
	assert.True(t, ev.Response.OK, "move traced as %+v", ev.Response)
	assert.Equal(t, "UID COPY", ev.Request.Command, "move traced")
	// The trace line tells what was done.
	assert.Contains(t, ev.Response.Text, "CREATE Erreurs", "move traced")
	assert.Contains(t, ev.Response.Text, "expunged", "move traced")
	checkMoved(t, m, before, "Erreurs")
}

// Without MOVE, the destination existing: one COPY, no CREATE.
func TestMoveWithoutMOVEFolderExists(t *testing.T) {
	m := newMoveEnv(t, capsNoMove, 2, "Erreurs")
	ctx := context.Background()
	folders, err := m.s.Folders(ctx)
	require.NoError(t, err)
	require.Contains(t, folders, "Erreurs", "folders")
	before := m.inbox(t)
	require.NoError(t, m.s.Move(ctx, before[0].UID, "Erreurs", before[0].Message.MessageID), m.dc.Log())
	ev := m.lastMove(t)
	assert.True(t, ev.Response.OK, "move traced as %+v", ev.Response)
	assert.Equal(t, "UID COPY", ev.Request.Command, "move traced")
	assert.NotContains(t, ev.Response.Text, "CREATE", "move traced")
	checkMoved(t, m, before, "Erreurs")
}

// With MOVE advertised (Dovecot's own list): UID MOVE, the folder created
// when missing, and a second move into the existing folder.
func TestMoveWithMOVE(t *testing.T) {
	m := newMoveEnv(t, "", 3)
	ctx := context.Background()
	before := m.inbox(t)
	require.NoError(t, m.s.Move(ctx, before[0].UID, "Traites", before[0].Message.MessageID), m.dc.Log())
	ev := m.lastMove(t)
	assert.True(t, ev.Response.OK, "move traced as %+v", ev.Response)
	assert.Equal(t, "UID MOVE", ev.Request.Command, "move traced")
	assert.Contains(t, ev.Response.Text, "CREATE Traites", "move traced")
	checkMoved(t, m, before, "Traites")
	require.NoError(t, m.s.Move(ctx, before[1].UID, "Traites", before[1].Message.MessageID))
	ev = m.lastMove(t)
	assert.True(t, ev.Response.OK, "second move traced as %+v", ev.Response)
	assert.NotContains(t, ev.Response.Text, "CREATE", "second move traced")
	assert.Equal(t, sorted(before[0].Message.MessageID, before[1].Message.MessageID), m.ids(t, "Traites"), "Traites holds")
	assert.Equal(t, []string{before[2].Message.MessageID}, m.ids(t, "INBOX"), "INBOX holds")
}

// Without MOVE, a destination that cannot be created: Move fails, traced
// NO, and the message stays in the INBOX, not flagged \Deleted.
func TestMoveWithoutMOVERefusedKeepsMessage(t *testing.T) {
	m := newMoveEnv(t, capsNoMove, 1)
	ctx := context.Background()
	before := m.inbox(t)
	dest := strings.Repeat("x", 300) // over Dovecot's name length limit
	require.Error(t, m.s.Move(ctx, before[0].UID, dest, before[0].Message.MessageID), "move to a folder that cannot be created succeeded")
	ev := m.lastMove(t)
	assert.False(t, ev.Response.OK, "refused move traced OK: %+v", ev.Response)
	assert.Equal(t, []string{before[0].Message.MessageID}, m.ids(t, "INBOX"), "INBOX after a refused move")
	for _, p := range m.maildir(t, "") {
		_, flags, _ := strings.Cut(filepath.Base(p), ":2,")
		assert.NotContains(t, flags, "T", "message flagged \\Deleted after a refused move: %s", p)
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
		require.NoError(t, err)
		if strings.Contains(string(b), before[1].Message.MessageID) {
			other = p
		}
	}
	require.NotEmpty(t, other, "second message not found on disk")
	base, _, _ := strings.Cut(filepath.Base(other), ":2,")
	flagged := filepath.Join(filepath.Dir(filepath.Dir(other)), "cur", base+":2,T")
	require.NoError(t, os.Rename(other, flagged))
	require.NoError(t, m.s.Move(ctx, before[0].UID, "Erreurs", before[0].Message.MessageID), m.dc.Log())
	ev := m.lastMove(t)
	assert.True(t, ev.Response.OK, "move traced as %+v", ev.Response)
	assert.Equal(t, "UID COPY", ev.Request.Command, "move traced")
	assert.Contains(t, ev.Response.Text, `left flagged \Deleted`, "move traced")
	assert.Equal(t, []string{before[0].Message.MessageID}, m.ids(t, "Erreurs"), "Erreurs holds")
	// Both stay in the INBOX, both flagged \Deleted.
	files := m.maildir(t, "")
	require.Len(t, files, 2, "INBOX maildir")
	for _, p := range files {
		_, flags, _ := strings.Cut(filepath.Base(p), ":2,")
		assert.Contains(t, flags, "T", "%s not flagged \\Deleted", p)
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
		require.NoError(t, m.s.Delete(ctx, before[0].UID, before[0].Message.MessageID), m.dc.Log())
		ev := m.lastEvent(t, trace.Delete)
		files := m.maildir(t, "")
		if tc.expunged {
			assert.Len(t, files, 1, "with UIDPLUS: files left")
			assert.Equal(t, "deleted", ev.Response.Text, "with UIDPLUS: traced")
			continue
		}
		assert.Len(t, files, 2, "without UIDPLUS: files left")
		assert.True(t, ev.Response.OK, "without UIDPLUS: traced %+v", ev.Response)
		// The trace line says why the message is left.
		assert.Contains(t, ev.Response.Text, "no UIDPLUS", "without UIDPLUS: traced")
		flagged := 0
		for _, p := range files {
			if _, flags, _ := strings.Cut(filepath.Base(p), ":2,"); strings.Contains(flags, "T") {
				flagged++
			}
		}
		assert.Equal(t, 1, flagged, "messages flagged \\Deleted")
	}
}
