// The full-text index of a user's mail, kept in the key-value store beside the mailbox.
//
// Layout: one row per user, so a user's whole index lives in one replica group.
//   row "mailsearch/<user>"
//     column "p/<key>/<id>"   a posting: message <id> has <key>; the value is empty
//     column "d/<id>"         pb::SearchDoc: the message's folder and every key written
//     column "v"              present once every message older than the index is indexed
//
// Keys: "w:<word>" (a word anywhere: subject, addresses, body text, attachment names),
// "f:", "t:", "s:" (a word in From, To/Cc, Subject), and the special keys "~in:<folder>",
// "~unread", "~att" and "~all". A posting is its own cell, so deliveries never contend
// (plain puts, nothing read-modify-written) and adding or removing one is idempotent.
// Message ids begin with the inverted arrival time, so one key's postings are one column
// range, newest first: a query reads a range per key and stops when a page is full.
//
// Consistency with the mailbox (mail_store.h), whose writes are separate from these:
// - The index is written before the message becomes visible, and postings are removed
//   only after it is gone. So every visible message is findable (no lost hits), and a crash
//   in between leaves only postings of a message that does not exist.
// - A query therefore checks every hit against the mailbox (search.h) and drops those with
//   no message; once such a leftover is older than kRepairGrace (no delivery can still be
//   writing it), the query removes its postings (the repair path).
// - Folder and unread keys are supersets: the key of the new state is written before the
//   mailbox changes, the old one removed after, and the query checks the entry itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "mail/mime.h"
#include "proto/mail_search.pb.h"

namespace penncloud::mail {

// How old a message id must be before its postings may be removed for want of a message.
inline constexpr int64_t kRepairGrace = 10LL * 60 * 1'000'000;
// Distinct keys indexed per message at most (a long body's rarest words go unindexed).
inline constexpr size_t kMaxKeysPerMessage = 4000;

inline constexpr std::string_view kAllKey = "~all";
inline constexpr std::string_view kUnreadKey = "~unread";
inline constexpr std::string_view kAttachmentKey = "~att";
std::string FolderKey(std::string_view folder);

// The posting keys of a message (every field, plus ~all and ~att), sorted, unique.
std::vector<std::string> KeysOf(const ParsedMessage& message);

// The arrival time encoded in a message id (mail_store.cc's NewId); 0 if it is not one.
int64_t IdMicros(std::string_view id);

class SearchIndex {
 public:
  SearchIndex(kvs::Client& kvs, std::function<int64_t()> now_micros);

  // Indexes a message about to be written to `folder` (call before the mailbox write).
  absl::Status Add(std::string_view user, std::string_view id, std::string_view folder,
                   const ParsedMessage& message, bool unread);
  // Forgets a message (call after the mailbox entry is gone). Harmless if not indexed.
  // `extra_keys`: postings to drop besides those its doc lists (a query's, which may have
  // met a folder key left by a move that stopped half-way).
  absl::Status Remove(std::string_view user, std::string_view id,
                      const std::vector<std::string>& extra_keys = {});

  // A move: BeforeMove before the new entry is written, AfterMove once the old one is gone.
  absl::Status BeforeMove(std::string_view user, std::string_view id, std::string_view to);
  absl::Status AfterMove(std::string_view user, std::string_view id, std::string_view from);
  // Records the folder a message was found in (call with an entry that exists).
  absl::Status SetFolder(std::string_view user, std::string_view id, std::string_view folder);

  // The unread key: Put before and again after a change to unread; Drop after a change to
  // read, which re-checks `still_unread` once the key is gone (a concurrent change back to
  // unread may have written it just before).
  absl::Status PutUnread(std::string_view user, std::string_view id);
  absl::Status DropUnread(std::string_view user, std::string_view id,
                          const std::function<bool()>& still_unread);

  // The message's index entry; kNotFound if it has none.
  absl::StatusOr<pb::SearchDoc> Doc(std::string_view user, std::string_view id);

  // Message ids with `key`, ascending (newest first), strictly after `after` (an id or "").
  absl::StatusOr<std::vector<std::string>> Postings(std::string_view user, std::string_view key,
                                                    std::string_view after, int limit);

  // Ids of indexed messages, ascending, strictly after `after`.
  absl::StatusOr<std::vector<std::string>> DocIds(std::string_view user, std::string_view after,
                                                  int limit);

  bool Complete(std::string_view user);
  absl::Status MarkComplete(std::string_view user);

  int64_t Now() const { return now_micros_(); }

 private:
  // Writes (or deletes) many cells of one row at once: the KVS client gathers concurrent
  // calls into one batch.
  absl::Status PutAll(std::string_view user, const std::vector<std::string>& columns);
  absl::Status DeleteAll(std::string_view user, const std::vector<std::string>& columns);

  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
};

std::string SearchRow(std::string_view user);

}  // namespace penncloud::mail
