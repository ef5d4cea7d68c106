// The POP3 session (mail/pop3_session.h) over a mailbox in the in-memory store, on arbitrary
// line streams: USER/PASS, AUTH PLAIN/LOGIN, STLS, and the TRANSACTION commands with any
// arguments (message numbers out of range, negative or huge TOP counts). Checked after every
// line: replies are CRLF lines starting "+OK", "-ERR" or "+ " (or a multi-line body ending in
// "."), nothing but the right password opens the mailbox, and QUIT removes exactly the
// messages marked with DELE.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "fuzz/line_input.h"
#include "kvs/client/memory_client.h"
#include "mail/pop3_session.h"

namespace {

using namespace penncloud::mail;

bool ValidReply(std::string_view text) {
  if (!penncloud::fuzz::WellFormedReply(text)) return false;
  return text.empty() || text.starts_with("+OK") || text.starts_with("-ERR") ||
         text.starts_with("+ ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  penncloud::kvs::MemoryClient kvs;
  int64_t now = 1'000'000;
  MailStore store(kvs, [&now] { return now++; });
  // Three messages, one with a dot-leading line and one without a body.
  FUZZ_CHECK(
      store.Add("alice", kInbox, "Subject: one\r\n\r\nhello\r\n.hidden\r\nbye\r\n", false).ok());
  FUZZ_CHECK(store.Add("alice", kInbox, "Subject: two\r\n", false).ok());
  FUZZ_CHECK(
      store.Add("alice", kInbox, "Subject: three\r\n\r\n" + std::string(300, 'x'), true).ok());

  Pop3Config config;
  config.tls_available = !in.empty() && (in[0] & 1);
  Authenticator auth = [](std::string_view user,
                          std::string_view password) -> absl::StatusOr<std::string> {
    if (user == "alice" && password == "password1") return std::string("alice");
    return absl::UnauthenticatedError("wrong");
  };
  Pop3Session session(config, store, auth, "fuzz", [&now] { return now; });
  std::set<int> marked;  // message numbers DELE answered +OK for, since the last RSET
  bool quit_ok = false;
  auto handle = [&](std::string_view line, const SessionOutput& out) {
    FUZZ_CHECK(ValidReply(out.text));
    if (out.start_tls) session.OnTlsStarted();
    if (out.text.starts_with("+OK Message ")) {
      marked.insert(std::atoi(std::string(line.substr(5)).c_str()));
    }
    if (out.text.starts_with("+OK alice has")) marked.clear();
    if (line.size() >= 4 && (line[0] | 0x20) == 'r' && (line[1] | 0x20) == 's' &&
        out.text.starts_with("+OK")) {
      marked.clear();
    }
    if (out.close) quit_ok = out.text.find("messages deleted") != std::string::npos;
    return !out.close;
  };
  penncloud::fuzz::ForEachLine(
      in.empty() ? in : in.substr(1), 1024,
      [&](std::string_view line) { return handle(line, session.OnLine(line)); },
      [&] { return handle("", session.OnLineTooLong()); });
  session.OnDisconnect();
  auto left = store.ListAll("alice", kInbox);
  FUZZ_CHECK(left.ok());
  size_t expected = quit_ok ? 3 - marked.size() : 3;
  FUZZ_CHECK(left->size() == expected);
  return 0;
}
