#include "mail/smtp_reply.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "mail/smtp_client.h"

namespace penncloud::mail {
namespace {

std::optional<SmtpReply> Feed(SmtpReplyParser& parser, std::initializer_list<std::string> lines) {
  std::optional<SmtpReply> reply;
  for (std::string_view line : lines) {
    EXPECT_FALSE(reply) << "a reply ended before \"" << line << "\"";
    reply = parser.AddLine(line);
  }
  return reply;
}

TEST(SmtpReplyParserTest, ASingleLineAndAMultilineReply) {
  SmtpReplyParser parser;
  auto one = Feed(parser, {"250 2.1.0 Ok"});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->code, 250);
  EXPECT_EQ(one->text, "250 2.1.0 Ok");
  auto ehlo = Feed(parser, {"250-mx.example", "250-PIPELINING", "250 STARTTLS"});
  ASSERT_TRUE(ehlo);
  EXPECT_EQ(ehlo->code, 250);
  EXPECT_EQ(ehlo->text, "250-mx.example\n250-PIPELINING\n250 STARTTLS");
  auto bare = Feed(parser, {"354"});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->code, 354);
}

TEST(SmtpReplyParserTest, WhatBreaksTheGrammarIsNoReply) {
  for (std::string_view line :
       {"", "25", "2x0 ok", "199 too low", "600 too high", "250x ok", "-250 ok", "250\t ok"}) {
    SmtpReplyParser parser;
    auto reply = parser.AddLine(line);
    ASSERT_TRUE(reply) << line;
    EXPECT_EQ(reply->code, 0) << line;
  }
  SmtpReplyParser parser;
  auto mixed = Feed(parser, {"250-first", "550 second"});
  ASSERT_TRUE(mixed);
  EXPECT_EQ(mixed->code, 0) << "a continuation under another code is not one reply";
}

TEST(SmtpReplyParserTest, ControlAndEightBitBytesNeverReachTheText) {
  SmtpReplyParser parser;
  auto reply = parser.AddLine(std::string("550 no\rsuch\x1b[31m user \xc3\xa9\x00", 25));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 550);
  EXPECT_EQ(reply->text, "550 no?such?[31m user ???");
}

TEST(SmtpReplyParserTest, LinesRepliesAndTextAreBounded) {
  {
    SmtpReplyParser parser;
    std::string at_limit = "250 " + std::string(kMaxSmtpReplyLineBytes - 4, 'a');
    auto reply = parser.AddLine(at_limit);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->code, 250);
    EXPECT_EQ(reply->text, at_limit);
    auto over = parser.AddLine(at_limit + "a");
    ASSERT_TRUE(over);
    EXPECT_EQ(over->code, 0);
    EXPECT_EQ(over->text, "reply line too long");
  }
  {
    SmtpReplyParser parser;
    const std::string line = std::string(kMaxSmtpReplyLineBytes - 4, 'a');
    EXPECT_FALSE(parser.AddLine("250-" + line));
    EXPECT_FALSE(parser.AddLine("250-" + line));
    auto reply = parser.AddLine("250 " + line);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->code, 250);
    EXPECT_EQ(reply->text.size(), kMaxSmtpReplyTextBytes) << "cut to the text limit";
    EXPECT_TRUE(reply->text.ends_with("..."));
  }
  {
    SmtpReplyParser parser;
    for (int i = 1; i < kMaxSmtpReplyLines; ++i) ASSERT_FALSE(parser.AddLine("250-x"));
    auto last = parser.AddLine("250 x");
    ASSERT_TRUE(last);
    EXPECT_EQ(last->code, 250) << "exactly the line limit";
  }
  {
    SmtpReplyParser parser;
    for (int i = 0; i < kMaxSmtpReplyLines; ++i) ASSERT_FALSE(parser.AddLine("250-x"));
    auto over = parser.AddLine("250-x");
    ASSERT_TRUE(over);
    EXPECT_EQ(over->code, 0);
    EXPECT_EQ(over->text, "reply too long");
  }
}

// A remote server that greets with one endless line: the relay gives up on it at the line
// limit, as a temporary failure, instead of buffering whatever the server sends.
TEST(SmtpClientTest, AnEndlessReplyLineIsATemporaryFailure) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  size_t sent = 0;
  std::thread server([&] {
    int peer = accept(listener, nullptr, nullptr);
    const std::string junk = "220 " + std::string(64 * 1024, 'x');
    // Up to 64 MiB, or until the client hangs up.
    for (int i = 0; i < 1024; ++i) {
      ssize_t n = send(peer, junk.data(), junk.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    close(peer);
  });
  SmtpClientOptions options;
  options.timeout = std::chrono::seconds(10);
  auto results = SendMail("127.0.0.1", ntohs(address.sin_port), "a@example.com", {"b@example.org"},
                          "Subject: x\r\n\r\nbody\r\n", options);
  server.join();
  close(listener);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, RecipientOutcome::kTemporaryFailure);
  EXPECT_EQ(results[0].reply, "reply line too long");
  EXPECT_LT(sent, 16u << 20) << "the client kept reading an endless line";
}

}  // namespace
}  // namespace penncloud::mail
