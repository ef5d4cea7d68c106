// The IMAP extensions clients use to resync and upload fast: QRESYNC (RFC 7162),
// MULTIAPPEND (RFC 3502) and BINARY (RFC 3516), and the Sent copy filed once.
#include "gtest/gtest.h"
#include "mail/delivery.h"
#include "mail/imap_test_fixture.h"

namespace penncloud::mail {
namespace {

std::string WithId(std::string_view subject, std::string_view id) {
  return Cat("From: alice@penncloud.local\r\nTo: bob@example.com\r\nSubject: ", subject,
             "\r\nMessage-ID: <", id, ">\r\n\r\nbody\r\n");
}

// Sends an APPEND whose literals are given in `messages` (LITERAL+ form) and returns the
// tagged answer.
std::string AppendAll(ImapSession& s, std::string_view tag, std::string_view folder,
                      const std::vector<std::string>& messages) {
  std::string line = Cat(tag, " APPEND ", folder);
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(s.OnLine(Cat(line, " {", messages[i].size(), "+}")).text, "");
    s.OnLiteral(messages[i]);
    line = "";
  }
  return s.OnLine("").text;
}

TEST_F(ImapSessionTest, SentCopyFiledBySmtpIsNotStoredTwice) {
  LoginAndSelect();
  // What our SMTP server filed when Thunderbird sent the message...
  auto filed = store_.Add("alice", kSent, Cat("Received: by us\r\n", WithId("hi", "x1@tb")), true);
  ASSERT_TRUE(filed.ok());
  // ...is the copy Thunderbird then APPENDs.
  std::string done = AppendAll(*session_, "c", "Sent", {WithId("hi", "x1@tb")});
  EXPECT_TRUE(Has(done, Cat("c OK [APPENDUID ", store_.State("alice", kSent)->uid_validity(), " ",
                            filed->uid(), "]")))
      << done;
  EXPECT_EQ(store_.Mailbox("alice", kSent)->size(), 1u);
  // Another message, or the same one into another folder, is stored.
  EXPECT_TRUE(Has(AppendAll(*session_, "d", "Sent", {WithId("other", "x2@tb")}), "d OK"));
  EXPECT_TRUE(Has(AppendAll(*session_, "e", "Drafts", {WithId("hi", "x1@tb")}), "e OK"));
  EXPECT_EQ(store_.Mailbox("alice", kSent)->size(), 2u);
  EXPECT_EQ(store_.Mailbox("alice", kDrafts)->size(), 1u);
  // A Sent entry older than the window does not count: an old message uploaded again
  // (mbsync filling a new server) is the user's to keep twice.
  now_ += kSentCopyWindowMicros + 1;
  EXPECT_TRUE(Has(AppendAll(*session_, "f", "Sent", {WithId("hi", "x1@tb")}), "f OK"));
  EXPECT_EQ(store_.Mailbox("alice", kSent)->size(), 3u);
  // Found either way round: FindSentCopy is what SMTP submission asks first.
  auto found = FindSentCopy(store_, "alice", WithId("again", "x2@tb"), now_);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());  // x2 arrived more than the window ago
  AppendAll(*session_, "g", "Sent", {WithId("new", "x3@tb")});
  found = FindSentCopy(store_, "alice", WithId("new", "x3@tb"), now_);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->subject(), "new");
  EXPECT_FALSE(FindSentCopy(store_, "alice", "Subject: no id\r\n\r\nx\r\n", now_)->has_value());
}

TEST_F(ImapSessionTest, MultiappendStoresAllInOrder) {
  session_->OnTlsStarted();
  Send("a LOGIN alice secret");
  EXPECT_TRUE(Has(Send("b CAPABILITY"), "MULTIAPPEND"));
  std::string one = Message("one"), two = Message("two"), three = Message("three");
  // Synchronizing literals, each message with its own flags.
  EXPECT_EQ(Send(Cat("c APPEND Drafts (\\Draft) {", one.size(), "}")),
            "+ Ready for literal data\r\n");
  session_->OnLiteral(one);
  EXPECT_EQ(Send(Cat(" (\\Seen \\Flagged) \"24-Nov-2026 10:00:00 +0000\" {", two.size(), "}")),
            "+ Ready for literal data\r\n");
  session_->OnLiteral(two);
  EXPECT_EQ(Send(Cat(" {", three.size(), "}")), "+ Ready for literal data\r\n");
  session_->OnLiteral(three);
  std::string done = Send("");
  EXPECT_TRUE(Has(done, " 1:3] APPEND completed")) << done;
  auto drafts = store_.Mailbox("alice", kDrafts);
  ASSERT_EQ(drafts->size(), 3u);
  EXPECT_EQ((*drafts)[0].subject(), "one");
  EXPECT_TRUE((*drafts)[0].draft());
  EXPECT_TRUE((*drafts)[1].seen() && (*drafts)[1].flagged());
  EXPECT_EQ(ImapDate((*drafts)[1].received_micros()), "24-Nov-2026 10:00:00 +0000");
  EXPECT_EQ(*store_.Source("alice", (*drafts)[2]), three);
  // One bad message refuses the whole command: nothing of it is stored.
  EXPECT_EQ(Send(Cat("d APPEND Drafts {", one.size(), "+}")), "");
  session_->OnLiteral(one);
  EXPECT_TRUE(Has(Send(" (\\Seen) \"not a date\" {1+}"), ""));
  session_->OnLiteral("x");
  EXPECT_TRUE(Has(Send(""), "d BAD Bad date-time"));
  EXPECT_EQ(store_.Mailbox("alice", kDrafts)->size(), 3u);
  EXPECT_TRUE(Has(AppendAll(*session_, "e", "Nowhere", {one, two}), "e NO [TRYCREATE]"));
  EXPECT_TRUE(Has(Send(Cat("f APPEND Drafts {", one.size(), "+}")), ""));
  session_->OnLiteral(one);
  EXPECT_TRUE(Has(Send(" junk"), "f BAD"));
}

TEST_F(ImapSessionTest, QresyncReportsVanishedAndChangedMessages) {
  for (int i = 1; i <= 6; ++i) Add(Cat("m", i));
  session_->OnTlsStarted();
  Send("a LOGIN alice secret");
  EXPECT_TRUE(Has(Send("b CAPABILITY"), "QRESYNC"));
  // QRESYNC must be enabled before SELECT uses it.
  EXPECT_TRUE(Has(Send("c SELECT INBOX (QRESYNC (1 1))"), "c BAD"));
  EXPECT_EQ(Send("d ENABLE QRESYNC"), "* ENABLED QRESYNC\r\nd OK ENABLE completed\r\n");
  std::string first = Send("e SELECT INBOX");
  ASSERT_TRUE(Has(first, "e OK"));
  auto state = store_.State("alice", kInbox);
  uint32_t validity = state->uid_validity();
  uint64_t modseq = state->highest_modseq();
  // The client goes away; meanwhile another client expunges 2 and 5 and flags 3.
  auto other = NewSession();
  LoginAndSelect(other.get());
  Send("c STORE 2,5 +FLAGS.SILENT (\\Deleted)", other.get());
  Send("d EXPUNGE", other.get());
  Send("e STORE 3 +FLAGS.SILENT (\\Flagged)", other.get());  // message 3 is now UID 4
  Add("m7");
  // Back, with what it knew: VANISHED (EARLIER), then the changes, then OK.
  std::string back = Send(Cat("f SELECT INBOX (QRESYNC (", validity, " ", modseq, " 1:6))"));
  EXPECT_TRUE(Has(back, "* OK [CLOSED]")) << back;
  EXPECT_TRUE(Has(back, "* 5 EXISTS")) << back;
  EXPECT_TRUE(Has(back, "* VANISHED (EARLIER) 2,5\r\n")) << back;
  EXPECT_TRUE(Has(back, "* 3 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (")) << back;
  EXPECT_TRUE(Has(back, "* 5 FETCH (UID 7 FLAGS () MODSEQ (")) << back;
  EXPECT_FALSE(Has(back, "UID 1 FLAGS")) << back;
  EXPECT_LT(back.find("VANISHED"), back.find("* 3 FETCH"));
  // Known UIDs narrow the answer; without them it is every missing UID below UIDNEXT.
  EXPECT_TRUE(Has(Send(Cat("g EXAMINE INBOX (QRESYNC (", validity, " ", modseq, " 3:6))")),
                  "* VANISHED (EARLIER) 5\r\n"));
  EXPECT_TRUE(Has(Send(Cat("h EXAMINE INBOX (QRESYNC (", validity, " ", modseq, "))")),
                  "* VANISHED (EARLIER) 2,5\r\n"));
  // The seq-match hint is accepted (and not needed).
  EXPECT_TRUE(Has(Send(Cat("i SELECT INBOX (QRESYNC (", validity, " ", modseq, " 1:6 (1:2 1:2)))")),
                  "i OK [READ-WRITE]"));
  // Another UIDVALIDITY: the client must start over, so nothing is reported.
  std::string stale = Send(Cat("j SELECT INBOX (QRESYNC (", validity + 1, " ", modseq, "))"));
  EXPECT_FALSE(Has(stale, "VANISHED")) << stale;
  EXPECT_FALSE(Has(stale, "FETCH")) << stale;
  EXPECT_TRUE(Has(Send("k SELECT INBOX (QRESYNC (1))"), "k BAD"));
  EXPECT_TRUE(Has(Send("l SELECT INBOX (FROBNICATE)"), "l BAD"));
  EXPECT_TRUE(Has(Send("l2 NOOP"), "l2 OK"));  // a BAD SELECT was not run: INBOX stays
  EXPECT_TRUE(Has(Send("l3 FETCH 1 FLAGS"), "* 1 FETCH"));
  EXPECT_EQ(Send("l4 SELECT Nowhere"),
            "* OK [CLOSED] Previous mailbox closed\r\n"
            "l4 NO [NONEXISTENT] No such mailbox\r\n");
  EXPECT_TRUE(Has(Send("l5 FETCH 1 FLAGS"), "l5 BAD No mailbox selected"));
  // UID FETCH ... (CHANGEDSINCE m VANISHED).
  Send("m SELECT INBOX");
  std::string changed = Send(Cat("n UID FETCH 1:* FLAGS (CHANGEDSINCE ", modseq, " VANISHED)"));
  EXPECT_TRUE(Has(changed, "* VANISHED (EARLIER) 2,5\r\n")) << changed;
  EXPECT_TRUE(Has(changed, "* 3 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ (")) << changed;
  EXPECT_FALSE(Has(changed, "UID 1 ")) << changed;
  EXPECT_TRUE(Has(Send("o FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)"), "o BAD"));
  EXPECT_TRUE(Has(Send("p UID FETCH 1:* FLAGS (VANISHED)"), "p BAD"));
  // Once enabled, expunges are told as VANISHED, whoever made them.
  Send("q STORE 1 +FLAGS.SILENT (\\Deleted)");
  EXPECT_TRUE(Has(Send("r EXPUNGE"), "* VANISHED 1\r\nr OK"));
  Send("r2 SELECT INBOX", other.get());
  Send("s STORE 1:2 +FLAGS.SILENT (\\Deleted)", other.get());
  Send("t EXPUNGE", other.get());
  std::string news = Send("u NOOP");
  EXPECT_TRUE(Has(news, "* VANISHED 3:4\r\n")) << news;
  EXPECT_FALSE(Has(news, "EXPUNGE")) << news;
}

TEST_F(ImapSessionTest, BinaryFetchDecodesTransferEncodings) {
  std::string source =
      "From: bob@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =3D ok\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n"
      "--b\r\nContent-Type: application/x-odd\r\n"
      "Content-Transfer-Encoding: x-unheard-of\r\n\r\nzzz\r\n"
      "--b--\r\n";
  ASSERT_TRUE(store_.Add("alice", kInbox, source, false).ok());
  LoginAndSelect();
  EXPECT_TRUE(Has(Send("c CAPABILITY"), "BINARY"));
  std::string text = Send("d FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])");
  EXPECT_TRUE(Has(text, "BINARY[1] {10}\r\ncafé = ok")) << text;
  EXPECT_TRUE(Has(text, "BINARY.SIZE[1] 10")) << text;
  EXPECT_FALSE(Has(text, "\\Seen")) << text;
  // NUL bytes go out as a literal8.
  std::string bytes = Send("e FETCH 1 BINARY[2]");
  EXPECT_TRUE(Has(bytes, std::string("BINARY[2] ~{4}\r\n\0\1\2\3", 16))) << bytes;
  EXPECT_TRUE(Has(bytes, "FLAGS (\\Seen)")) << bytes;
  EXPECT_TRUE(
      Has(Send("f FETCH 1 BINARY.PEEK[2]<1.2>"), std::string("BINARY[2]<1> {2}\r\n\1\2", 20)));
  // BODY[] still gives the part as encoded.
  std::string encoded = Send("g FETCH 1 BODY.PEEK[2]");
  EXPECT_TRUE(Has(encoded, "BODY[2] {8}\r\nAAECAw==")) << encoded;
  // An encoding nobody knows; a part that is not there; sections BINARY has not.
  EXPECT_TRUE(Has(Send("h FETCH 1 BINARY.PEEK[3]"), "h NO [UNKNOWN-CTE]"));
  EXPECT_TRUE(Has(Send("i FETCH 1 BINARY.PEEK[9]"), "BINARY[9] NIL"));
  EXPECT_TRUE(Has(Send("j FETCH 1 BINARY.PEEK[1.HEADER]"), "j BAD"));
  EXPECT_TRUE(Has(Send("k FETCH 1 BINARY.SIZE[1]<0.5>"), "k BAD"));
  EXPECT_TRUE(Has(Send("l FETCH 1 BINARY.SIZE[]"), Cat("BINARY.SIZE[] ", source.size())));
  // APPEND takes a literal8.
  Send("m APPEND INBOX ~{5+}");
  session_->OnLiteral(std::string("a\0b\r\n", 5));
  std::string appended = Send("");
  EXPECT_TRUE(Has(appended, "m OK [APPENDUID")) << appended;
}

}  // namespace
}  // namespace penncloud::mail
