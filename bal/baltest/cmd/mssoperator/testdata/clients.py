#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What a vendor's non-Go CI does with mssoperator: read operator.json, send
with smtplib over implicit TLS and over STARTTLS with the written client
certificate (SASL EXTERNAL) and with a bearer token (XOAUTH2), read with
imaplib (EXTERNAL, then LOGIN with the password), wait through the API.
Standard library only. Usage: clients.py <dir of operator.json>. Prints one
line per step; exits non-zero on the first failure."""
import base64, imaplib, json, os, smtplib, ssl, sys, time, urllib.request
from email.message import EmailMessage

st = json.load(open(os.path.join(sys.argv[1], "operator.json")))
files = st["files"]
cps = next(b for b in st["mailboxes"] if b["certificate"] == "cps") if any(b.get("certificate") == "cps" for b in st["mailboxes"]) else None
org = next(b for b in st["mailboxes"] if b.get("certificate") == "org")
other = next(b for b in st["mailboxes"] if not b.get("certificate"))

def ctx(cert=None, key=None):
    c = ssl.create_default_context(cafile=files["caBundle"])
    c.check_hostname = False  # the server certificate names localhost and the operator's domain, not 127.0.0.1 as a name
    if cert:
        c.load_cert_chain(cert, key)
    return c

def hostport(a):
    h, p = a.rsplit(":", 1)
    return h, int(p)

def api(path):
    req = urllib.request.Request(st["api"] + path, headers={"Authorization": "Bearer " + st["apiToken"]})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)

def message(subject, frm, to):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["X-MSS-NIL"] = "DEV000000"
    m.set_content("Bonjour depuis smtplib.")
    return m

before = api("/api/v1/messages?mailbox=" + other["address"])["total"]

# 1. Implicit TLS, client certificate, SASL EXTERNAL.
h, p = hostport(st["smtps"])
with smtplib.SMTP_SSL(h, p, context=ctx(files["orgCert"], files["orgKey"]), timeout=60) as s:
    s.ehlo("ci.example")
    code, resp = s.docmd("AUTH", "EXTERNAL =")
    assert code == 235, (code, resp)
    s.send_message(message("smtplib EXTERNAL", org["address"], other["address"]))
print("smtplib: implicit TLS + client certificate + AUTH EXTERNAL: sent")

# 2. STARTTLS, bearer token (XOAUTH2), to the same mailbox.
h, p = hostport(st["smtp"])
with smtplib.SMTP(h, p, timeout=60) as s:
    s.ehlo("ci.example")
    s.starttls(context=ctx())
    s.ehlo("ci.example")
    arg = base64.b64encode(("user=%s\x01auth=Bearer %s\x01\x01" % (org["address"], org["token"])).encode()).decode()
    code, resp = s.docmd("AUTH", "XOAUTH2 " + arg)
    assert code == 235, (code, resp)
    s.send_message(message("smtplib XOAUTH2", org["address"], other["address"]))
print("smtplib: STARTTLS + AUTH XOAUTH2 (token of operator.json): sent")

# 3. A revoked certificate is refused at the TLS handshake.
h, p = hostport(st["smtps"])
try:
    with smtplib.SMTP_SSL(h, p, context=ctx(files["revokedCert"], files["revokedKey"]), timeout=60) as s:
        s.ehlo("ci.example")
        code, resp = s.docmd("AUTH", "EXTERNAL =")
        assert code != 235, "a revoked certificate logged in"
except (ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError, OSError) as e:
    print("smtplib: revoked certificate refused:", type(e).__name__)

# 4. The API's long poll: both messages are there.
w = api("/api/v1/wait?mailbox=%s&count=%d&timeout=1m" % (other["address"], before + 2))
assert w["count"] >= before + 2, w
print("API: wait answered with", w["count"], "messages")

# 5. IMAP: EXTERNAL with the CPS certificate on its own mailbox; LOGIN on the other.
h, p = hostport(st["imaps"])
if cps:
    im = imaplib.IMAP4_SSL(h, p, ssl_context=ctx(files["cpsCert"], files["cpsKey"]), timeout=60)
    typ, _ = im.authenticate("EXTERNAL", lambda _: b"")
    assert typ == "OK", typ
    typ, _ = im.select("INBOX")
    assert typ == "OK", typ
    im.logout()
    print("imaplib: implicit TLS + client certificate + AUTHENTICATE EXTERNAL: INBOX selected")
im = imaplib.IMAP4_SSL(h, p, ssl_context=ctx(), timeout=60)
im.login(other["address"], other["password"])
typ, data = im.select("INBOX")
assert typ == "OK", typ
typ, data = im.search(None, 'SUBJECT "smtplib"')
ids = data[0].split()
assert len(ids) >= 2, data
typ, data = im.fetch(ids[-1], "(BODY.PEEK[HEADER.FIELDS (SUBJECT X-MSS-NIL)])")
head = data[0][1].decode()
assert "X-MSS-NIL: DEV000000" in head, head
im.logout()
print("imaplib: LOGIN with the password: %d messages found, headers read" % len(ids))
