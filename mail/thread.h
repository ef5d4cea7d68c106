// Conversations: messages grouped into threads by their References and In-Reply-To
// headers, with the subject as a fallback, following Jamie Zawinski's published threading
// algorithm ("message threading", 1997/2002): containers per Message-ID, parent links from
// each References chain (never making a loop, the message's own header winning), empty
// containers pruned, then root threads with the same base subject merged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/mime.h"

namespace penncloud::mail {

class MailStore;

// A message's ids as threading reads them (without angle brackets): its Message-ID, and
// References then In-Reply-To, oldest ancestor first, at most kMaxThreadReferences (the
// nearest ones are kept).
inline constexpr size_t kMaxThreadReferences = 100;
std::string ThreadMessageId(const ParsedMessage& message);
std::vector<std::string> ThreadReferences(const ParsedMessage& message);

// "Re: Re[2]: FWD: Hello  world" -> "hello world"; `*reply` says whether a prefix was cut.
std::string BaseSubject(std::string_view subject, bool* reply);

struct ThreadInput {
  std::string id;          // the mailbox's message id
  std::string message_id;  // "" if the message has none
  std::vector<std::string> references;
  std::string subject;
  int64_t received_micros = 0;
  bool unread = false;
};

struct Thread {
  std::string id;                     // the id of its first message
  std::string subject;                // its first message's subject
  std::vector<std::string> messages;  // parents before replies, siblings oldest first
  int unread = 0;
  int64_t latest_micros = 0;
};

// The threads of `messages`, most recently active first. Every message is in exactly one.
std::vector<Thread> BuildThreads(const std::vector<ThreadInput>& messages);

// The threads of a folder's messages (the conversation listing the API serves): its entries
// read in pages of the store's largest listing.
absl::StatusOr<std::vector<Thread>> FolderThreads(MailStore& store, std::string_view user,
                                                  std::string_view folder);

}  // namespace penncloud::mail
