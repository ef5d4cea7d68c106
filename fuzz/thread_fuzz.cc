// Conversation threading (mail/thread.h) on arbitrary headers: each input line is one
// message, "<Message-ID> <References...>\t<Subject>", ids drawn from a small space so that
// loops, self-references, duplicates and contradicting chains are common. Every message must
// come out in exactly one thread, and the References parsing must never keep a bracket.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/check.h"
#include "mail/text.h"
#include "mail/thread.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace penncloud::mail;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<ThreadInput> messages;
  size_t start = 0;
  while (start < input.size() && messages.size() < 2000) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(start, end - start);
    start = end + 1;
    size_t tab = line.find('\t');
    std::string_view ids = line.substr(0, tab);
    ParsedMessage parsed;
    std::vector<std::string_view> words = SplitSpaces(ids);
    if (!words.empty()) parsed.message_id = std::string(words[0]);
    for (size_t i = 1; i < words.size(); ++i) parsed.references += Cat("<", words[i], "> ");
    parsed.in_reply_to = std::string(ids);  // raw, hostile
    ThreadInput m;
    m.id = std::to_string(messages.size());
    m.message_id = ThreadMessageId(parsed);
    m.references = ThreadReferences(parsed);
    FUZZ_CHECK(m.references.size() <= kMaxThreadReferences);
    for (const std::string& r : m.references) {
      FUZZ_CHECK(!r.empty() && r.find('<') == std::string::npos &&
                 r.find('>') == std::string::npos);
    }
    m.subject = tab == std::string_view::npos ? "" : std::string(line.substr(tab + 1));
    m.received_micros = static_cast<int64_t>(messages.size() % 7);
    m.unread = messages.size() % 3 == 0;
    messages.push_back(std::move(m));
  }
  std::map<std::string, int> seen;
  int unread = 0;
  for (const Thread& t : BuildThreads(messages)) {
    FUZZ_CHECK(!t.messages.empty() && t.id == t.messages.front());
    for (const std::string& id : t.messages) ++seen[id];
    unread += t.unread;
  }
  FUZZ_CHECK(seen.size() == messages.size());
  for (const auto& [id, count] : seen) FUZZ_CHECK(count == 1);
  int expected_unread = 0;
  for (const ThreadInput& m : messages) expected_unread += m.unread ? 1 : 0;
  FUZZ_CHECK(unread == expected_unread);
  return 0;
}
