#!/usr/bin/python3
"""Drives a real Thunderbird (Debian's, headless, a fresh profile) through Marionette
against our IMAP and SMTP servers, for the process tests.
Usage: thunderbird_client.py IMAPS_PORT SMTPS_PORT PASSWORD CERT_PEM DIR
Sets up alice's IMAP account (implicit TLS, our self-signed certificate accepted by an
override for exactly these ports), fetches the Inbox, moves the message "move me" into the
folder "Filed", and sends a message to bob with a copy in Sent. Prints one "key value"
line per fact; Thunderbird's own output goes to DIR/thunderbird.log."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marionette import Marionette  # noqa: E402

imaps_port, smtps_port, password, cert_pem, root = sys.argv[1:6]


def out(key, value):
    print(key, value, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def certificate_base64():
    lines = open(cert_pem).read().splitlines()
    return "".join(l for l in lines if l and not l.startswith("-----"))


# Every script gets `arguments` = [..., done]; `setup` defines the helpers they share.
SETUP = r"""
const done = arguments[arguments.length - 1];
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const sleep = ms => new Promise(r => setTimeout(r, ms));
async function until(what, check, ms = 30000) {
  for (let waited = 0; waited < ms; waited += 100) {
    const value = check();
    if (value) return value;
    await sleep(100);
  }
  const seen = server().rootFolder.descendants.map(f => f.URI).join(" ");
  throw new Error("timed out waiting for " + what + "; folders: " + seen);
}
const account = () => MailServices.accounts.accounts.find(a => a.incomingServer.type == "imap");
const server = () => account().incomingServer;
function folder(name) {
  return server().rootFolder.descendants.find(
      f => f.name.toLowerCase() == name.toLowerCase());  // INBOX is "INBOX"
}
function update(f) {
  return new Promise(resolve => f.QueryInterface(Ci.nsIMsgImapMailFolder)
      .updateFolderWithListener(null, {
        QueryInterface: ChromeUtils.generateQI(["nsIUrlListener"]),
        OnStartRunningUrl() {}, OnStopRunningUrl(url, status) { resolve(status); }}));
}
function subjects(f) { return [...f.messages].map(h => h.mime2DecodedSubject).sort(); }
function run(body) { body().then(done, e => done("error " + e)); }
"""

CONFIGURE = SETUP + r"""
const [imapsPort, smtpsPort, password, certificate] = arguments;
run(async () => {
  const certs = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
  const cert = certs.constructX509FromBase64(certificate);
  const overrides = Cc["@mozilla.org/security/certoverride;1"]
      .getService(Ci.nsICertOverrideService);
  for (const port of [imapsPort, smtpsPort]) {
    overrides.rememberValidityOverride("127.0.0.1", port, {}, cert, false);
  }
  const incoming = MailServices.accounts.createIncomingServer("alice", "127.0.0.1", "imap");
  incoming.port = imapsPort;
  incoming.socketType = Ci.nsMsgSocketType.SSL;
  incoming.authMethod = Ci.nsMsgAuthMethod.passwordCleartext;
  incoming.password = password;
  const smtp = MailServices.outgoingServer.createServer("smtp").QueryInterface(Ci.nsISmtpServer);
  smtp.hostname = "127.0.0.1";
  smtp.port = smtpsPort;
  smtp.socketType = Ci.nsMsgSocketType.SSL;
  smtp.authMethod = Ci.nsMsgAuthMethod.passwordCleartext;
  smtp.username = "alice";
  smtp.password = password;
  const identity = MailServices.accounts.createIdentity();
  identity.email = "alice@penncloud.local";
  identity.fullName = "Alice";
  identity.smtpServerKey = smtp.key;
  identity.doFcc = true;
  identity.fccFolderURI = incoming.serverURI + "/Sent";
  const acct = MailServices.accounts.createAccount();
  acct.addIdentity(identity);
  acct.incomingServer = incoming;
  incoming.performExpand(null);  // LIST: find the folders
  await until("the Inbox", () => folder("Inbox"));
  await until("the folder Filed", () => folder("Filed"));
  return "ok";
});
"""

FETCH = SETUP + r"""
run(async () => {
  const inbox = folder("Inbox");
  for (let i = 0; i < 100 && inbox.getTotalMessages(false) < 2; ++i) {
    await update(inbox);
    await sleep(200);
  }
  return subjects(inbox).join(",");
});
"""

MOVE = SETUP + r"""
run(async () => {
  const inbox = folder("Inbox"), filed = folder("Filed");
  const header = [...inbox.messages].find(h => h.mime2DecodedSubject == "move me");
  if (!header) return "no such message";
  const moved = new Promise(resolve => MailServices.copy.copyMessages(
      inbox, [header], filed, true /* move */, {
        QueryInterface: ChromeUtils.generateQI(["nsIMsgCopyServiceListener"]),
        onStartCopy() {}, onProgress() {}, setMessageKey() {}, getMessageId() { return ""; },
        onStopCopy(status) { resolve(status); }}, null, false));
  const status = await Promise.race([moved, sleep(30000).then(() => "timeout")]);
  for (let i = 0; i < 50 && filed.getTotalMessages(false) < 1; ++i) {
    await Promise.race([update(filed), sleep(2000)]);
    await sleep(200);
  }
  return status + " " + subjects(filed).join(",");
});
"""

SEND = SETUP + r"""
run(async () => {
  const acct = account();
  const identity = acct.defaultIdentity;
  const fields = Cc["@mozilla.org/messengercompose/composefields;1"]
      .createInstance(Ci.nsIMsgCompFields);
  fields.from = "Alice <alice@penncloud.local>";
  fields.to = "bob@penncloud.local";
  fields.subject = "from thunderbird";
  const events = [];
  const finished = new Promise(resolve => {
    const listener = {
      QueryInterface: ChromeUtils.generateQI(["nsIMsgSendListener", "nsIMsgCopyServiceListener"]),
      onStartSending() {}, onSendProgress() {}, onProgress() {}, onStatus() {},
      onGetDraftFolderURI() {}, onSendNotPerformed(id, status) { resolve("not sent " + status); },
      onTransportSecurityError() { resolve("tls error"); },
      onStopSending(id, status) { events.push("sent " + status); },
      onStartCopy() {}, setMessageKey() {}, getMessageId() { return ""; },
      onStopCopy(status) { events.push("fcc " + status); resolve(events.join(" ")); },
    };
    Cc["@mozilla.org/messengercompose/send;1"].createInstance(Ci.nsIMsgSend)
        .createAndSendMessage(null, identity, acct.key, fields, false, false,
                              Ci.nsIMsgSend.nsMsgDeliverNow, null, "text/plain",
                              "hello from thunderbird\r\n", null, null, listener, null, "",
                              Ci.nsIMsgCompType.New);
  });
  return await Promise.race([finished, sleep(60000).then(() => "timeout " + events.join(" "))]);
});
"""

port = free_port()
profile = os.path.join(root, "tb-profile")
os.makedirs(profile, exist_ok=True)
with open(os.path.join(profile, "user.js"), "w") as f:
    for pref, value in [("marionette.port", port), ("mail.shell.checkDefaultClient", "false"),
                        ("mailnews.start_page.enabled", "false"),
                        ("mail.provider.suppress_dialog_on_startup", "true"),
                        ("datareporting.policy.dataSubmissionEnabled", "false"),
                        ("app.update.enabled", "false")]:
        f.write('user_pref("%s", %s);\n' % (pref, value))
env = dict(os.environ, HOME=os.path.join(root, "tb-home"), MOZ_HEADLESS="1")
with open(os.path.join(root, "thunderbird.log"), "w") as log:
    tb = subprocess.Popen(["thunderbird", "--headless", "--marionette", "--remote-allow-system-access",
                           "--no-remote", "--profile", profile], stdout=log, stderr=log, env=env)
try:
    m = Marionette(port, timeout=90)
    m.start_chrome_session()
    out("configure", m.run(CONFIGURE, [int(imaps_port), int(smtps_port), password,
                                      certificate_base64()], 90000))
    out("fetched", m.run(FETCH, [], 60000))
    out("move", m.run(MOVE, [], 60000))
    out("send", m.run(SEND, [], 90000))
    out("done", "ok")
finally:
    tb.kill()
    tb.wait(timeout=30)
