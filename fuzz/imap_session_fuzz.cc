// The IMAP session (mail/imap_session.h) over a small mailbox in the in-memory store, fed
// through the server's own framing (mail/imap_framer.h) in reads of a size the input picks,
// so a line or a literal may be cut anywhere. The first byte picks whether STARTTLS is
// offered, the second the read size. Checked after every read: each reply ends in CRLF; no
// login succeeds before TLS; the asked-for literal never exceeds the limit; the framer
// keeps no complete line and at most one over-long line's worth of bytes; and at the end
// every folder the store lists reads back (no cell the client wrote fails to parse) with
// UIDs unique, ascending and below its UIDNEXT.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "kvs/client/memory_client.h"
#include "mail/imap_framer.h"
#include "mail/imap_session.h"

namespace {

using namespace penncloud::mail;

bool ValidReply(std::string_view text) { return text.empty() || text.ends_with("\r\n"); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  penncloud::kvs::MemoryClient kvs;
  int64_t now = 1'700'000'000'000'000;
  MailStore store(kvs, [&now] { return now += 1000; });
  FUZZ_CHECK(
      store.Add("alice", kInbox, "Subject: one\r\nFrom: a@b.c\r\n\r\nhello\r\n", false).ok());
  FUZZ_CHECK(store
                 .Add("alice", kInbox,
                      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n"
                      "Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ny\r\n--b--\r\n",
                      true)
                 .ok());
  FUZZ_CHECK(store.CreateFolder("alice", "Work").ok());

  ImapConfig config;
  config.tls_available = !in.empty() && (in[0] & 1);
  config.max_literal_bytes = 4096;
  config.max_command_bytes = 2048;
  Authenticator auth = [](std::string_view user,
                          std::string_view password) -> absl::StatusOr<std::string> {
    if (user == "alice" && password == "password1") return std::string("alice");
    return absl::UnauthenticatedError("wrong");
  };
  ImapSession session(config, store, auth, [&now] { return now; });
  ImapFramer framer(session, config.max_command_bytes);
  if (in.size() < 2) return 0;
  const size_t read_size = 1 + static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  bool tls = false;
  auto handle = [&](const SessionOutput& out) {
    FUZZ_CHECK(ValidReply(out.text));
    FUZZ_CHECK(session.LiteralWanted() <= config.max_literal_bytes);
    if (out.start_tls) {
      tls = true;
      session.OnTlsStarted();
    }
    FUZZ_CHECK(tls || !session.authenticated());
    return !out.close;
  };
  FUZZ_CHECK(ValidReply(session.Greeting()));
  std::string pending;
  while (!in.empty()) {
    size_t take = std::min(read_size, in.size());
    pending.append(in.substr(0, take));
    in.remove_prefix(take);
    SessionOutput out = framer.Feed(pending, config.tls_available && !tls);
    if (!handle(out)) break;
    if (!out.start_tls && session.LiteralWanted() == 0) {
      FUZZ_CHECK(pending.find('\n') == std::string::npos);
    }
    FUZZ_CHECK(pending.size() <= config.max_command_bytes + 1);
    if (session.Idling() && !handle(session.OnPoll())) break;
  }
  auto folders = store.Folders("alice");
  FUZZ_CHECK(folders.ok());
  for (const std::string& folder : *folders) {
    // Every folder the store lists reads back: nothing the client sent made a cell that no
    // longer parses.
    auto state = store.State("alice", folder);
    auto messages = store.Mailbox("alice", folder);
    FUZZ_CHECK(state.ok() && messages.ok());
    uint32_t last = 0;
    for (const auto& m : *messages) {
      FUZZ_CHECK(m.uid() > last);
      FUZZ_CHECK(m.uid() < state->uid_next());
      last = m.uid();
    }
  }
  return 0;
}
