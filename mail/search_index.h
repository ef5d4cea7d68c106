// The full-text index of a user's mail, kept in the key-value store beside the mailbox.
//
// Layout: one row per user, so a user's whole index lives in one replica group.
//   row "mailsearch/<user>"
//     column "d/<id>"        pb::SearchDoc: the message's folder and posting keys, written
//                            once at delivery (the only index write a delivery makes)
//     column "m"             pb::SearchManifest: the segments, the frontier, a merge's intent
//     column "s/<name>/<n>"  block n of segment <name> (search_segments.h), immutable
//     column "c/<id>"        a late marker: the doc of <id> was written after a merge had
//                            claimed its place, so the next merge must fold it in
//     column "u/<id>"        message <id> is unread (or was lately): the "~unread" posting
//                            of a merged message, written by the merge that folds its doc
//                            or by a change to unread
//     column "v"             "3" once every message older than the index is indexed and
//                            every unread one that has a doc has its "u/" cell
//
// Keys: "w:<word>" (a word anywhere: subject, addresses, body text, attachment names),
// "f:", "t:", "s:" (a word in From, To/Cc, Subject), "~all", "~att", and "~unread" for a
// message delivered unread. A folder's postings are the mailbox row's own columns
// (mail_store.h), so moves write nothing here. "~unread" is the one key a merge does not
// put in a segment: a segment cannot change when the message is read, so the merge writes
// the message's "u/" cell instead (if it is still unread), and an unread query reads as
// many cells as there are unread messages.
//
// Message ids begin with the inverted arrival time, so sorted ids are newest first. The
// manifest's frontier splits them: docs of ids at or past it (older) are folded into
// segments by a merge (search_merge.h), the newer ones are the pending delta a query reads
// directly (search_snapshot.h). A merge first records its intent (the new frontier), then
// lists the docs; a delivery reads the manifest after writing its doc and, if its id is
// already claimed, leaves a late marker. Either the merge listed the doc or the delivery
// saw the intent: no message is missed.
//
// Consistency with the mailbox (mail_store.h), whose writes are separate from these:
// - The doc is written before the message becomes visible and deleted only after it is
//   gone. So every visible message is findable (no lost hits), and a crash in between
//   leaves only index entries of a message that does not exist.
// - A query therefore checks every hit against the mailbox (search.h) and drops those with
//   no message (or no doc: segments keep a removed message's postings until compacted).
//   Once a leftover doc is older than kRepairGrace (no delivery can still be writing it),
//   the query removes it (the repair path).
// - The unread postings are a superset: "u/<id>" is written before the mailbox changes to
//   unread and removed only after it changes to read; a merge writes it for a doc delivered
//   unread before it commits (until then queries read the doc), unless the entry reads
//   seen. The query checks the entry itself, and drops a cell it finds spare.
//
// Older layouts are migrated on first use: layout 1 (a cell "p/<key>/<id>" per posting)
// and layout 2 (unread postings in segments) get a "u/" cell per unread message; layout 1's
// docs hold the same keys, and its postings, read by nothing, are deleted in the background
// (search_merger.h) or by Repair.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "mail/mime.h"
#include "mail/search_manifest_reads.h"
#include "mail/search_merger.h"
#include "proto/mail_search.pb.h"

namespace penncloud::mail {

// How old a message id must be before its index entries may be removed for want of a
// message, and before an unlisted segment counts as a crashed merge's.
inline constexpr int64_t kRepairGrace = 10LL * 60 * 1'000'000;
// Deliveries to one user after which a process that merges in the background merges.
inline constexpr int kMergeEvery = 256;
// Distinct keys indexed per message at most (a long body's rarest words go unindexed).
inline constexpr size_t kMaxKeysPerMessage = 4000;

inline constexpr std::string_view kAllKey = "~all";
inline constexpr std::string_view kUnreadKey = "~unread";
inline constexpr std::string_view kAttachmentKey = "~att";
// A folder's key, answered from the mailbox row rather than from the index.
std::string FolderKey(std::string_view folder);
bool IsFolderKey(std::string_view key);
std::string_view FolderOfKey(std::string_view key);

// The posting keys of a message (every field, plus ~all and ~att), sorted, unique.
std::vector<std::string> KeysOf(const ParsedMessage& message);

// The arrival time encoded in a message id (mail_store.cc's NewId); 0 if it is not one.
int64_t IdMicros(std::string_view id);
// The smallest id of a message that arrived at or before `micros`: ids >= it are older.
std::string IdFloor(int64_t micros);

std::string SearchRow(std::string_view user);
std::string DocColumn(std::string_view id);
std::string LateColumn(std::string_view id);
std::string UnreadColumn(std::string_view id);
inline constexpr std::string_view kDocPrefix = "d/";
inline constexpr std::string_view kLatePrefix = "c/";
inline constexpr std::string_view kUnreadPrefix = "u/";
inline constexpr std::string_view kManifestColumn = "m";

// The manifest as read, with its raw value for a compare-and-put (nullopt: no cell yet).
struct ManifestRead {
  std::optional<std::string> raw;
  pb::SearchManifest manifest;
};
absl::StatusOr<ManifestRead> ReadManifest(kvs::Client& kvs, std::string_view user);
// Whether a merge has claimed `id`'s place (its doc must be in a segment or marked late).
bool Claimed(const pb::SearchManifest& manifest, std::string_view id);

// The ids of `user`'s cells under `prefix` (kDocPrefix: the indexed messages; kUnreadPrefix:
// the unread cells), ascending.
absl::StatusOr<std::vector<std::string>> IdsUnder(kvs::Client& kvs, std::string_view user,
                                                  std::string_view prefix);

// Deletes at most `max_cells` of layout 1's posting cells ("p/<key>/<id>") of `user`'s
// index; nothing reads or writes them any more, so this is safe at any time. Returns
// whether none is left.
absl::StatusOr<bool> SweepFirstLayout(kvs::Client& kvs, std::string_view user, int max_cells);

class SearchIndex {
 public:
  SearchIndex(kvs::Client& kvs, std::function<int64_t()> now_micros);

  // Indexes a message about to be written to `folder` (call before the mailbox write):
  // one write (the doc), and a read of the manifest shared with concurrent deliveries.
  absl::Status Add(std::string_view user, std::string_view id, std::string_view folder,
                   const ParsedMessage& message, bool unread);
  // Add in its two steps, for a delivery that has other writes to overlap them with:
  // the doc (alongside the source), then, once it is written, the manifest read and a late
  // marker if a merge has claimed the id's place (alongside taking the UID). Both must be
  // done before the mailbox entry is written.
  absl::Status WriteDoc(std::string_view user, std::string_view id, std::string_view folder,
                        const ParsedMessage& message, bool unread);
  absl::Status MarkIfLate(std::string_view user, std::string_view id);
  // Forgets a message (call after the mailbox entry is gone). Harmless if not indexed.
  absl::Status Remove(std::string_view user, std::string_view id);

  // Records the folder a message was found in (call with an entry that exists).
  absl::Status SetFolder(std::string_view user, std::string_view id, std::string_view folder);

  // The unread posting: Put before and again after a change to unread; Drop after a change
  // to read, which re-checks `still_unread` once the cell is gone (a concurrent change back
  // to unread may have written it just before).
  absl::Status PutUnread(std::string_view user, std::string_view id);
  absl::Status DropUnread(std::string_view user, std::string_view id,
                          const std::function<bool()>& still_unread);

  // The message's index entry; kNotFound if it has none.
  absl::StatusOr<pb::SearchDoc> Doc(std::string_view user, std::string_view id);

  // From now on, every `every` deliveries to a user, merges the user's index on a thread
  // of its own (for the process that delivers mail; elsewhere queries merge).
  void MergeInBackground(int every);
  // A query is about to read `user`'s index: the first time in this process, what older
  // layouts left of it is swept away in the background.
  void Touched(std::string_view user);

  bool Complete(std::string_view user);
  absl::Status MarkComplete(std::string_view user);

  kvs::Client& kvs() { return kvs_; }
  int64_t Now() const { return now_micros_(); }

 private:
  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
  ManifestReads manifest_reads_;  // the deliveries' reads after their docs, shared
  BackgroundMerger merger_;
};

}  // namespace penncloud::mail
