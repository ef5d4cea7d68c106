#include "mail/mime.h"

#include "gtest/gtest.h"

namespace penncloud::mail {
namespace {

TEST(Mime, ParsesMultipartWithHtmlAndAttachment) {
  std::string source =
      "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.com>\r\n"
      "To: alice@penncloud.local, bob@penncloud.local\r\n"
      "Subject: =?UTF-8?B?SMOpbGxv?=\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
      "--XX\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n"
      "--YY\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"
      "--YY\r\nContent-Type: text/html\r\n\r\n<p>caf&eacute;</p>\r\n--YY--\r\n"
      "--XX\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--XX--\r\n";
  ParsedMessage m = ParseMessage(source);
  EXPECT_EQ(m.subject, "H\xc3\xa9llo");
  EXPECT_NE(m.from.find("zoe@example.com"), std::string::npos);
  EXPECT_NE(m.to.find("bob@penncloud.local"), std::string::npos);
  EXPECT_EQ(m.text, "caf\xc3\xa9");
  EXPECT_NE(m.html.find("<p>caf&eacute;</p>"), std::string::npos);
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].filename, "a.bin");
  EXPECT_EQ(m.attachments[0].data, std::string("\x00\x01\x02\x03", 4));
}

TEST(Mime, BuildThenParseRoundTrip) {
  Draft d;
  d.from = "alice@penncloud.local";
  d.to = {"bob@penncloud.local", "carol@example.com"};
  d.cc = {"dave@penncloud.local"};
  d.subject = "Caf\xc3\xa9 plans";
  d.text = "Line one\nLine two \xe2\x82\xac\n.\n";
  d.in_reply_to = "<orig@penncloud.local>";
  d.attachments.push_back(
      {"r\xc3\xa9sum\xc3\xa9.bin", "application/octet-stream", std::string("\x00\xff\r\n.", 5)});
  std::string source = BuildMessage(d, "penncloud.local").value();
  // Every line ends in CRLF and none is over the RFC 5322 limit.
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\n') {
      ASSERT_TRUE(i > 0 && source[i - 1] == '\r');
    }
  }
  EXPECT_NE(source.find("Message-Id: <"), std::string::npos);
  EXPECT_NE(source.find("In-Reply-To: <orig@penncloud.local>"), std::string::npos);
  ParsedMessage m = ParseMessage(source);
  EXPECT_EQ(m.subject, d.subject);
  EXPECT_NE(m.to.find("carol@example.com"), std::string::npos);
  EXPECT_NE(m.cc.find("dave@penncloud.local"), std::string::npos);
  EXPECT_NE(m.text.find("Line two \xe2\x82\xac"), std::string::npos);
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].filename, d.attachments[0].filename);
  EXPECT_EQ(m.attachments[0].data, d.attachments[0].data);
}

Draft Simple() {
  Draft d;
  d.from = "alice@penncloud.local";
  d.to = {"bob@penncloud.local"};
  d.subject = "hi";
  d.text = "body";
  return d;
}

// Issue 16: CR or LF in a field that becomes a header started a header line of its own.
TEST(Mime, HeaderFieldsWithLineBreaksAreRefused) {
  const std::string kInjections[] = {"x\r\nBcc: victim@example.com", "x\nBcc: v@e.com",
                                     "x\rBcc: v@e.com", std::string("x\0y", 3)};
  for (const std::string& bad : kInjections) {
    Draft d = Simple();
    d.subject = bad;
    EXPECT_TRUE(absl::IsInvalidArgument(BuildMessage(d, "penncloud.local").status()));
    d = Simple();
    d.attachments.push_back({bad, "text/plain", "data"});
    EXPECT_TRUE(absl::IsInvalidArgument(BuildMessage(d, "penncloud.local").status()));
    d = Simple();
    d.attachments.push_back({"a.txt", "text/plain" + bad, "data"});
    EXPECT_TRUE(absl::IsInvalidArgument(BuildMessage(d, "penncloud.local").status()));
    d = Simple();
    d.to.push_back("carol@example.com" + bad);
    EXPECT_TRUE(absl::IsInvalidArgument(BuildMessage(d, "penncloud.local").status()));
    d = Simple();
    d.references = "<a@b>" + bad;
    EXPECT_TRUE(absl::IsInvalidArgument(BuildMessage(d, "penncloud.local").status()));
  }
  for (const char* type : {"text/plain; name=x", "text", "/plain", "te xt/plain", "a/b/c"}) {
    Draft d = Simple();
    d.attachments.push_back({"a.txt", type, "data"});
    EXPECT_TRUE(absl::IsInvalidArgument(BuildMessage(d, "penncloud.local").status())) << type;
  }
  Draft d = Simple();
  d.to = {"Bob <bob@penncloud.local>, eve@example.com"};  // one field, two addresses
  EXPECT_TRUE(absl::IsInvalidArgument(BuildMessage(d, "penncloud.local").status()));
}

TEST(Mime, AttachmentNamesAreRfc2231Parameters) {
  Draft d = Simple();
  std::string names[] = {"na\xc3\xafve r\xc3\xa9sum\xc3\xa9.pdf", "quote\"semi;colon=.txt",
                         std::string(120, 'x') + ".txt"};
  for (const std::string& name : names) d.attachments.push_back({name, "application/pdf", "%PDF"});
  std::string source = BuildMessage(d, "penncloud.local").value();
  // GMime picks the smallest charset that holds the name (here Latin-1), percent-encoded.
  EXPECT_NE(source.find("filename*=iso-8859-1''na%EFve%20r%E9sum%E9.pdf"), std::string::npos)
      << source;
  EXPECT_NE(source.find("filename=\"quote\\\"semi;colon=.txt\""), std::string::npos);
  EXPECT_NE(source.find("filename*0*="), std::string::npos);  // a long name is continued
  EXPECT_EQ(source.find("=?utf-8?"), std::string::npos);      // no RFC 2047 words in parameters
  ParsedMessage m = ParseMessage(source);
  ASSERT_EQ(m.attachments.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(m.attachments[i].filename, names[i]);
  std::string_view headers(source.data(), source.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("Bcc"), std::string::npos);
}

TEST(Mime, ForwardableCleansSomeoneElsesAttachment) {
  Attachment a = Forwardable({"evil\r\nBcc: x@y.z.txt", "text/plain\r\nBcc: x@y.z", "data"});
  EXPECT_EQ(a.filename, "evil__Bcc: x@y.z.txt");
  EXPECT_EQ(a.content_type, "application/octet-stream");
  Draft d = Simple();
  d.attachments.push_back(a);
  EXPECT_TRUE(BuildMessage(d, "penncloud.local").ok());
}

TEST(Mime, CleanReferencesKeepsOnlyMessageIds) {
  EXPECT_EQ(CleanReferences("<a@b>  <c@d>"), "<a@b> <c@d>");
  EXPECT_EQ(CleanReferences("<a@b>\r\nBcc: x@y.z <c@d>").find('\n'), std::string::npos);
  EXPECT_EQ(CleanReferences(""), "");
}

TEST(Mime, ReadFromHeader) {
  FromHeader one =
      ReadFromHeader("From: \"A\" <a@x.y>, b@z.w\r\nSubject: s\r\n\r\nFrom: body@x.y\r\n");
  EXPECT_EQ(one.fields, 1);
  EXPECT_EQ(one.addresses, (std::vector<std::string>{"a@x.y", "b@z.w"}));
  FromHeader group = ReadFromHeader("from: team: c@x.y, d@x.y;\r\n\r\n");
  EXPECT_EQ(group.fields, 1);
  EXPECT_EQ(group.addresses, (std::vector<std::string>{"c@x.y", "d@x.y"}));
  FromHeader two = ReadFromHeader("From: a@x.y\r\nFrom: b@x.y\r\n\r\nbody");
  EXPECT_EQ(two.fields, 2);
  EXPECT_EQ(ReadFromHeader("Subject: none\r\n\r\n").fields, 0);
}

// A message with `fields` header fields in all: From, Subject, then X- fields.
std::string WithHeaderFields(size_t fields, const std::string& body = "body\r\n") {
  std::string source = "From: zoe@example.com\r\nSubject: kept\r\n";
  for (size_t i = 2; i < fields; ++i) source += "X-F" + std::to_string(i) + ": v\r\n";
  return source + "\r\n" + body;
}

// `levels` multiparts nested one in the other, the innermost holding one text part.
std::string Nested(size_t levels) {
  std::string source = "From: zoe@example.com\r\n";
  for (size_t i = 0; i < levels; ++i) {
    source += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
              std::to_string(i) + "\r\n";
  }
  source += "Content-Type: text/plain\r\n\r\ninnermost\r\n";
  for (size_t i = levels; i-- > 0;) source += "--b" + std::to_string(i) + "--\r\n";
  return source;
}

TEST(MimeLimits, HeaderFieldsAtTheLimitAreAllReadOneMoreStopsThere) {
  std::string at = WithHeaderFields(kMaxMimeHeaderFields - 1);
  at.insert(at.find("\r\n\r\n") + 2, "Cc: last@example.com\r\n");  // field number 10,000
  EXPECT_EQ(MimeParseLength(at), at.size());
  ParsedMessage whole = ParseMessage(at);
  EXPECT_EQ(whole.cc, "last@example.com");
  EXPECT_EQ(whole.text, "body\r\n");

  std::string over = at;
  over.insert(over.find("\r\n\r\n") + 2, "Cc: past@example.com\r\n");  // field 10,001
  EXPECT_EQ(MimeParseLength(over), over.find("Cc: past"));
  ParsedMessage cut = ParseMessage(over);
  EXPECT_EQ(cut.subject, "kept");  // what came before the limit is read
  EXPECT_EQ(cut.cc, "last@example.com");
  EXPECT_EQ(cut.text, "");  // the rest is not parsed (the stored source stays whole)
}

TEST(MimeLimits, HeaderFieldsOfPartsAndAttachedMessagesCountToo) {
  std::string part_fields;
  for (size_t i = 0; i < kMaxMimeHeaderFields; ++i) part_fields += "X-P: v\r\n";
  const std::string head =
      "From: a@b.c\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n";
  std::string in_part = head + "Content-Type: text/plain\r\n" + part_fields + "\r\nx\r\n--B--\r\n";
  // Fields 1-3 are From and the two Content-Types: the cut is at the 9,998th X-P of 10,000,
  // each 8 bytes long.
  EXPECT_EQ(MimeParseLength(in_part), in_part.rfind("X-P: v") - 2 * 8);
  std::string in_attached = head + "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n" +
                            part_fields + "\r\nx\r\n--B--\r\n";
  // The attached message's Subject is field 4: the cut is at the 9,997th X-P.
  EXPECT_EQ(MimeParseLength(in_attached), in_attached.rfind("X-P: v") - 3 * 8);
  // Body lines are not header fields, however they look.
  std::string body;
  for (size_t i = 0; i < 2 * kMaxMimeHeaderFields; ++i) body += "Key: value\r\n";
  std::string plain = WithHeaderFields(3, body);
  EXPECT_EQ(MimeParseLength(plain), plain.size());
  EXPECT_EQ(ParseMessage(plain).text, body);
}

TEST(MimeLimits, NestingAtTheLimitIsReadOneMoreStopsThere) {
  std::string at = Nested(kMaxMimeContainers);
  EXPECT_EQ(MimeParseLength(at), at.size());
  EXPECT_EQ(ParseMessage(at).text, "innermost");
  std::string over = Nested(kMaxMimeContainers + 1);
  EXPECT_LT(MimeParseLength(over), over.size());
  EXPECT_EQ(ParseMessage(over).text, "");
  // Far over (GMime alone took seconds per MB of this): cut at the same place.
  std::string deep = Nested(20000);
  EXPECT_EQ(MimeParseLength(deep), MimeParseLength(over));
  EXPECT_EQ(ParseMessage(deep).from, "zoe@example.com");
}

// The sender check must see every From field, even past the fields GMime is handed.
TEST(MimeLimits, ReadFromHeaderCountsFromFieldsPastTheLimit) {
  std::string source = WithHeaderFields(kMaxMimeHeaderFields + 10);
  source.insert(source.find("\r\n\r\n") + 2, "FROM :\r\n mallory@example.com\r\n");
  FromHeader from = ReadFromHeader(source);
  EXPECT_EQ(from.fields, 2);
  EXPECT_EQ(from.addresses, (std::vector<std::string>{"zoe@example.com", "mallory@example.com"}));
  FromHeader at = ReadFromHeader(WithHeaderFields(kMaxMimeHeaderFields));
  EXPECT_EQ(at.fields, 1);
}

TEST(Mime, ToCrlfNormalisesLineEnds) { EXPECT_EQ(ToCrlf("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd"); }

}  // namespace
}  // namespace penncloud::mail
