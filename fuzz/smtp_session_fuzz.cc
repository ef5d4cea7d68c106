// The SMTP session (mail/smtp_session.h) on arbitrary line streams: commands, pipelining,
// AUTH PLAIN/LOGIN exchanges (base64, cancels, initial responses), DATA with dot-stuffing
// and the size limit, STARTTLS resets. Checked after every line:
// - every reply is CRLF-terminated lines that start with a three-digit code, and no reply
//   echoes a CR or LF the client sent (reply injection);
// - a delivered message never exceeds the size limit, and only a client that authenticated
//   relays to other domains;
// - AUTH succeeds only with the right credentials.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "fuzz/line_input.h"
#include "mail/smtp_session.h"

namespace {

using namespace penncloud::mail;

class FakeBackend : public SmtpBackend {
 public:
  absl::StatusOr<std::string> Authenticate(std::string_view user,
                                           std::string_view password) override {
    if (user == "alice" && password == "password1") return std::string("alice");
    return absl::UnauthenticatedError("wrong");
  }
  absl::StatusOr<bool> LocalUserExists(std::string_view user) override {
    if (user == "down") return absl::UnavailableError("store down");
    return user == "alice" || user == "bob";
  }
  absl::StatusOr<bool> MaySendOutside(std::string_view user) override { return user == "alice"; }
  absl::StatusOr<std::string> Deliver(const Envelope& envelope, std::string_view message) override {
    FUZZ_CHECK(message.size() <= kMaxMessage + 1024);  // + the Received header
    FUZZ_CHECK(!envelope.recipients.empty());
    for (const std::string& r : envelope.recipients) {
      std::string local, domain;
      FUZZ_CHECK(SplitAddress(r, &local, &domain));
      FUZZ_CHECK(domain == "penncloud.local" || !envelope.authenticated_user.empty());
    }
    if (envelope.sender == "fail@x.org") return absl::UnavailableError("store down");
    return std::string("q1");
  }
  static constexpr size_t kMaxMessage = 2048;
};

bool ValidReplyLines(std::string_view text) {
  if (!penncloud::fuzz::WellFormedReply(text)) return false;
  while (!text.empty()) {
    size_t end = text.find("\r\n");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 2);
    if (line.size() < 4 || !isdigit(line[0]) || !isdigit(line[1]) || !isdigit(line[2])) {
      return false;
    }
    if (line[3] != ' ' && line[3] != '-') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The first byte picks the configuration, so both TLS modes are explored.
  bool tls_available = !in.empty() && (in[0] & 1);
  SmtpConfig config;
  config.max_message_bytes = FakeBackend::kMaxMessage;
  config.max_recipients = 3;
  config.max_command_bytes = 512;
  config.tls_available = tls_available;
  FakeBackend backend;
  SmtpSession session(config, backend, "127.0.0.1:1", [] { return std::string("now"); });
  FUZZ_CHECK(ValidReplyLines(session.Greeting()));
  auto handle = [&](const SessionOutput& out) {
    if (!ValidReplyLines(out.text)) std::fprintf(stderr, "bad reply: [%s]\n", out.text.c_str());
    FUZZ_CHECK(ValidReplyLines(out.text));
    if (out.text.starts_with("235")) FUZZ_CHECK(session.authenticated_user() == "alice");
    if (out.start_tls) session.OnTlsStarted();
    return !out.close;
  };
  penncloud::fuzz::ForEachLine(
      in.empty() ? in : in.substr(1), 64 << 10,
      [&](std::string_view line) { return handle(session.OnLine(line)); },
      [&] { return handle(session.OnLineTooLong()); });
  return 0;
}
