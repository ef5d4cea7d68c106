// ENVELOPE and BODYSTRUCTURE from what an entry keeps against the same message's source
// parsed at FETCH: over varied corpora both must answer byte for byte what FETCH answered
// before entries kept them (each expected list below is that parse's answer), and FETCH
// must answer a folder's envelopes and structures from its entries alone.
#include "mail/imap_message.h"

#include <functional>

#include "gtest/gtest.h"
#include "mail/chunks.h"
#include "mail/imap_test_fixture.h"

namespace penncloud::mail {
namespace {

struct Sample {
  const char* name;
  std::string source;
  std::string envelope;  // the ENVELOPE list FETCH answered by parsing the source
};

const std::vector<Sample>& Corpus() {
  static const auto* corpus =
      new std::vector<Sample>{
          {"plain",
           "From: Bob Smith <bob@example.com>\r\nTo: alice@penncloud.local\r\n"
           "Subject: lunch\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
           "Message-ID: <m1@example.com>\r\n\r\nhello\r\n",
           R"env(("Tue, 24 Nov 2026 10:00:00 +0000" "lunch" (("Bob Smith" NIL "bob" "example.com")) (("Bob Smith" NIL "bob" "example.com")) (("Bob Smith" NIL "bob" "example.com")) ((NIL NIL "alice" "penncloud.local")) NIL NIL NIL "<m1@example.com>"))env"},
          {"encoded words",
           "From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n"
           "To: =?UTF-8?B?SsO2cmc=?= <joerg@example.de>, \"=?UTF-8?Q?Zo=C3=AB?=\" "
           "<zoe@example.org>\r\n"
           "Subject: =?UTF-8?B?w6lsw6h2ZQ==?= report =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\n"
           "Date: Wed, 25 Nov 2026 08:30:00 +0100\r\n\r\nbody\r\n",
           R"env(("Wed, 25 Nov 2026 08:30:00 +0100" "=?UTF-8?B?w6lsw6h2ZQ==?= report =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=" (("=?iso-8859-1?b?QW5kcuk=?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) (("=?iso-8859-1?b?QW5kcuk=?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) (("=?iso-8859-1?b?QW5kcuk=?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) (("=?iso-8859-1?b?SvZyZw==?=" NIL "joerg" "example.de")("=?iso-8859-1?b?Wm/r?=" NIL "zoe" "example.org")) NIL NIL NIL NIL))env"},
          {"groups",
           "From: carol@example.com\r\nTo: undisclosed-recipients:;\r\n"
           "Cc: Team: ann@example.org, \"Bo, Jr.\" <bo@example.org>;, carl@example.net\r\n"
           "Bcc: Hidden: dan@example.com;\r\nSubject: groups\r\n\r\nx\r\n",
           R"env((NIL "groups" ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ((NIL NIL "Team" NIL)(NIL NIL "ann" "example.org")("\"Bo, Jr.\"" NIL "bo" "example.org")(NIL NIL NIL NIL)(NIL NIL "carl" "example.net")) ((NIL NIL "Hidden" NIL)(NIL NIL "dan" "example.com")(NIL NIL NIL NIL)) NIL NIL))env"},
          {"no headers but subject", "Subject: only a subject\r\n\r\nbody\r\n",
           R"env((NIL "only a subject" NIL NIL NIL NIL NIL NIL NIL NIL))env"},
          {"no header block", "just a body line\r\nand another\r\n",
           R"env((NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))env"},
          {"empty source", "", R"env((NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))env"},
          {"raw 8-bit utf-8",
           "From: J\xc3\xb6rg M\xc3\xbcller <joerg@example.de>\r\nTo: bob@example.com\r\n"
           "Subject: Gr\xc3\xbc\xc3\x9f"
           "e aus K\xc3\xb6ln\r\n\r\nHallo\r\n",
           "(NIL {17}\r\nGr\xc3"
           "\xbc"
           "\xc3"
           "\x9f"
           "e aus K\xc3"
           "\xb6"
           "ln ((\"=?iso-8859-1?b?SvZyZyBN/GxsZXI=?=\" NIL \"joerg\" \"example.de\")) "
           "((\"=?iso-8859-1?b?SvZyZyBN/GxsZXI=?=\" NIL \"joerg\" \"example.de\")) "
           "((\"=?iso-8859-1?b?SvZyZyBN/GxsZXI=?=\" NIL \"joerg\" \"example.de\")) ((NIL NIL "
           "\"bob\" \"example.com\")) NIL NIL NIL NIL)"},
          {"raw 8-bit latin-1",
           "From: Ren\xe9 <rene@example.fr>\r\nTo: bob@example.com\r\n"
           "Subject: caf\xe9 cr\xe8me\r\nDate: Thu, 26 Nov 2026 12:00:00 +0100\r\n\r\nx\r\n",
           "(\"Thu, 26 Nov 2026 12:00:00 +0100\" {10}\r\ncaf\xe9"
           " cr\xe8"
           "me ((\"=?iso-8859-1?b?UmVu6Q==?=\" NIL \"rene\" \"example.fr\")) "
           "((\"=?iso-8859-1?b?UmVu6Q==?=\" NIL \"rene\" \"example.fr\")) "
           "((\"=?iso-8859-1?b?UmVu6Q==?=\" NIL \"rene\" \"example.fr\")) ((NIL NIL \"bob\" "
           "\"example.com\")) NIL NIL NIL NIL)"},
          {"sender reply-to bcc in-reply-to",
           "From: Alice <alice@example.com>\r\nSender: Secretary <sec@example.com>\r\n"
           "Reply-To: list@example.com\r\nTo: bob@example.com\r\nBcc: eve@example.com\r\n"
           "Subject: Re: plans\r\nIn-Reply-To: <orig@example.com>\r\n"
           "Message-ID: <reply@example.com>\r\nDate: Fri, 27 Nov 2026 09:00:00 -0500\r\n\r\nok\r\n",
           R"env(("Fri, 27 Nov 2026 09:00:00 -0500" "Re: plans" (("Alice" NIL "alice" "example.com")) (("Secretary" NIL "sec" "example.com")) ((NIL NIL "list" "example.com")) ((NIL NIL "bob" "example.com")) NIL ((NIL NIL "eve" "example.com")) "<orig@example.com>" "<reply@example.com>"))env"},
          {"sender same as from",
           "From: Alice <alice@example.com>\r\nSender: Alice <alice@example.com>\r\n"
           "Reply-To: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: "
           "same\r\n\r\nx\r\n",
           R"env((NIL "same" (("Alice" NIL "alice" "example.com")) (("Alice" NIL "alice" "example.com")) (("Alice" NIL "alice" "example.com")) ((NIL NIL "bob" "example.com")) NIL NIL NIL NIL))env"},
          {"sender without from",
           "Sender: robot@example.com\r\nTo: bob@example.com\r\nSubject: no from\r\n\r\nx\r\n",
           R"env((NIL "no from" NIL ((NIL NIL "robot" "example.com")) NIL ((NIL NIL "bob" "example.com")) NIL NIL NIL NIL))env"},
          {"folded with tabs",
           "From: Bob\r\n <bob@example.com>\r\nTo: a@example.com,\r\n\tb@example.com\r\n"
           "Subject: a subject folded\r\n\tover two lines\r\n"
           "Date: Sat, 28 Nov 2026\r\n 10:00:00 +0000\r\n\r\nx\r\n",
           R"env(("Sat, 28 Nov 2026 10:00:00 +0000" "a subject folded over two lines" (("Bob" NIL "bob" "example.com")) (("Bob" NIL "bob" "example.com")) (("Bob" NIL "bob" "example.com")) ((NIL NIL "a" "example.com")(NIL NIL "b" "example.com")) NIL NIL NIL NIL))env"},
          {"quotes and backslashes",
           "From: \"O'Neil \\\"Quoted\\\" \\\\ Name\" <oneil@example.com>\r\nTo: x@example.com\r\n"
           "Subject: say \"hi\" \\ there\r\n\r\nx\r\n",
           R"env((NIL "say \"hi\" \\ there" (("\"O'Neil \\\"Quoted\\\" \\\\ Name\"" NIL "oneil" "example.com")) (("\"O'Neil \\\"Quoted\\\" \\\\ Name\"" NIL "oneil" "example.com")) (("\"O'Neil \\\"Quoted\\\" \\\\ Name\"" NIL "oneil" "example.com")) ((NIL NIL "x" "example.com")) NIL NIL NIL NIL))env"},
          {"address without domain", "From: localonly\r\nTo: <>, @\r\nSubject: odd\r\n\r\nx\r\n",
           R"env((NIL "odd" ((NIL NIL "localonly" NIL)) ((NIL NIL "localonly" NIL)) ((NIL NIL "localonly" NIL)) NIL NIL NIL NIL NIL))env"},
          {"several from", "From: a@example.com, B <b@example.com>\r\nSubject: two\r\n\r\nx\r\n",
           R"env((NIL "two" ((NIL NIL "a" "example.com")("B" NIL "b" "example.com")) ((NIL NIL "a" "example.com")("B" NIL "b" "example.com")) ((NIL NIL "a" "example.com")("B" NIL "b" "example.com")) NIL NIL NIL NIL NIL))env"},
          {"lf line ends",
           "From: Lf <lf@example.com>\nTo: bob@example.com\nSubject: bare LF\n"
           "Message-ID: <lf@example.com>\n\nbody\n",
           R"env((NIL "bare LF" (("Lf" NIL "lf" "example.com")) (("Lf" NIL "lf" "example.com")) (("Lf" NIL "lf" "example.com")) ((NIL NIL "bob" "example.com")) NIL NIL NIL "<lf@example.com>"))env"},
          {"non-ascii name needs encoding",
           "From: \"=?UTF-8?Q?Fran=C3=A7ois_=22Fr=C3=A9d=22?=\" <fr@example.fr>\r\nSubject: "
           "x\r\n\r\nx\r\n",
           R"env((NIL "x" (("=?iso-8859-1?q?Fran=E7ois_=22Fr=E9d=22?=" NIL "fr" "example.fr")) (("=?iso-8859-1?q?Fran=E7ois_=22Fr=E9d=22?=" NIL "fr" "example.fr")) (("=?iso-8859-1?q?Fran=E7ois_=22Fr=E9d=22?=" NIL "fr" "example.fr")) NIL NIL NIL NIL NIL))env"},
          {"duplicate headers",
           "Subject: first\r\nSubject: second\r\nFrom: one@example.com\r\nFrom: two@example.com\r\n"
           "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nDate: Tue, 01 Dec 2026 10:00:00 "
           "+0000\r\n\r\nx\r\n",
           R"env(("Mon, 30 Nov 2026 10:00:00 +0000" "first" ((NIL NIL "one" "example.com")(NIL NIL "two" "example.com")) ((NIL NIL "one" "example.com")(NIL NIL "two" "example.com")) ((NIL NIL "one" "example.com")(NIL NIL "two" "example.com")) NIL NIL NIL NIL NIL))env"},
          {"multipart",
           "From: m@example.com\r\nTo: n@example.com\r\nSubject: with attachment\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
           "--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@example.com\r\nSubject: "
           "inner\r\n\r\nin\r\n"
           "--b1--\r\n",
           R"env((NIL "with attachment" ((NIL NIL "m" "example.com")) ((NIL NIL "m" "example.com")) ((NIL NIL "m" "example.com")) ((NIL NIL "n" "example.com")) NIL NIL NIL NIL))env"},
          {"empty values",
           "From:\r\nTo: \r\nSubject:\r\nDate: \r\nMessage-ID:\r\nIn-Reply-To:   \r\n\r\nx\r\n",
           R"env((NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))env"},
          {"long and messy ids",
           "From: x@example.com\r\nMessage-ID:   <a.b.c@[127.0.0.1]>  (comment)\r\n"
           "In-Reply-To: <p1@example.com> <p2@example.com>\r\nSubject: " +
               std::string(300, 'S') + "\r\n\r\nx\r\n",
           R"env((NIL "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS" ((NIL NIL "x" "example.com")) ((NIL NIL "x" "example.com")) ((NIL NIL "x" "example.com")) NIL NIL NIL "<p1@example.com> <p2@example.com>" "<a.b.c@[127.0.0.1]>  (comment)"))env"},
      };
  return *corpus;
}

const std::string& SourceNamed(std::string_view name) {
  for (const Sample& s : Corpus()) {
    if (s.name == name) return s.source;
  }
  ADD_FAILURE() << "no sample " << name;
  return Corpus().front().source;
}

TEST(ImapEnvelopeTest, ParsedSourceAnswersAsBefore) {
  for (const Sample& s : Corpus()) EXPECT_EQ(ImapEnvelope(s.source), s.envelope) << s.name;
}

TEST(ImapEnvelopeTest, KeptPartsAnswerAsTheParsedSource) {
  for (const Sample& s : Corpus()) {
    pb::Envelope kept;
    ASSERT_TRUE(kept.ParseFromString(EnvelopeOf(s.source).SerializeAsString())) << s.name;
    EXPECT_EQ(ImapEnvelope(kept), s.envelope) << s.name;
  }
}

TEST(ImapEnvelopeTest, KeepsRawHeaderBytesAndOnlyDifferingSenders) {
  pb::Envelope latin1 = EnvelopeOf(SourceNamed("raw 8-bit latin-1"));
  EXPECT_EQ(latin1.subject(), "caf\xe9 cr\xe8me");  // not UTF-8, kept as written
  EXPECT_TRUE(latin1.sender().empty());
  EXPECT_TRUE(latin1.reply_to().empty());
  pb::Envelope both = EnvelopeOf(SourceNamed("sender reply-to bcc in-reply-to"));
  ASSERT_EQ(both.sender_size(), 1);
  EXPECT_EQ(both.sender(0).mailbox(), "sec");
  ASSERT_EQ(both.reply_to_size(), 1);
  EXPECT_EQ(both.reply_to(0).mailbox(), "list");
  EXPECT_TRUE(EnvelopeOf(SourceNamed("sender same as from")).sender().empty());  // the same as From
}

// FETCH of a folder whose entries keep what it asks, or were written before they did.
class KeptViewsFetchTest : public ImapSessionTest {
 protected:
  // Delivers `sources` to INBOX; UIDs follow their order.
  std::vector<pb::MessageMeta> Deliver(const std::vector<std::string>& sources) {
    std::vector<pb::MessageMeta> added;
    for (const std::string& source : sources) {
      auto m = store_.Add("alice", kInbox, source, false);
      EXPECT_TRUE(m.ok()) << source;
      if (m.ok()) added.push_back(*m);
    }
    return added;
  }
  // Rewrites the entries as rows written before they kept what `forget` clears.
  void Forget(std::vector<pb::MessageMeta> entries,
              const std::function<void(pb::MessageMeta*)>& forget) {
    for (pb::MessageMeta& m : entries) {
      forget(&m);
      ASSERT_TRUE(
          kvs_.Put(MailboxRow("alice"), MessageColumn(kInbox, m.id()), m.SerializeAsString()).ok());
    }
  }
  void DeleteSources(const std::vector<pb::MessageMeta>& entries) {
    for (const pb::MessageMeta& m : entries) {
      ASSERT_TRUE(DeleteChunks(kvs_, BodyName("alice", m.id()), m.chunks()).ok());
    }
  }
  // COPYs the selected folder to a new one, Filed; returns the copies' entries.
  std::vector<pb::MessageMeta> CopyToFiled() {
    EXPECT_TRUE(store_.CreateFolder("alice", "Filed").ok());
    EXPECT_TRUE(Has(Send("x COPY 1:* Filed"), "x OK"));
    auto copies = store_.Mailbox("alice", "Filed");
    EXPECT_TRUE(copies.ok());
    return copies.ok() ? *copies : std::vector<pb::MessageMeta>();
  }
};

std::vector<std::string> Sources(const auto& corpus) {
  std::vector<std::string> out;
  for (const auto& sample : corpus) out.push_back(sample.source);
  return out;
}

std::string ExpectedEnvelopes(std::string_view tag) {
  std::string out;
  for (size_t i = 0; i < Corpus().size(); ++i) {
    out += Cat("* ", i + 1, " FETCH (UID ", i + 1, " ENVELOPE ", Corpus()[i].envelope,
               " FLAGS ())\r\n");
  }
  return Cat(out, tag, " OK UID FETCH completed\r\n");
}

using ImapEnvelopeFetchTest = KeptViewsFetchTest;

TEST_F(ImapEnvelopeFetchTest, AnswersFromTheEntriesWithoutReadingSources) {
  const std::vector<pb::MessageMeta> added = Deliver(Sources(Corpus()));
  for (const pb::MessageMeta& m : added) EXPECT_TRUE(m.has_envelope());
  DeleteSources(added);
  LoginAndSelect();
  EXPECT_EQ(Send("c UID FETCH 1:* (FLAGS ENVELOPE)"), ExpectedEnvelopes("c"));
  // The sources are really gone: what needs one answers nothing of the message.
  EXPECT_EQ(Send("d FETCH 1 BODY.PEEK[]"), "d OK FETCH completed\r\n");
}

TEST_F(ImapEnvelopeFetchTest, EntriesWithoutAnEnvelopeParseTheirSource) {
  Forget(Deliver(Sources(Corpus())), [](pb::MessageMeta* m) { m->clear_envelope(); });
  LoginAndSelect();
  EXPECT_EQ(Send("c UID FETCH 1:* (FLAGS ENVELOPE)"), ExpectedEnvelopes("c"));
  // A copy reads the source anyway, and keeps the envelope it finds there.
  const std::vector<pb::MessageMeta> copies = CopyToFiled();
  ASSERT_EQ(copies.size(), Corpus().size());
  for (const pb::MessageMeta& m : copies) EXPECT_TRUE(m.has_envelope());
  DeleteSources(copies);
  EXPECT_TRUE(Has(Send("e SELECT Filed"), "e OK"));
  EXPECT_EQ(Send("f UID FETCH 1:* (FLAGS ENVELOPE)"), ExpectedEnvelopes("f"));
}

// BODYSTRUCTURE kept in the entry against the same message's source parsed at FETCH. Each
// expected list is what FETCH answered before entries kept one (the imap server of 4e7ac43,
// over IMAP APPEND and FETCH of these sources).
struct StructureSample {
  const char* name;
  std::string source;
  std::string structure;
};

const std::vector<StructureSample>& StructureCorpus() {
  static const auto* corpus = new std::vector<StructureSample>{
      {"plain text",
       "From: a@example.com\r\n"
       "Subject: plain\r\n"
       "\r\n"
       "hello\r\n"
       "world\r\n",
       R"bs(("text" "plain" NIL NIL NIL "7bit" 14 2 NIL NIL NIL NIL))bs"},
      {"no header block", "just a line with no header\r\n",
       R"bs(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0))bs"},
      {"alternative",
       "From: a@example.com\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
       "\r\n"
       "--alt\r\n"
       "Content-Type: text/plain; charset=utf-8\r\n"
       "Content-Transfer-Encoding: quoted-printable\r\n"
       "\r\n"
       "caf=C3=A9\r\n"
       "--alt\r\n"
       "Content-Type: text/html; charset=utf-8\r\n"
       "\r\n"
       "<p>caf\xc3"
       "\xa9"
       "</p>\r\n"
       "<p>two</p>\r\n"
       "--alt--\r\n",
       R"bs((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 9 1 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "7bit" 24 2 NIL NIL NIL NIL) "alternative" ("boundary" "alt") NIL NIL NIL))bs"},
      {"mixed with attachment",
       "From: a@example.com\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"mix\"\r\n"
       "\r\n"
       "preamble\r\n"
       "--mix\r\n"
       "Content-Type: text/plain\r\n"
       "\r\n"
       "see attached\r\n"
       "--mix\r\n"
       "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
       "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
       "Content-Transfer-Encoding: base64\r\n"
       "Content-ID: <pdf1@example.com>\r\n"
       "Content-Description: the report\r\n"
       "\r\n"
       "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4K\r\n"
       "c3RyZWFtCg==\r\n"
       "--mix--\r\n"
       "epilogue\r\n",
       R"bs((("text" "plain" NIL NIL NIL "7bit" 12 1 NIL NIL NIL NIL)("application" "pdf" ("name" "report.pdf") "<pdf1@example.com>" "the report" "base64" 74 NIL ("attachment" ("filename" "report.pdf")) NIL NIL) "mixed" ("boundary" "mix") NIL NIL NIL))bs"},
      {"nested related in mixed",
       "From: a@example.com\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
       "\r\n"
       "--outer\r\n"
       "Content-Type: multipart/related; boundary=\"inner\"; type=\"text/html\"\r\n"
       "\r\n"
       "--inner\r\n"
       "Content-Type: text/html\r\n"
       "\r\n"
       "<img src=\"cid:i1\">\r\n"
       "--inner\r\n"
       "Content-Type: image/png\r\n"
       "Content-ID: <i1>\r\n"
       "Content-Transfer-Encoding: base64\r\n"
       "Content-Disposition: inline\r\n"
       "\r\n"
       "iVBORw0KGgo=\r\n"
       "--inner--\r\n"
       "--outer\r\n"
       "Content-Type: text/csv; charset=us-ascii; name=data.csv\r\n"
       "Content-Disposition: attachment; filename=data.csv; size=8\r\n"
       "\r\n"
       "a,b\r\n"
       "1,2\r\n"
       "--outer--\r\n",
       R"bs(((("text" "html" NIL NIL NIL "7bit" 18 1 NIL NIL NIL NIL)("image" "png" NIL "<i1>" NIL "base64" 12 NIL ("inline" NIL) NIL NIL) "related" ("boundary" "inner" "type" "text/html") NIL NIL NIL)("text" "csv" ("charset" "us-ascii" "name" "data.csv") NIL NIL "7bit" 8 2 NIL ("attachment" ("filename" "data.csv" "size" "8")) NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL))bs"},
      {"attached message",
       "From: m@example.com\r\n"
       "Subject: fwd\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
       "\r\n"
       "--b1\r\n"
       "Content-Type: text/plain\r\n"
       "\r\n"
       "forwarded below\r\n"
       "--b1\r\n"
       "Content-Type: message/rfc822\r\n"
       "\r\n"
       "From: Inner <inner@example.com>\r\n"
       "To: x@example.org\r\n"
       "Subject: inner\r\n"
       "Date: Wed, 02 Dec 2026 09:00:00 +0000\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
       "\r\n"
       "--b2\r\n"
       "Content-Type: text/plain\r\n"
       "\r\n"
       "inner text\r\n"
       "--b2\r\n"
       "Content-Type: text/html\r\n"
       "\r\n"
       "<b>inner</b>\r\n"
       "--b2--\r\n"
       "--b1--\r\n",
       R"bs((("text" "plain" NIL NIL NIL "7bit" 15 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 281 ("Wed, 02 Dec 2026 09:00:00 +0000" "inner" (("Inner" NIL "inner" "example.com")) (("Inner" NIL "inner" "example.com")) (("Inner" NIL "inner" "example.com")) ((NIL NIL "x" "example.org")) NIL NIL NIL NIL) (("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)("text" "html" NIL NIL NIL "7bit" 12 1 NIL NIL NIL NIL) "alternative" ("boundary" "b2") NIL NIL NIL) 16 NIL NIL NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL))bs"},
      {"8-bit parameter",
       "From: a@example.com\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"p\"\r\n"
       "\r\n"
       "--p\r\n"
       "Content-Type: application/octet-stream; name=\"r\xe9"
       "sum\xe9"
       ".bin\"\r\n"
       "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.bin\r\n"
       "\r\n"
       "xx\r\n"
       "--p--\r\n",
       "((\"application\" \"octet-stream\" (\"name\" {12}\r\nr\xc3"
       "\xa9"
       "sum\xc3"
       "\xa9"
       ".bin) NIL NIL \"7bit\" 2 NIL (\"attachment\" (\"filename\" {12}\r\nr\xc3"
       "\xa9"
       "sum\xc3"
       "\xa9"
       ".bin)) NIL NIL) \"mixed\" (\"boundary\" \"p\") NIL NIL NIL)"},
      {"empty multipart",
       "From: a@example.com\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"e\"\r\n"
       "\r\n"
       "no parts at all\r\n",
       R"bs((("text" "plain" NIL NIL NIL "7bit" 0 0) "mixed" ("boundary" "e") NIL NIL NIL))bs"},
      {"LF line ends",
       "From: a@example.com\n"
       "MIME-Version: 1.0\n"
       "Content-Type: multipart/mixed; boundary=\"lf\"\n"
       "\n"
       "--lf\n"
       "Content-Type: text/plain\n"
       "\n"
       "line one\n"
       "line two\n"
       "--lf--\n",
       R"bs((("text" "plain" NIL NIL NIL "7bit" 18 2 NIL NIL NIL NIL) "mixed" ("boundary" "lf") NIL NIL NIL))bs"},
  };
  return *corpus;
}

TEST(ImapBodyStructureTest, ParsedSourceAndKeptStructureAnswerAsBefore) {
  for (const StructureSample& s : StructureCorpus()) {
    EXPECT_EQ(ImapBodyStructure(s.source, true), s.structure) << s.name;
    pb::MessageMeta kept;
    KeepImapViews(s.source, &kept);
    ASSERT_TRUE(kept.ParseFromString(kept.SerializeAsString())) << s.name;
    EXPECT_EQ(kept.body_structure(), s.structure) << s.name;
    EXPECT_EQ(ImapEnvelope(kept.envelope()), ImapEnvelope(s.source)) << s.name;
  }
}

std::string ExpectedStructures(std::string_view tag) {
  std::string out;
  for (size_t i = 0; i < StructureCorpus().size(); ++i) {
    out += Cat("* ", i + 1, " FETCH (UID ", i + 1, " BODYSTRUCTURE ",
               StructureCorpus()[i].structure, ")\r\n");
  }
  return Cat(out, tag, " OK UID FETCH completed\r\n");
}

using ImapBodyStructureFetchTest = KeptViewsFetchTest;

TEST_F(ImapBodyStructureFetchTest, AnswersFromTheEntriesWithoutReadingSources) {
  const std::vector<pb::MessageMeta> added = Deliver(Sources(StructureCorpus()));
  for (const pb::MessageMeta& m : added) EXPECT_FALSE(m.body_structure().empty());
  DeleteSources(added);
  LoginAndSelect();
  EXPECT_EQ(Send("c UID FETCH 1:* (BODYSTRUCTURE)"), ExpectedStructures("c"));
  // BODY without a section (the non-extensible form) still parses the source, now gone.
  EXPECT_EQ(Send("d FETCH 1 BODY"), "d OK FETCH completed\r\n");
}

TEST_F(ImapBodyStructureFetchTest, EntriesWithoutOneParseTheirSource) {
  Forget(Deliver(Sources(StructureCorpus())),
         [](pb::MessageMeta* m) { m->clear_body_structure(); });
  LoginAndSelect();
  EXPECT_EQ(Send("c UID FETCH 1:* (BODYSTRUCTURE)"), ExpectedStructures("c"));
  // A copy reads the source anyway, and keeps the structure it finds there.
  const std::vector<pb::MessageMeta> copies = CopyToFiled();
  ASSERT_EQ(copies.size(), StructureCorpus().size());
  for (const pb::MessageMeta& m : copies) EXPECT_FALSE(m.body_structure().empty());
  DeleteSources(copies);
  EXPECT_TRUE(Has(Send("e SELECT Filed"), "e OK"));
  EXPECT_EQ(Send("f UID FETCH 1:* (BODYSTRUCTURE)"), ExpectedStructures("f"));
}

}  // namespace
}  // namespace penncloud::mail
