// The mailbox store: every user's folders and messages, shared by webmail, SMTP and POP3.
//
// Layout in the key-value store:
//   row "mail/<user>"            the mailbox index, one row so a user's listing is one group
//     column "<folder>/<id>"     pb::MessageMeta of one message (folder: kSystemFolders)
//     column "lock/pop3"         "<owner> <expiry micros>": the POP3 session holding the box
//   rows "mailbody/<user>/<id>/<n>", column "c"   the RFC 5322 source, in ~1 MiB chunks
//
// Each message is its own cell with a fresh unique id, created with CPUT(absent), so
// concurrent deliveries never overwrite each other; changes to one message's entry are
// CPUT loops, never blind read-modify-writes. Ids sort newest first: they begin with the
// inverted arrival time, followed by random bits.
//
// Adding writes the body chunks first and the index cell last: once Add returns OK the
// message is durable and visible; if it fails, nothing is visible.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "proto/mail.pb.h"

namespace penncloud::mail {

inline constexpr std::string_view kInbox = "inbox";
inline constexpr std::string_view kSent = "sent";
inline constexpr std::string_view kTrash = "trash";
inline constexpr std::string_view kDrafts = "drafts";
inline constexpr std::string_view kJunk = "junk";  // quarantined mail (DMARC, spam)
// The folders every mailbox has, in the order clients list them.
inline constexpr std::string_view kSystemFolders[] = {kInbox, kSent, kDrafts, kTrash, kJunk};
bool IsFolder(std::string_view folder);

struct ListPage {
  std::vector<pb::MessageMeta> messages;  // newest first
  std::string next_cursor;                // "" when this is the last page
};

class MailStore {
 public:
  // `now_micros` is the clock (Unix epoch, microseconds); tests pass their own.
  explicit MailStore(kvs::Client& kvs, std::function<int64_t()> now_micros = nullptr);

  // Stores a message's source in a folder. The listing fields are parsed from the source.
  absl::StatusOr<pb::MessageMeta> Add(std::string_view user, std::string_view folder,
                                      std::string_view source, bool seen);

  absl::StatusOr<ListPage> List(std::string_view user, std::string_view folder,
                                std::string_view cursor, int limit);
  absl::StatusOr<std::vector<pb::MessageMeta>> ListAll(std::string_view user,
                                                       std::string_view folder);

  // The entry of message `id`, in whichever folder it is; kNotFound if none.
  absl::StatusOr<pb::MessageMeta> Find(std::string_view user, std::string_view id);
  absl::StatusOr<std::string> Source(std::string_view user, const pb::MessageMeta& meta);

  absl::Status SetSeen(std::string_view user, std::string_view id, bool seen);
  absl::Status Move(std::string_view user, std::string_view id, std::string_view folder);
  // Deletes the message for good (POP3 DELE at QUIT, emptying Trash).
  absl::Status Remove(std::string_view user, std::string_view id);

  absl::StatusOr<int> CountUnread(std::string_view user, std::string_view folder);

  // An exclusive lease on the mailbox for one POP3 session (RFC 1939 asks for one at a
  // time). Returns false if another live owner holds it.
  absl::StatusOr<bool> Lock(std::string_view user, std::string_view owner, int64_t lease_micros);
  absl::Status Unlock(std::string_view user, std::string_view owner);

 private:
  std::string NewId();
  absl::StatusOr<pb::MessageMeta> ReadMeta(std::string_view user, std::string_view folder,
                                           std::string_view id);

  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
};

std::string MailboxRow(std::string_view user);
std::string BodyName(std::string_view user, std::string_view id);

}  // namespace penncloud::mail
