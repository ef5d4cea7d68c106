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
  std::string source = BuildMessage(d, "penncloud.local");
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

TEST(Mime, ToCrlfNormalisesLineEnds) { EXPECT_EQ(ToCrlf("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd"); }

}  // namespace
}  // namespace penncloud::mail
