// The IMAP session (mail/imap_session.h) over a small mailbox in the in-memory store, on
// arbitrary byte streams cut the way mail/imap_server.cc cuts them: literal bytes while
// the session wants them, lines otherwise. The first byte picks whether STARTTLS is
// offered. Checked after every step: each reply ends in CRLF and every reply line begins
// with "*", "+" or a tag; no login succeeds before TLS; the asked-for literal never
// exceeds the limit; and at the end every folder the store lists reads back (no cell the
// client wrote fails to parse) with UIDs unique, ascending and below its UIDNEXT.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/check.h"
#include "kvs/client/memory_client.h"
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
  bool tls = false;
  if (!in.empty()) in.remove_prefix(1);
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
  while (!in.empty()) {
    if (size_t want = session.LiteralWanted(); want > 0) {
      size_t take = std::min(want, in.size());
      if (!handle(session.OnLiteral(in.substr(0, take)))) break;
      in.remove_prefix(take);
      continue;
    }
    if (session.Idling() && !handle(session.OnPoll())) break;
    size_t end = in.find('\n');
    std::string_view line = in.substr(0, end);
    in = end == std::string_view::npos ? std::string_view() : in.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    SessionOutput out =
        line.size() > config.max_command_bytes ? session.OnLineTooLong() : session.OnLine(line);
    if (!handle(out)) break;
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
