// ENVELOPE from the parts an entry keeps against the same message's source parsed at
// FETCH: over a varied corpus both must answer byte for byte what FETCH answered before
// entries kept an envelope (each expected list below is that parse's answer), and FETCH
// must answer a folder's envelopes from its entries alone.
#include "mail/imap_message.h"

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

class ImapEnvelopeFetchTest : public ImapSessionTest {
 protected:
  // Delivers the corpus to INBOX; UIDs follow its order.
  std::vector<pb::MessageMeta> AddCorpus() {
    std::vector<pb::MessageMeta> added;
    for (const Sample& s : Corpus()) {
      auto m = store_.Add("alice", kInbox, s.source, false);
      EXPECT_TRUE(m.ok()) << s.name;
      if (m.ok()) added.push_back(*m);
    }
    return added;
  }
  static std::string Expected(std::string_view tag) {
    std::string out;
    for (size_t i = 0; i < Corpus().size(); ++i) {
      out += Cat("* ", i + 1, " FETCH (UID ", i + 1, " ENVELOPE ", Corpus()[i].envelope,
                 " FLAGS ())\r\n");
    }
    return Cat(out, tag, " OK UID FETCH completed\r\n");
  }
};

TEST_F(ImapEnvelopeFetchTest, AnswersFromTheEntriesWithoutReadingSources) {
  for (const pb::MessageMeta& m : AddCorpus()) {
    EXPECT_TRUE(m.has_envelope());
    ASSERT_TRUE(DeleteChunks(kvs_, BodyName("alice", m.id()), m.chunks()).ok());
  }
  LoginAndSelect();
  EXPECT_EQ(Send("c UID FETCH 1:* (FLAGS ENVELOPE)"), Expected("c"));
  // The sources are really gone: what needs one answers nothing of the message.
  EXPECT_EQ(Send("d FETCH 1 BODY.PEEK[]"), "d OK FETCH completed\r\n");
}

TEST_F(ImapEnvelopeFetchTest, EntriesWithoutAnEnvelopeParseTheirSource) {
  for (pb::MessageMeta m : AddCorpus()) {  // as rows written before entries kept one
    m.clear_envelope();
    ASSERT_TRUE(
        kvs_.Put(MailboxRow("alice"), MessageColumn(kInbox, m.id()), m.SerializeAsString()).ok());
  }
  LoginAndSelect();
  EXPECT_EQ(Send("c UID FETCH 1:* (FLAGS ENVELOPE)"), Expected("c"));
  // A copy reads the source anyway, and keeps the envelope it finds there.
  ASSERT_TRUE(store_.CreateFolder("alice", "Filed").ok());
  EXPECT_TRUE(Has(Send("d COPY 1:* Filed"), "d OK"));
  auto copies = store_.Mailbox("alice", "Filed");
  ASSERT_TRUE(copies.ok());
  ASSERT_EQ(copies->size(), Corpus().size());
  for (const pb::MessageMeta& m : *copies) {
    EXPECT_TRUE(m.has_envelope());
    ASSERT_TRUE(DeleteChunks(kvs_, BodyName("alice", m.id()), m.chunks()).ok());
  }
  EXPECT_TRUE(Has(Send("e SELECT Filed"), "e OK"));
  EXPECT_EQ(Send("f UID FETCH 1:* (FLAGS ENVELOPE)"), Expected("f"));
}

}  // namespace
}  // namespace penncloud::mail
