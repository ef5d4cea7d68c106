// The fixture of the IMAP session unit tests (imap_session_test.cc, imap_extensions_test.cc):
// sessions over an in-memory store with a clock that ticks 1 ms per reading.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "mail/imap_session.h"
#include "mail/text.h"

namespace penncloud::mail {

inline std::string Message(std::string_view subject, std::string_view body = "hello world") {
  return Cat("From: Bob Smith <bob@example.com>\r\nTo: alice@penncloud.local\r\n",
             "Subject: ", subject, "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n",
             "Message-ID: <m1@example.com>\r\n\r\n", body, "\r\n");
}

inline absl::StatusOr<std::string> Check(std::string_view user, std::string_view password) {
  if (user == "alice" && password == "secret") return std::string("alice");
  if (user == "busy") return absl::ResourceExhaustedError("too many login attempts");
  return absl::UnauthenticatedError("no");
}

inline bool Has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class ImapSessionTest : public ::testing::Test {
 protected:
  ImapSessionTest() { config_.tls_available = true; }

  std::unique_ptr<ImapSession> NewSession() {
    return std::make_unique<ImapSession>(config_, store_, Check, [this] { return now_ += 1000; });
  }
  std::string Send(std::string_view line, ImapSession* s = nullptr) {
    return (s ? s : session_.get())->OnLine(line).text;
  }
  // A logged-in session with INBOX selected.
  void LoginAndSelect(ImapSession* s = nullptr) {
    (s ? s : session_.get())->OnTlsStarted();
    ASSERT_TRUE(Has(Send("a LOGIN alice secret", s), "a OK"));
    ASSERT_TRUE(Has(Send("b SELECT INBOX", s), "b OK [READ-WRITE]"));
  }
  std::string Add(std::string_view subject, std::string_view body = "hello world") {
    auto m = store_.Add("alice", kInbox, Message(subject, body), false);
    EXPECT_TRUE(m.ok());
    return m->id();
  }

  ImapConfig config_;
  kvs::MemoryClient kvs_;
  int64_t now_ = 1'764'000'000'000'000;
  MailStore store_{kvs_, [this] { return now_ += 1000; }};
  std::unique_ptr<ImapSession> session_ = NewSession();
};

}  // namespace penncloud::mail
