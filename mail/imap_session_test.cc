#include "mail/imap_session.h"

#include "gtest/gtest.h"
#include "mail/imap_test_fixture.h"

namespace penncloud::mail {
namespace {

TEST_F(ImapSessionTest, LoginsAreDisabledBeforeTls) {
  EXPECT_TRUE(Has(session_->Greeting(), "* OK [CAPABILITY IMAP4rev1 IMAP4rev2"));
  std::string caps = Send("1 CAPABILITY");
  EXPECT_TRUE(Has(caps, "STARTTLS"));
  EXPECT_TRUE(Has(caps, "LOGINDISABLED"));
  EXPECT_FALSE(Has(caps, "AUTH=PLAIN"));
  EXPECT_TRUE(Has(Send("2 LOGIN alice secret"), "2 NO [PRIVACYREQUIRED]"));
  EXPECT_TRUE(Has(Send("3 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA=="), "3 NO [PRIVACYREQUIRED]"));
  EXPECT_TRUE(Has(Send("4 SELECT INBOX"), "4 BAD"));
  SessionOutput tls = session_->OnLine("5 STARTTLS");
  EXPECT_EQ(tls.text, "5 OK Begin TLS negotiation now\r\n");
  EXPECT_TRUE(tls.start_tls);
  session_->OnTlsStarted();
  caps = Send("6 CAPABILITY");
  EXPECT_TRUE(Has(caps, "AUTH=PLAIN AUTH=LOGIN"));
  EXPECT_FALSE(Has(caps, "STARTTLS"));
  EXPECT_TRUE(Has(Send("7 STARTTLS"), "7 BAD"));
  EXPECT_TRUE(Has(Send("8 LOGIN alice wrong"), "8 NO [AUTHENTICATIONFAILED]"));
  EXPECT_TRUE(Has(Send("9 LOGIN busy x"), "9 NO [LIMIT]"));
  EXPECT_TRUE(Has(Send("10 LOGIN alice"), "10 BAD"));
  EXPECT_TRUE(Has(Send("11 LOGIN \"alice@penncloud.local\" \"secret\""), "11 OK [CAPABILITY"));
  caps = Send("12 CAPABILITY");
  EXPECT_TRUE(Has(caps, "UIDPLUS") && Has(caps, "MOVE") && Has(caps, "CONDSTORE"));
}

TEST_F(ImapSessionTest, AuthenticatePlainAndLogin) {
  session_->OnTlsStarted();
  // SASL-IR: the initial response on the command line.
  EXPECT_TRUE(Has(Send("1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA=="), "1 OK"));
  auto second = NewSession();
  second->OnTlsStarted();
  EXPECT_EQ(Send("1 AUTHENTICATE PLAIN", second.get()), "+ \r\n");
  EXPECT_TRUE(Has(Send("AGFsaWNlAHdyb25n", second.get()), "1 NO [AUTHENTICATIONFAILED]"));
  EXPECT_EQ(Send("2 AUTHENTICATE LOGIN", second.get()), "+ VXNlcm5hbWU6\r\n");
  EXPECT_EQ(Send("YWxpY2U=", second.get()), "+ UGFzc3dvcmQ6\r\n");
  EXPECT_TRUE(Has(Send("c2VjcmV0", second.get()), "2 OK"));
  auto third = NewSession();
  third->OnTlsStarted();
  Send("1 AUTHENTICATE PLAIN", third.get());
  EXPECT_TRUE(Has(Send("*", third.get()), "1 BAD Authentication cancelled"));
  Send("2 AUTHENTICATE PLAIN", third.get());
  EXPECT_TRUE(Has(Send("!!!", third.get()), "2 BAD"));
  EXPECT_TRUE(Has(Send("3 AUTHENTICATE CRAM-MD5", third.get()), "3 NO"));
  // The authorization identity must be the user's own.
  EXPECT_TRUE(Has(Send("4 AUTHENTICATE PLAIN Ym9iAGFsaWNlAHNlY3JldA==", third.get()),
                  "4 NO [AUTHORIZATIONFAILED]"));
}

TEST_F(ImapSessionTest, AnyStateCommands) {
  EXPECT_TRUE(Has(Send("a NOOP"), "a OK NOOP"));
  EXPECT_TRUE(Has(Send("b ID (\"name\" \"test\")"), "* ID (\"name\" \"PennCloud\")"));
  EXPECT_TRUE(Has(Send("c FROB"), "c BAD"));
  EXPECT_EQ(Send(""), "* BAD Missing or invalid tag\r\n");
  EXPECT_TRUE(Has(Send("d"), "d BAD Missing command"));
  session_->OnTlsStarted();
  Send("e LOGIN alice secret");
  EXPECT_TRUE(Has(Send("f ENABLE CONDSTORE IMAP4rev2 XYZ"), "* ENABLED CONDSTORE IMAP4rev2\r\n"));
  EXPECT_TRUE(Has(Send("g NAMESPACE"), "* NAMESPACE ((\"\" \"/\")) NIL NIL"));
  EXPECT_TRUE(Has(Send("h FETCH 1 FLAGS"), "h BAD No mailbox selected"));
  SessionOutput bye = session_->OnLine("i LOGOUT");
  EXPECT_TRUE(Has(bye.text, "* BYE"));
  EXPECT_TRUE(Has(bye.text, "i OK LOGOUT"));
  EXPECT_TRUE(bye.close);
}

TEST_F(ImapSessionTest, FoldersListCreateRenameDeleteSubscribe) {
  session_->OnTlsStarted();
  Send("a LOGIN alice secret");
  std::string list = Send("b LIST \"\" *");
  for (const char* line : {"* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
                           "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"",
                           "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
                           "* LIST (\\HasNoChildren \\Trash) \"/\" \"Trash\"",
                           "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk\""}) {
    EXPECT_TRUE(Has(list, line)) << line << "\n" << list;
  }
  EXPECT_TRUE(Has(Send("c LIST \"\" \"\""), "* LIST (\\Noselect) \"/\" \"\""));
  EXPECT_TRUE(Has(Send("d CREATE Work/2026"), "d OK"));  // the parent comes too
  EXPECT_TRUE(Has(Send("e CREATE Work"), "e NO [ALREADYEXISTS]"));
  EXPECT_TRUE(Has(Send("f CREATE INBOX"), "f NO [ALREADYEXISTS]"));
  EXPECT_TRUE(Has(Send("g CREATE \"a//b\""), "g NO [CANNOT]"));
  EXPECT_TRUE(Has(Send("g2 CREATE \"bad\xff\xfe\""), "g2 NO [CANNOT]"));
  EXPECT_TRUE(Has(Send("g3 CREATE \"Caf\xc3\xa9\""), "g3 OK"));  // UTF-8 is fine
  list = Send("h LIST \"\" %");
  EXPECT_TRUE(Has(list, "* LIST (\\HasChildren) \"/\" \"Work\""));
  EXPECT_FALSE(Has(list, "Work/2026"));
  EXPECT_TRUE(Has(Send("i LIST Work/ %"), "\"Work/2026\""));
  EXPECT_TRUE(Has(Send("j LIST (SPECIAL-USE) \"\" *"), "\\Trash"));
  EXPECT_FALSE(Has(Send("k LIST (SPECIAL-USE) \"\" *"), "Work"));
  std::string status = Send("l LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))");
  EXPECT_TRUE(Has(status, "* STATUS \"INBOX\" (MESSAGES 0 UNSEEN 0)")) << status;
  EXPECT_TRUE(Has(Send("m DELETE Work"), "m NO [INUSE]"));
  EXPECT_TRUE(Has(Send("n RENAME Work Jobs"), "n OK"));
  EXPECT_TRUE(Has(Send("o LIST \"\" *"), "\"Jobs/2026\""));
  EXPECT_TRUE(Has(Send("p RENAME INBOX Old"), "p NO [CANNOT]"));
  EXPECT_TRUE(Has(Send("q RENAME Nope Other"), "q NO [NONEXISTENT]"));
  EXPECT_TRUE(Has(Send("r UNSUBSCRIBE Jobs"), "r OK"));
  std::string lsub = Send("s LSUB \"\" *");
  EXPECT_FALSE(Has(lsub, "\"Jobs\"\r\n"));
  EXPECT_TRUE(Has(lsub, "\"Jobs/2026\""));
  EXPECT_TRUE(Has(Send("t LIST (SUBSCRIBED) \"\" Jobs/*"), "\\Subscribed"));
  EXPECT_TRUE(Has(Send("u DELETE Jobs/2026"), "u OK"));
  EXPECT_TRUE(Has(Send("v DELETE Trash"), "v NO [CANNOT]"));
  EXPECT_TRUE(Has(Send("w DELETE Jobs/2026"), "w NO [NONEXISTENT]"));
  EXPECT_TRUE(Has(Send("x SELECT Nope"), "x NO [NONEXISTENT]"));
  EXPECT_TRUE(Has(Send("y STATUS Nope (MESSAGES)"), "y NO [NONEXISTENT]"));
  EXPECT_TRUE(Has(Send("z STATUS INBOX (FROGS)"), "z BAD"));
  EXPECT_TRUE(Has(Send("z2 LIST"), "z2 BAD"));
}

TEST_F(ImapSessionTest, SelectAndFetch) {
  Add("first");
  Add("second", "line one\r\nline two");
  session_->OnTlsStarted();
  Send("a LOGIN alice secret");
  std::string select = Send("b SELECT inbox");
  EXPECT_TRUE(Has(select, "* 2 EXISTS\r\n"));
  EXPECT_TRUE(Has(select, "* OK [UNSEEN 1]"));
  EXPECT_TRUE(Has(select, "* OK [UIDNEXT 3]"));
  EXPECT_TRUE(Has(select, "* OK [UIDVALIDITY "));
  EXPECT_TRUE(Has(select, "PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)"));
  std::string fetch = Send("c FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)");
  EXPECT_TRUE(
      Has(fetch, Cat("* 1 FETCH (UID 1 RFC822.SIZE ", Message("first").size(), " INTERNALDATE \"")))
      << fetch;
  EXPECT_TRUE(Has(fetch, "* 2 FETCH (UID 2"));
  EXPECT_TRUE(Has(fetch, "FLAGS ()"));
  std::string envelope = Send("d FETCH 1 ENVELOPE");
  EXPECT_TRUE(Has(envelope,
                  "\"Tue, 24 Nov 2026 10:00:00 +0000\" \"first\" "
                  "((\"Bob Smith\" NIL \"bob\" \"example.com\"))"))
      << envelope;
  EXPECT_TRUE(Has(envelope, "\"<m1@example.com>\")"));
  std::string structure = Send("e FETCH 2 BODYSTRUCTURE");
  EXPECT_TRUE(Has(structure, "(\"text\" \"plain\"")) << structure;
  std::string header = Send("f FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
  EXPECT_TRUE(Has(header, "BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: first\r\n\r\n"))
      << header;
  EXPECT_FALSE(Has(header, "\\Seen"));
  std::string partial = Send("g FETCH 2 BODY[TEXT]<5.3>");
  EXPECT_TRUE(Has(partial, "BODY[TEXT]<5> {3}\r\none FLAGS (\\Seen))")) << partial;
  std::string whole = Send("h FETCH 1 BODY[]");
  EXPECT_TRUE(Has(whole, Message("first"))) << whole;
  std::string part = Send("i FETCH 1 BODY[1]");
  EXPECT_TRUE(Has(part, "BODY[1] {13}\r\nhello world\r\n")) << part;
  EXPECT_TRUE(Has(Send("j FETCH 1 BODY[3]"), "BODY[3] NIL"));
  std::string uid = Send("k UID FETCH 2 FLAGS");
  EXPECT_TRUE(Has(uid, "* 2 FETCH (UID 2 FLAGS (\\Seen))")) << uid;
  EXPECT_TRUE(Has(Send("l FETCH 1 (FAST)"), "RFC822.SIZE"));
  EXPECT_TRUE(Has(Send("m FETCH 1 MODSEQ"), "MODSEQ ("));
  EXPECT_EQ(Send("n FETCH 9 FLAGS"), "n OK FETCH completed\r\n");
  EXPECT_TRUE(Has(Send("o FETCH 1 FROGS"), "o BAD"));
  EXPECT_TRUE(Has(Send("p FETCH 0 FLAGS"), "p BAD"));
  EXPECT_TRUE(Has(Send("q FETCH 1 BODY[HEADER.FIELDS SUBJECT]"), "q BAD"));
  EXPECT_TRUE(Has(Send("r FETCH 1 BODY[TEXT"), "r BAD"));
  EXPECT_TRUE(Has(Send("s FETCH 1 BODY[]<1>"), "s BAD"));
  std::string examine = Send("t EXAMINE INBOX");
  EXPECT_TRUE(Has(examine, "t OK [READ-ONLY]"));
  EXPECT_TRUE(Has(Send("u STORE 1 +FLAGS (\\Flagged)"), "u NO [READ-ONLY]"));
  EXPECT_TRUE(Has(Send("v UNSELECT"), "v OK"));
  EXPECT_TRUE(Has(Send("w FETCH 1 FLAGS"), "w BAD No mailbox selected"));
}

TEST_F(ImapSessionTest, MultipartStructureAndParts) {
  std::string source =
      "From: bob@example.com\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
      "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
      "--XX\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
      "Content-Disposition: attachment; filename=\"r.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n";
  ASSERT_TRUE(store_.Add("alice", kInbox, source, false).ok());
  LoginAndSelect();
  std::string structure = Send("c FETCH 1 BODYSTRUCTURE");
  EXPECT_TRUE(Has(structure, "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" "))
      << structure;
  EXPECT_TRUE(Has(structure, "(\"application\" \"pdf\" (\"name\" \"r.pdf\") NIL NIL \"base64\" "))
      << structure;
  EXPECT_TRUE(Has(structure, "(\"attachment\" (\"filename\" \"r.pdf\"))")) << structure;
  EXPECT_TRUE(Has(structure, " \"mixed\" (\"boundary\" \"XX\")")) << structure;
  std::string body = Send("d FETCH 1 BODY");  // the non-extensible form
  EXPECT_FALSE(Has(body, "attachment")) << body;
  std::string part = Send("e FETCH 1 BODY.PEEK[2]");
  EXPECT_TRUE(Has(part, "BODY[2] {12}\r\nJVBERi0xLjQK)")) << part;
  std::string mime = Send("f FETCH 1 BODY.PEEK[2.MIME]");
  EXPECT_TRUE(Has(mime, "Content-Transfer-Encoding: base64")) << mime;
  EXPECT_TRUE(Has(Send("g FETCH 1 BODY.PEEK[1]"), "see attached"));
  EXPECT_TRUE(Has(Send("h FETCH 1 BODY.PEEK[3]"), "BODY[3] NIL"));
  EXPECT_TRUE(Has(Send("i FETCH 1 BODY.PEEK[1.HEADER]"), "BODY[1.HEADER] NIL"));
}

TEST_F(ImapSessionTest, StoreFlagsAndKeywords) {
  Add("one");
  Add("two");
  LoginAndSelect();
  EXPECT_TRUE(
      Has(Send("c STORE 1 +FLAGS (\\Flagged $Work)"), "* 1 FETCH (FLAGS (\\Flagged $Work))"));
  EXPECT_EQ(Send("d STORE 1 -FLAGS.SILENT ($Work)"), "d OK STORE completed\r\n");
  EXPECT_TRUE(Has(Send("e UID STORE 1:2 FLAGS (\\Seen \\Answered)"),
                  "* 2 FETCH (UID 2 FLAGS (\\Answered \\Seen))"));
  auto all = store_.Mailbox("alice", kInbox);
  EXPECT_TRUE((*all)[0].seen() && (*all)[0].answered() && !(*all)[0].flagged());
  EXPECT_TRUE(Has(Send("f STORE 1 +FLAGS (\\Bogus)"), "f BAD Unknown flag"));
  // Keywords are 7-bit atoms: an 8-bit byte would make the entry's protobuf unreadable.
  EXPECT_TRUE(Has(Send("f2 STORE 1 +FLAGS (caf\xc3\xa9)"), "f2 BAD"));
  EXPECT_TRUE(store_.Mailbox("alice", kInbox).ok());
  EXPECT_TRUE(Has(Send("g STORE 1 FLAGZ (\\Seen)"), "g BAD"));
  EXPECT_TRUE(Has(Send("h STORE 1 +FLAGS (\\Seen"), "h BAD"));
  // CONDSTORE: a message changed since the given number is not touched.
  std::string modseq = Send("i FETCH 1 MODSEQ");
  uint64_t current = (*store_.Mailbox("alice", kInbox))[0].modseq();
  EXPECT_TRUE(Has(Send(Cat("j STORE 1:2 (UNCHANGEDSINCE ", current, ") +FLAGS (\\Draft)")),
                  "j OK [MODIFIED 2]"));
  EXPECT_TRUE((*store_.Mailbox("alice", kInbox))[0].draft());
  EXPECT_FALSE((*store_.Mailbox("alice", kInbox))[1].draft());
}

TEST_F(ImapSessionTest, CopyMoveAndExpunge) {
  for (const char* s : {"a", "b", "c", "d"}) Add(s);
  LoginAndSelect();
  EXPECT_TRUE(Has(Send("c CREATE Archive"), "c OK"));
  std::string copy = Send("d COPY 1:2 Archive");
  EXPECT_TRUE(Has(copy, "d OK [COPYUID ")) << copy;
  EXPECT_TRUE(Has(copy, " 1:2") || Has(copy, " 1,2 1,2]")) << copy;
  EXPECT_TRUE(Has(Send("e COPY 1 Nope"), "e NO [TRYCREATE]"));
  std::string move = Send("f UID MOVE 3 Archive");
  EXPECT_TRUE(Has(move, "* OK [COPYUID ")) << move;
  EXPECT_TRUE(Has(move, " 3 3] ")) << move;
  EXPECT_TRUE(Has(move, "* 3 EXPUNGE\r\nf OK")) << move;
  EXPECT_EQ(store_.ListAll("alice", "Archive")->size(), 3u);
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 3u);
  Send("g STORE 1,3 +FLAGS.SILENT (\\Deleted)");
  std::string expunge = Send("h EXPUNGE");
  EXPECT_TRUE(Has(expunge, "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\nh OK")) << expunge;
  EXPECT_EQ(store_.ListAll("alice", kInbox)->size(), 1u);
  // UID EXPUNGE removes only the named deleted messages.
  Add("e");
  Add("f");
  Send("i NOOP");
  Send("j STORE 1:* +FLAGS.SILENT (\\Deleted)");
  std::string uid_expunge = Send("k UID EXPUNGE 5");
  EXPECT_TRUE(Has(uid_expunge, "* 2 EXPUNGE\r\nk OK")) << uid_expunge;
  EXPECT_TRUE(Has(Send("l CLOSE"), "l OK CLOSE"));  // removes the other deleted ones silently
  EXPECT_TRUE(store_.ListAll("alice", kInbox)->empty());
  EXPECT_TRUE(Has(Send("m UID EXPUNGE"), "m BAD"));
}

TEST_F(ImapSessionTest, Search) {
  Add("lunch plans", "see you at noon");
  Add("meeting", "agenda attached");
  Add("LUNCH again", "pizza");
  // Hits of the index in another folder neither show nor count towards the limit below.
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(store_.Add("alice", kSent, Message("pizza", "pizza"), false).ok());
  LoginAndSelect();
  Send("c STORE 2 +FLAGS (\\Seen)");
  EXPECT_TRUE(Has(Send("d SEARCH UNSEEN"), "* SEARCH 1 3\r\n"));
  EXPECT_TRUE(Has(Send("e SEARCH SUBJECT lunch"), "* SEARCH 1 3\r\n"));
  EXPECT_TRUE(Has(Send("f SEARCH BODY pizza"), "* SEARCH 3\r\n"));
  EXPECT_TRUE(Has(Send("g SEARCH OR SEEN BODY noon"), "* SEARCH 1 2\r\n"));
  EXPECT_TRUE(Has(Send("h SEARCH NOT (FROM bob)"), "* SEARCH\r\n"));
  EXPECT_TRUE(Has(Send("i UID SEARCH UID 2:*"), "* SEARCH 2 3\r\n"));
  EXPECT_TRUE(Has(Send("j SEARCH 2:3 LARGER 10"), "* SEARCH 2 3\r\n"));
  EXPECT_TRUE(Has(Send("k SEARCH HEADER Message-ID m1"), "* SEARCH 1 2 3\r\n"));
  EXPECT_TRUE(Has(Send("l SEARCH TEXT agenda"), "* SEARCH 2\r\n"));
  EXPECT_TRUE(Has(Send("m SEARCH SENTON 24-Nov-2026"), "* SEARCH 1 2 3\r\n"));
  EXPECT_TRUE(Has(Send("n SEARCH SINCE 1-Jan-2020 BEFORE 1-Jan-2100"), "* SEARCH 1 2 3\r\n"));
  EXPECT_TRUE(Has(Send("o SEARCH CHARSET UTF-8 ALL"), "* SEARCH 1 2 3\r\n"));
  EXPECT_TRUE(Has(Send("p SEARCH CHARSET KOI8-R ALL"), "p NO [BADCHARSET"));
  EXPECT_TRUE(Has(Send("q SEARCH RETURN (MIN MAX COUNT) UNSEEN"),
                  "* ESEARCH (TAG \"q\") MIN 1 MAX 3 COUNT 2\r\n"));
  EXPECT_TRUE(Has(Send("r SEARCH FROGS"), "r BAD"));
  EXPECT_TRUE(Has(Send("s SEARCH SINCE 2020-01-01"), "s BAD"));
  std::string deep = "t SEARCH " + std::string(40, '(') + "ALL" + std::string(40, ')');
  EXPECT_TRUE(Has(Send(deep), "t BAD"));
  config_.max_search_bodies = 2;
  // Past the limit the full-text index narrows TEXT and BODY to the messages with their words.
  EXPECT_TRUE(Has(Send("u SEARCH BODY pizza"), "* SEARCH 3\r\n"));
  EXPECT_TRUE(Has(Send("u2 SEARCH TEXT lunch"), "* SEARCH 1 3\r\n"));
  EXPECT_TRUE(Has(Send("u3 SEARCH BODY x"), "* SEARCH\r\n"));
  EXPECT_TRUE(Has(Send("u4 SEARCH HEADER Message-ID m1"), "u4 NO [LIMIT]"));
  EXPECT_TRUE(Has(Send("u5 SEARCH OR BODY pizza BODY noon"), "u5 NO [LIMIT]"));
  EXPECT_TRUE(Has(Send("v SEARCH SUBJECT lunch"), "* SEARCH 1 3"));  // the index suffices
}

TEST_F(ImapSessionTest, SearchOverManyBatchesOfSources) {
  // Sources are read a batch at a time; every batch's hits, and only they, are answered,
  // whether the folder is scanned or narrowed by the index first.
  std::string want = "* SEARCH";
  for (int i = 1; i <= 150; ++i) {
    Add(Cat("note ", i), i % 7 == 0 ? "the needle is here" : "only hay");
    if (i % 7 == 0) want += Cat(" ", i);
  }
  want += "\r\n";
  LoginAndSelect();
  EXPECT_TRUE(Has(Send("a SEARCH BODY needle"), want));
  EXPECT_TRUE(Has(Send("b SEARCH TEXT NEEDLE"), want));  // ASCII case folded
  config_.max_search_bodies = 100;
  EXPECT_TRUE(Has(Send("c SEARCH TEXT needle"), want));
  EXPECT_TRUE(Has(Send("d SEARCH BODY hay"), "d NO [LIMIT]"));  // 129 messages to read
}

TEST_F(ImapSessionTest, FetchOverManyBatchesOfSources) {
  // Sources are read a batch at a time; each message's answer is built from its own.
  for (int i = 1; i <= 150; ++i) Add(Cat("note ", i), Cat("body of ", i));
  LoginAndSelect();
  std::string envelopes = Send("c UID FETCH 1:* (FLAGS ENVELOPE)");
  std::string bodies = Send("d FETCH 60:140 BODY.PEEK[TEXT]");
  for (int i = 1; i <= 150; ++i) {
    EXPECT_TRUE(Has(envelopes, Cat("* ", i, " FETCH (UID ", i,
                                   " ENVELOPE (\"Tue, 24 Nov 2026 "
                                   "10:00:00 +0000\" \"note ",
                                   i, "\"")))
        << i;
    const std::string body = Cat("* ", i, " FETCH (BODY[TEXT] {", Cat("body of ", i).size() + 2,
                                 "}\r\nbody of ", i, "\r\n)");
    EXPECT_EQ(Has(bodies, body), i >= 60 && i <= 140) << i;
  }
  EXPECT_TRUE(Has(bodies, "d OK"));
}

TEST_F(ImapSessionTest, AppendWithLiterals) {
  session_->OnTlsStarted();
  Send("a LOGIN alice secret");
  std::string message = Message("sent from thunderbird");
  SessionOutput go = session_->OnLine(
      Cat("b APPEND Sent (\\Seen) \"24-Nov-2026 10:00:00 +0000\" {", message.size(), "}"));
  EXPECT_EQ(go.text, "+ Ready for literal data\r\n");
  EXPECT_EQ(session_->LiteralWanted(), message.size());
  session_->OnLiteral(message.substr(0, 10));
  EXPECT_EQ(session_->LiteralWanted(), message.size() - 10);
  session_->OnLiteral(message.substr(10));
  std::string done = Send("");
  EXPECT_TRUE(Has(done, "b OK [APPENDUID ")) << done;
  EXPECT_TRUE(Has(done, " 1] APPEND completed"));
  auto sent = store_.Mailbox("alice", kSent);
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_TRUE((*sent)[0].seen());
  EXPECT_EQ((*sent)[0].subject(), "sent from thunderbird");
  EXPECT_EQ(ImapDate((*sent)[0].received_micros()), "24-Nov-2026 10:00:00 +0000");
  EXPECT_EQ(*store_.Source("alice", (*sent)[0]), message);
  // LITERAL+: no go-ahead, the bytes follow at once.
  EXPECT_EQ(session_->OnLine(Cat("c APPEND Drafts (\\Draft) {", message.size(), "+}")).text, "");
  session_->OnLiteral(message);
  EXPECT_TRUE(Has(Send(""), "c OK [APPENDUID"));
  EXPECT_TRUE((*store_.Mailbox("alice", kDrafts))[0].draft());
  // Literals in other arguments too: LOGIN-style strings and mailbox names.
  EXPECT_EQ(Send("d CREATE {4}"), "+ Ready for literal data\r\n");
  session_->OnLiteral("Lits");
  EXPECT_TRUE(Has(Send(""), "d OK"));
  EXPECT_TRUE(store_.FolderExists("alice", "Lits"));
  EXPECT_TRUE(Has(Send("e APPEND Nope {1+}"), ""));
  session_->OnLiteral("x");
  EXPECT_TRUE(Has(Send(""), "e NO [TRYCREATE]"));
  EXPECT_TRUE(Has(Send("f APPEND Sent \"not a date\" {1+}"), ""));
  session_->OnLiteral("x");
  EXPECT_TRUE(Has(Send(""), "f BAD"));
  EXPECT_TRUE(Has(Send("g APPEND Sent"), "g BAD"));
}

TEST_F(ImapSessionTest, LiteralLimitsAreEnforcedBeforeReading) {
  config_.max_literal_bytes = 100;
  session_->OnTlsStarted();
  Send("a LOGIN alice secret");
  // Synchronizing: refused instead of the go-ahead; the client sends nothing more.
  SessionOutput refused = session_->OnLine("b APPEND INBOX {101}");
  EXPECT_EQ(refused.text, "b NO [TOOBIG] Literals are limited to 100 bytes\r\n");
  EXPECT_FALSE(refused.close);
  EXPECT_EQ(session_->LiteralWanted(), 0u);
  EXPECT_TRUE(Has(Send("c NOOP"), "c OK"));  // the session goes on
  // Non-synchronizing: its bytes are on the way, so the connection ends.
  SessionOutput bye = session_->OnLine("d APPEND INBOX {99999999999+}");
  EXPECT_TRUE(Has(bye.text, "* BYE [TOOBIG]"));
  EXPECT_TRUE(bye.close);
  EXPECT_EQ(session_->LiteralWanted(), 0u);
  // Too many literals in one command.
  auto many = NewSession();
  many->OnTlsStarted();
  Send("a LOGIN alice secret", many.get());
  std::string out;
  for (int i = 0; i < 17; ++i) {
    out = Send(i == 0 ? "x LIST {1}" : " {1}", many.get());
    if (!Has(out, "+ Ready")) break;
    many->OnLiteral("a");
  }
  EXPECT_TRUE(Has(out, "x NO [TOOBIG]")) << out;
  EXPECT_TRUE(Has(session_->OnLineTooLong().text, "* BAD [TOOBIG]"));
}

TEST_F(ImapSessionTest, SequenceSetsAreBounded) {
  Add("a");
  LoginAndSelect();
  std::string set;
  for (int i = 1; i <= 1001; ++i) set += Cat(i > 1 ? "," : "", i);
  EXPECT_TRUE(Has(Send(Cat("c FETCH ", set, " FLAGS")), "c BAD"));
  EXPECT_TRUE(Has(Send("d FETCH 1:99999999999 FLAGS"), "d BAD"));
  EXPECT_TRUE(Has(Send("e FETCH 1,,2 FLAGS"), "e BAD"));
  EXPECT_TRUE(Has(Send("f FETCH * FLAGS"), "* 1 FETCH"));
  EXPECT_TRUE(Has(Send("g FETCH 5:* UID"), "* 1 FETCH"));  // 5:* is 1:5 with one message
}

TEST_F(ImapSessionTest, TwoSessionsSeeEachOthersChanges) {
  Add("shared");
  Add("doomed");
  LoginAndSelect();
  auto other = NewSession();
  LoginAndSelect(other.get());
  Send("c STORE 1 +FLAGS (\\Flagged)", other.get());
  std::string news = Send("c NOOP");
  EXPECT_TRUE(Has(news, "* 1 FETCH (UID 1 FLAGS (\\Flagged))")) << news;
  EXPECT_EQ(Send("d NOOP"), "d OK NOOP completed\r\n");  // told once
  Send("e STORE 2 +FLAGS.SILENT (\\Deleted)", other.get());
  Send("f EXPUNGE", other.get());
  Add("new");
  news = Send("g NOOP");
  EXPECT_TRUE(Has(news, "* 2 EXPUNGE\r\n")) << news;
  EXPECT_TRUE(Has(news, "* 2 EXISTS\r\n")) << news;
}

TEST_F(ImapSessionTest, IdleReportsNewMail) {
  LoginAndSelect();
  EXPECT_EQ(Send("c IDLE"), "+ idling\r\n");
  EXPECT_TRUE(session_->Idling());
  EXPECT_EQ(session_->OnPoll().text, "");
  Add("pushed");
  EXPECT_EQ(session_->OnPoll().text, "* 1 EXISTS\r\n");
  EXPECT_EQ(session_->OnPoll().text, "");
  EXPECT_EQ(Send("DONE"), "c OK IDLE terminated\r\n");
  EXPECT_FALSE(session_->Idling());
  Send("d IDLE");
  EXPECT_EQ(Send("NOOP"), "d BAD Expected DONE\r\n");
  EXPECT_TRUE(Has(Send("e IDLE now"), "e BAD"));
}

// What a writer slow to write its entry leaves for a while: the Inbox's counters advanced
// for a new message (UID and change number taken) whose entry is not there yet. Returns
// that entry (a copy of message `like`'s listing), for WriteEntry to land later.
pb::MessageMeta TakeNumbersOnly(kvs::MemoryClient& kvs, MailStore& store, const std::string& like) {
  auto state = store.State("alice", kInbox);
  EXPECT_TRUE(state.ok());
  pb::FolderState next = *state;
  next.set_uid_next(state->uid_next() + 1);
  next.set_highest_modseq(state->highest_modseq() + 1);
  EXPECT_TRUE(kvs.Put(MailboxRow("alice"), "box/inbox", next.SerializeAsString()).ok());
  pb::MessageMeta entry = *store.Entry("alice", kInbox, like);
  entry.set_id(std::string(31, '0') + "1");
  entry.set_uid(state->uid_next());
  entry.set_modseq(next.highest_modseq());
  return entry;
}

void WriteEntry(kvs::MemoryClient& kvs, const pb::MessageMeta& entry) {
  EXPECT_TRUE(
      kvs.Put(MailboxRow("alice"), MessageColumn(kInbox, entry.id()), entry.SerializeAsString())
          .ok());
}

TEST_F(ImapSessionTest, IdleAsksForRechecksUntilAPendingEntryShows) {
  const std::string first = Add("first");
  LoginAndSelect();
  EXPECT_EQ(Send("c IDLE"), "+ idling\r\n");
  EXPECT_EQ(session_->RecheckAfter(), std::nullopt);  // nothing awaited

  pb::MessageMeta pending = TakeNumbersOnly(kvs_, store_, first);
  EXPECT_EQ(session_->OnPoll().text, "");  // the wake of the change number: no entry yet
  auto after = session_->RecheckAfter();
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after, std::chrono::milliseconds(250));
  EXPECT_LT(*after, std::chrono::seconds(15));
  EXPECT_EQ(session_->OnPoll().text, "");  // still not there: still awaited
  EXPECT_TRUE(session_->RecheckAfter().has_value());

  WriteEntry(kvs_, pending);  // the counters do not move again: only a recheck finds it
  EXPECT_EQ(session_->OnPoll().text, "* 2 EXISTS\r\n");
  EXPECT_EQ(session_->RecheckAfter(), std::nullopt);
  EXPECT_EQ(session_->OnPoll().text, "");
  EXPECT_EQ(Send("DONE"), "c OK IDLE terminated\r\n");
}

TEST_F(ImapSessionTest, ASelectDuringAPendingWriteListsAgainUntilTheEntryShows) {
  const std::string first = Add("first");
  pb::MessageMeta pending = TakeNumbersOnly(kvs_, store_, first);
  LoginAndSelect();  // the counters say UID 2 is taken, the listing has UID 1 only
  EXPECT_EQ(Send("c NOOP"), "c OK NOOP completed\r\n");
  WriteEntry(kvs_, pending);
  EXPECT_EQ(Send("d NOOP"), "* 2 EXISTS\r\nd OK NOOP completed\r\n");
  EXPECT_EQ(Send("e NOOP"), "e OK NOOP completed\r\n");
}

}  // namespace
}  // namespace penncloud::mail
