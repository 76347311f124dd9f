// SPDX-License-Identifier: Apache-2.0

package opserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ecdaf744/gomss/bal/baltest"
	"github.com/ecdaf744/gomss/internal/testenv"
)

// startBrowser starts headless Chromium (Debian package chromium) for the
// test and returns its first tab's context, bounded by timeout (a hang
// guard, not a speed check). The flags are those a root user in a
// container needs: no sandbox, no GPU, no /dev/shm.
func startBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path := testenv.LookPath(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1600, 1000),
	)
	guard, cancelGuard := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(guard, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelGuard()
	})
	require.NoError(t, chromedp.Do(ctx), "starting %s", path)
	return ctx
}

// waitFor polls the JavaScript predicate until it holds; on a timeout it
// fails with the page's visible text.
func waitFor(t *testing.T, ctx context.Context, what, predicate string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Minute)))
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("waiting for %s: %v\nthe page shows:\n%s", what, err, text)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, js)
	return v
}

// row is a message row of the list as a user sees it.
type row struct {
	ID      int64  `json:"id"`
	Subject string `json:"subject"`
	Badge   string `json:"badge"`
}

const rowsJS = `[...document.querySelectorAll("#rows tr")].map(tr => ({
	id: Number(tr.dataset.id),
	subject: tr.querySelector(".subject").innerText,
	badge: tr.querySelector(".check").innerText}))`

// xssRaw is a message whose every shown field is HTML: the page must
// show it as text and run none of it.
var xssRaw = "From: \"<img src=x onerror=alert(6)>\" <" + baltest.OtherUser + ">\r\n" +
	"To: <" + baltest.OtherUser + ">\r\n" +
	"Subject: " + xssSubject + "\r\n" +
	"Date: Mon, 07 Dec 2026 10:00:00 +0100\r\n" +
	"Message-ID: <xss.1@test.mssante.fr>\r\n" +
	"X-Test: <img src=x onerror=alert(4)>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"frontiere\"\r\n\r\n" +
	"--frontiere\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n<img src=x onerror=alert(3)>\r\n" +
	"--frontiere\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"" + xssFile + "\"\r\n\r\nbonjour\r\n" +
	"--frontiere--\r\n"

const (
	xssSubject = "<script>alert(1)</script> <img src=x onerror=alert(2)>"
	xssFile    = "<img src=x onerror=alert(5)>.txt"
)

// The web page in a real browser (headless Chromium), as a user sees it:
// the mailboxes with their counts, the messages with their check badge;
// a non-compliant message's rule ids; a compliant one's verdict,
// attachments (fetched with the page's cookie, and saved by a click),
// CDA header in words and header fields; a message sent while the page
// is open appears without a reload; overlapping polls and a mailbox
// chosen while another loads never list a message twice or in the wrong
// mailbox (checked at every change of the list); a reset empties the
// page; message data with HTML in it shows as text and runs nothing;
// without the token, a fresh browser gets 401 and no message data. Every
// wait is on a DOM condition, bounded by a minute (a hang guard).
func TestPageInBrowser(t *testing.T) {
	start := time.Now()
	ctx := startBrowser(t, 3*time.Minute)
	t.Logf("browser started in %v", time.Since(start))

	srv, c := startFromFiles(t)
	sendCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	org := c.sender("orgP12", nil, baltest.ORGUser)
	for i, file := range []string{"orgP12", "orgP12Legacy"} {
		m := report(baltest.CPSUser, false)
		m.Label = fmt.Sprintf("Compte rendu %d", i+1)
		_, err := c.sender(file, nil, baltest.ORGUser).Send(sendCtx, m)
		require.NoError(t, err, file)
	}
	bad := "From: <" + baltest.OtherUser + ">\r\nTo: <" + baltest.CPSUser + ">\r\nSubject: sans identifiant\r\nDate: Mon, 07 Dec 2026 10:00:00 +0100\r\n\r\nbonjour\r\n"
	var injected map[string]int64
	require.Equal(t, http.StatusCreated, c.call("POST", "/api/v1/mailboxes/"+baltest.CPSUser+"/messages", strings.NewReader(bad), &injected))
	badID := injected["id"]
	require.Equal(t, http.StatusCreated, c.call("POST", "/api/v1/mailboxes/"+baltest.OtherUser+"/messages", strings.NewReader(xssRaw), &injected))
	xssID := injected["id"]

	var list struct {
		Messages []Summary `json:"messages"`
	}
	require.Equal(t, http.StatusOK, c.call("GET", "/api/v1/messages?mailbox="+baltest.CPSUser, nil, &list))
	require.Len(t, list.Messages, 3)
	var good []Summary
	for _, m := range list.Messages {
		if m.ID != badID {
			good = append(good, m)
		}
	}
	require.Len(t, good, 2)

	// Every dialog is recorded (and dismissed, or the page would block);
	// every uncaught exception too.
	var mu sync.Mutex
	var dialogs, exceptions []string
	dialogEvents := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogEvents {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() {
				mu.Lock()
				exceptions = append(exceptions, m.String())
				mu.Unlock()
			}
		}
	}()

	pageStart := time.Now()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(c.st.API+"/ui?token="+c.st.APIToken))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, int(resp.Status))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, c.st.API+"/ui", loc, "the token is out of the address bar")
	// From now on, every change of the list is checked: never a message
	// twice, never a message of another mailbox than the one chosen
	// (mailbox is the page's own variable).
	eval[chromedp.Void](t, ctx, `window.listFaults = [];
		new MutationObserver(() => {
			const rows = [...document.querySelectorAll("#rows tr")];
			const ids = rows.map(tr => tr.dataset.id);
			if (new Set(ids).size !== ids.length) listFaults.push("twice: " + ids.join(","));
			for (const k of document.querySelectorAll("#rows .kind"))
				if (mailbox !== "" && !k.innerText.endsWith("→ " + mailbox)) listFaults.push("in " + mailbox + ": " + k.innerText);
		}).observe(document.getElementById("rows"), {childList: true})`)
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{c.st.API + "/ui"}})
	require.NoError(t, err)
	require.Len(t, cookies.Cookies, 1)
	assert.True(t, cookies.Cookies[0].HTTPOnly)
	assert.Empty(t, eval[string](t, ctx, `document.cookie`), "the token cookie is out of the scripts' reach")

	// The mailboxes, with their counts.
	waitFor(t, ctx, "the mailbox counts", `[...document.querySelectorAll("#boxes button")].some(b => b.innerText.includes("(3)"))`)
	boxes := eval[[]string](t, ctx, `[...document.querySelectorAll("#boxes button[data-mailbox]")].map(b => b.innerText)`)
	assert.ElementsMatch(t, []string{baltest.CPSUser + " (3)", baltest.ORGUser + " (0)", baltest.OtherUser + " (1)"}, boxes)
	require.Len(t, srv.Settings.Mailboxes, 3)

	// The rows, each with its check badge once computed.
	waitFor(t, ctx, "four rows checked", `document.querySelectorAll("#rows tr").length === 4 &&
		[...document.querySelectorAll("#rows .check")].every(td => td.innerText !== "…")`)
	rows := eval[[]row](t, ctx, rowsJS)
	t.Logf("page ready in %v: %+v", time.Since(pageStart), rows)
	want := []row{
		{ID: xssID, Subject: xssSubject, Badge: "1 écart(s)"},
		{ID: badID, Subject: "sans identifiant", Badge: "3 écart(s)"},
		{ID: good[0].ID, Subject: good[0].Subject, Badge: "conforme"},
		{ID: good[1].ID, Subject: good[1].Subject, Badge: "conforme"},
	}
	var d Detail
	require.Equal(t, http.StatusOK, c.call("GET", fmt.Sprintf("/api/v1/messages/%d", xssID), nil, &d))
	want[0].Badge = fmt.Sprintf("%d écart(s)", len(d.Check.Problems))
	assert.Equal(t, want, rows, "newest first")
	for _, g := range good {
		assert.Contains(t, g.Subject, "Compte rendu")
	}

	// The non-compliant message: its verdict names the rules.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rows tr[data-id="%d"]`, badID)))))
	waitFor(t, ctx, "the verdict of the injected message", `document.querySelector("#subject")?.innerText === "sans identifiant" && document.querySelector("#problems")`)
	verdict := eval[string](t, ctx, `document.querySelector("#verdict").innerText`)
	assert.Contains(t, verdict, "3 écart(s)")
	problems := eval[[]string](t, ctx, `[...document.querySelectorAll("#problems li b")].map(b => b.innerText)`)
	assert.ElementsMatch(t, []string{"ECO.2.2.1", "ECO.2.2.7", "ECO.2.4.3"}, problems)
	assert.NotContains(t, eval[string](t, ctx, `document.querySelector("#problems").innerText`), "undefined")

	// A compliant message: verdict, attachments, CDA header, header fields.
	m := good[0]
	require.Equal(t, http.StatusOK, c.call("GET", fmt.Sprintf("/api/v1/messages/%d", m.ID), nil, &d))
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rows tr[data-id="%d"]`, m.ID)))))
	waitFor(t, ctx, "the compliant message's detail", fmt.Sprintf(`document.querySelector("#subject")?.innerText === %q && document.querySelector("#xdm table.cda")`, m.Subject))
	assert.True(t, eval[bool](t, ctx, fmt.Sprintf(`document.querySelector("#rows tr[data-id=\"%d\"]").classList.contains("on")`, m.ID)), "the row shown is highlighted")
	assert.Contains(t, eval[string](t, ctx, `document.querySelector("#verdict").innerText`), "Conforme")
	assert.Nil(t, eval[any](t, ctx, `document.querySelector("#problems")`))

	type link struct {
		Href, Download, Text string
	}
	links := eval[[]link](t, ctx, `[...document.querySelectorAll("#attachments a")].map(a => ({Href: a.href, Download: a.getAttribute("download"), Text: a.innerText}))`)
	require.Len(t, links, len(d.Attachments))
	require.NotEmpty(t, links)
	for i, a := range d.Attachments {
		assert.Equal(t, a.Name, links[i].Text)
		assert.Equal(t, a.Name, links[i].Download)
		assert.Equal(t, fmt.Sprintf("%s/api/v1/messages/%d/attachments/%d", c.st.API, m.ID, a.Index), links[i].Href)
		// The link fetched by the page (its cookie, no bearer): the
		// attachment's bytes, as the API gives them.
		type got struct {
			Status int
			B64    string
		}
		g := eval[got](t, ctx, fmt.Sprintf(`(async () => {
			const r = await fetch(%q);
			const b = new Uint8Array(await r.arrayBuffer());
			let s = "";
			for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
			return {Status: r.status, B64: btoa(s)};
		})()`, links[i].Href))
		assert.Equal(t, http.StatusOK, g.Status, a.Name)
		body, err := base64.StdEncoding.DecodeString(g.B64)
		require.NoError(t, err)
		assert.Len(t, body, a.Size, a.Name)
		assert.Equal(t, apiBytes(t, c, fmt.Sprintf("/api/v1/messages/%d/attachments/%d", m.ID, a.Index)), body, a.Name)
	}

	// A user's click on the first link: the browser saves the file, with
	// the attachment's name and bytes.
	downloads := t.TempDir()
	_, err = chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: new(true)})
	require.NoError(t, err)
	begun := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#attachments a`))))
	for ev, err := range begun {
		require.NoError(t, err)
		assert.Equal(t, links[0].Href, ev.URL)
		assert.Equal(t, d.Attachments[0].Name, ev.SuggestedFilename)
		break
	}
	var saved string
	for ev, err := range progress {
		require.NoError(t, err)
		require.NotEqual(t, browser.DownloadProgressStateCanceled, ev.State)
		if ev.State == browser.DownloadProgressStateCompleted {
			saved = ev.FilePath
			break
		}
	}
	if saved == "" {
		saved = filepath.Join(downloads, d.Attachments[0].Name)
	}
	got, err := os.ReadFile(saved)
	require.NoError(t, err)
	assert.Equal(t, apiBytes(t, c, fmt.Sprintf("/api/v1/messages/%d/attachments/0", m.ID)), got, "the file saved by the click")
	assert.Equal(t, d.Attachments[0].Name, filepath.Base(saved))

	cda := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("#xdm table.cda tr")].map(tr => [tr.cells[0].innerText, tr.cells[1].innerText]))`)
	var cdaDoc *DocInfo
	for i := range d.XDM.Documents {
		if d.XDM.Documents[i].CDA != nil {
			cdaDoc = &d.XDM.Documents[i]
		}
	}
	require.NotNil(t, cdaDoc)
	assert.Equal(t, cdaDoc.CDA.Title, cda["Titre"])
	assert.NotEmpty(t, cda["Titre"])
	assert.Contains(t, cda["Type"], "11488-4")
	// The patient, author and date in words (testdocs.Patient("test")).
	assert.Equal(t, "PAT-TROIS DOMINIQUE MARIE-LOUISE", cda["Patient"])
	assert.Equal(t, "sexe F, le 28/03/1979 à DOMPREMY (51215)", cda["Naissance"])
	assert.Equal(t, "279035121518989 (NIR de test)", cda["INS"])
	assert.Regexp(t, `^\d\d/\d\d/\d{4}`, cda["Date"])
	assert.NotEmpty(t, cda["Auteur"])
	assert.NotEmpty(t, cda["Établissement"])
	t.Logf("CDA header shown: %q", cda)

	headers := eval[[][2]string](t, ctx, `[...document.querySelectorAll("#headers tr")].map(tr => [tr.cells[0].innerText, tr.cells[1].innerText])`)
	var nil_ string
	for _, h := range headers {
		if strings.EqualFold(h[0], "X-MSS-NIL") {
			nil_ = h[1]
		}
	}
	assert.Equal(t, d.MSS.NIL, nil_, "X-MSS-NIL among the header fields: %v", headers)
	assert.NotEmpty(t, nil_)

	// Live update: a message sent while the page is open shows up, with
	// no reload (the marker set in the page survives).
	eval[chromedp.Void](t, ctx, `window.marker = "same page"`)
	live := report(baltest.CPSUser, false)
	live.Label = "Compte rendu en direct"
	_, err = org.Send(sendCtx, live)
	require.NoError(t, err)
	waitFor(t, ctx, "the live message's row", `[...document.querySelectorAll("#rows .subject")].some(s => s.innerText.includes("Compte rendu en direct"))`)
	waitFor(t, ctx, "the live message's badge and count", `document.querySelector("#rows tr .check").innerText === "conforme" &&
		[...document.querySelectorAll("#boxes button")].some(b => b.innerText === `+"`"+baltest.CPSUser+" (4)`"+`)`)
	assert.Equal(t, "same page", eval[string](t, ctx, `window.marker`))
	rows = eval[[]row](t, ctx, rowsJS)
	require.Len(t, rows, 5, "each message once")
	assert.Equal(t, want, rows[1:])

	// Polls that overlap (a slow API: the next tick comes before the
	// answer) show a new message once.
	injectDone := map[string]int64{}
	plain := "From: <" + baltest.ORGUser + ">\r\nTo: <" + baltest.CPSUser + ">\r\nSubject: ticks\r\nDate: Mon, 07 Dec 2026 10:00:00 +0100\r\n\r\nbonjour\r\n"
	require.Equal(t, http.StatusCreated, c.call("POST", "/api/v1/mailboxes/"+baltest.CPSUser+"/messages", strings.NewReader(plain), &injectDone))
	eval[chromedp.Void](t, ctx, `Promise.all([refresh(), refresh(), refresh(), refresh()])`)
	waitFor(t, ctx, "the row of the message injected during overlapping polls", fmt.Sprintf(`document.querySelector("#rows tr[data-id=\"%d\"]")`, injectDone["id"]))
	rows = eval[[]row](t, ctx, rowsJS)
	assert.Len(t, rows, 6, "each message once: %+v", rows)

	// A mailbox chosen while the list of another one is loading: only its
	// messages are listed.
	eval[chromedp.Void](t, ctx, `Promise.all([choose(`+"`"+baltest.OtherUser+"`"+`), choose(`+"`"+baltest.CPSUser+"`"+`)])`)
	waitFor(t, ctx, "jean.dupont's messages", `document.querySelectorAll("#rows tr").length === 5 && document.querySelector("#listTitle").innerText.includes("jean.dupont")`)
	kinds := eval[[]string](t, ctx, `[...document.querySelectorAll("#rows .kind")].map(k => k.innerText)`)
	for _, k := range kinds {
		assert.True(t, strings.HasSuffix(k, "→ "+baltest.CPSUser), "a row of another mailbox: %q", k)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#boxes button[data-all]`))))
	waitFor(t, ctx, "all the messages again", `document.querySelectorAll("#rows tr").length === 6 && document.querySelector("#listTitle").innerText === "Messages (6)"`)

	// One mailbox: only its messages.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#boxes button[data-mailbox="`+baltest.OtherUser+`"]`))))
	waitFor(t, ctx, "the secretariat's messages", `document.querySelectorAll("#rows tr").length === 1 && document.querySelector("#listTitle").innerText.includes("secretariat")`)
	assert.Equal(t, []row{want[0]}, eval[[]row](t, ctx, rowsJS))

	// HTML in the message data: shown as text, nothing run.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#rows tr[data-id="%d"]`, xssID)))))
	waitFor(t, ctx, "the HTML message's detail", fmt.Sprintf(`document.querySelector("#subject")?.innerText === %q`, xssSubject))
	shown := eval[string](t, ctx, `document.body.innerText`)
	for _, s := range []string{xssSubject, "<img src=x onerror=alert(3)>", "<img src=x onerror=alert(4)>", xssFile, "<img src=x onerror=alert(6)>"} {
		assert.Contains(t, shown, s)
	}
	assert.Zero(t, eval[int](t, ctx, `document.querySelectorAll("img, [onerror]").length`),
		"no element made from message data")
	assert.Equal(t, 1, eval[int](t, ctx, `document.scripts.length`))

	// The dialog recorder works: a probe dialog is seen, and it is the
	// only one.
	eval[chromedp.Void](t, ctx, `setTimeout(() => alert("sonde"), 0)`)
	waitFor(t, ctx, "the probe dialog to be closed", `window.marker === "same page"`)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(dialogs, "sonde")
	}, time.Minute, 20*time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{"sonde"}, dialogs, "no dialog from message data")
	assert.Empty(t, exceptions, "uncaught exceptions in the page")
	mu.Unlock()

	assert.Empty(t, eval[[]string](t, ctx, `listFaults`), "the list as it changed")

	// The operator reset while the page is open: the list empties, the
	// detail too; the next message shows.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#boxes button[data-all]`))))
	waitFor(t, ctx, "all the messages", `document.querySelectorAll("#rows tr").length === 6`)
	require.Equal(t, http.StatusOK, c.call("POST", "/api/v1/reset", nil, nil))
	waitFor(t, ctx, "the emptied list", `document.querySelectorAll("#rows tr").length === 0 && !document.querySelector("#subject") &&
		[...document.querySelectorAll("#boxes button[data-mailbox]")].every(b => b.innerText.endsWith("(0)"))`)
	require.Equal(t, http.StatusCreated, c.call("POST", "/api/v1/mailboxes/"+baltest.CPSUser+"/messages", strings.NewReader(plain), &injectDone))
	waitFor(t, ctx, "the message after the reset", fmt.Sprintf(`document.querySelectorAll("#rows tr").length === 1 && document.querySelector("#rows tr[data-id=\"%d\"]")`, injectDone["id"]))
	mu.Lock()
	assert.Empty(t, exceptions, "uncaught exceptions in the page")
	mu.Unlock()

	// Without the token: a fresh browser context (no cookie) gets 401 and
	// no message data, on the page and on the API.
	fresh, cancelFresh := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelFresh()
	resp, err = chromedp.Run(fresh, chromedp.NavigateResponse(c.st.API+"/ui"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, int(resp.Status))
	shown, err = chromedp.Run(fresh, chromedp.Evaluate[string](`document.documentElement.innerText`))
	require.NoError(t, err)
	for _, s := range []string{"sans identifiant", "Compte rendu", baltest.CPSUser, "alert"} {
		assert.NotContains(t, shown, s)
	}
	resp, err = chromedp.Run(fresh, chromedp.NavigateResponse(c.st.API+"/api/v1/messages"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, int(resp.Status))
	resp, err = chromedp.Run(fresh, chromedp.NavigateResponse(c.st.API+"/ui?token=not-the-token"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, int(resp.Status))
	t.Logf("browser test: %v in all", time.Since(start))
}

// apiBytes is GET path with the bearer token.
func apiBytes(t *testing.T, c *client, path string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", c.st.API+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.st.APIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}
