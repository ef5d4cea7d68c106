// The drive: each user's tree of folders and files, kept in the key-value store.
//
// Layout (see proto/drive.proto): a folder is a row whose columns are its children's names;
// a file's entry names a content *version* whose bytes live in ~1 MiB chunks, one chunk
// per row, so a big file spreads over the store's groups. Uploads write a fresh version and
// then switch the entry to it with one compare-and-put, so a reader sees the old content or
// the new, never a mix, and a failed upload leaves the old file as it was. Versions nobody
// refers to any more (replaced, deleted, abandoned uploads) are collected in the background.
//
// Every row is keyed under the user, so one user's calls cannot name another user's data.
// All calls are thread-safe; errors are absl::Status values:
//   kInvalidArgument     bad name or path (".." and control characters included)
//   kNotFound            the path (or its parent folder) does not exist
//   kAlreadyExists       the target exists and overwriting was not asked for
//   kFailedPrecondition  wrong kind (a file where a folder is needed, and so on), a
//                        conditional request whose ETag did not match, a folder moved
//                        into itself
//   kResourceExhausted   the user's quota would be exceeded
//   kAborted             lost a race with a concurrent change too many times; retry
//   kUnavailable / kDeadlineExceeded  the store could not be reached
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvs/client/client.h"

namespace penncloud::drive {

namespace pb {
class Entry;
}

struct Options {
  uint32_t chunk_bytes = 1 << 20;
  uint64_t default_quota_bytes = uint64_t{10} << 30;
  // Replaced or deleted contents stay readable this long, so downloads under way finish.
  int64_t garbage_grace_ms = 5 * 60 * 1000;
  // An upload not heard from for this long is taken as abandoned and its chunks collected.
  int64_t pending_timeout_ms = 15 * 60 * 1000;
  // Milliseconds since the epoch; tests substitute a fake clock.
  std::function<int64_t()> now_ms;
  // If true, the Drive runs a thread that collects a user's garbage after their writes.
  bool background_collection = false;
  // Deleted files and folders stay in the trash this long, then the collector purges them.
  // 0: no trash, deletes are final.
  int64_t trash_retention_ms = int64_t{30} * 24 * 3600 * 1000;
  // A replaced file keeps its last `max_versions` contents (0: none), each for at most
  // `version_retention_ms` after it was replaced.
  int max_versions = 10;
  int64_t version_retention_ms = int64_t{30} * 24 * 3600 * 1000;
};

struct EntryInfo {
  std::string name;  // "" for the root
  bool folder = false;
  uint64_t size = 0;  // files only
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
  std::string content_type;  // files only
  std::string etag;          // files: changes with every new content; folders: the folder id
  // Stays with the item through moves, renames and new contents: the folder id or the file
  // id ("" for a file last written before files had ids). A copy gets a new one.
  std::string id;
  std::map<std::string, std::string> dead_props;  // WebDAV dead properties
};

struct Usage {
  uint64_t used_bytes = 0;  // files, trash, versions, and reserved_bytes
  uint64_t quota_bytes = 0;
  uint64_t reserved_bytes = 0;  // held by unfinished resumable uploads (tus.h)
  int reservations = 0;         // how many such uploads
};

struct UploadOptions {
  std::string content_type;  // "" = guess from the name
  // Conditional replace: commit only if the current file has this ETag ("*" = any file).
  std::optional<std::string> if_match;
  // Commit only if nothing exists at the path yet.
  bool if_none_match = false;
  // The id a new file gets ("" = a fresh one). A move between drives chooses it ahead, so a
  // resumed move knows its own copy.
  std::string new_file_id;
};

// A deleted file or folder waiting in the trash.
struct TrashEntry {
  std::string id;
  std::string path;  // where it was
  bool folder = false;
  uint64_t size = 0;  // bytes of every file inside
  int64_t deleted_ms = 0;
};

// An older content of a file.
struct VersionInfo {
  std::string id;
  uint64_t size = 0;
  int64_t modified_ms = 0;  // when that content was written
  int64_t replaced_ms = 0;
};

// One file or folder found by name.
struct NameMatch {
  std::string path;
  std::string name;
  bool folder = false;
  uint64_t size = 0;
  int64_t modified_ms = 0;
};

// Bounds of a name search.
inline constexpr size_t kMaxQueryBytes = 256;
inline constexpr int kMaxSearchResults = 200;

// Writes the name-index cells of the file or folder `entry` at `path` (normalized) in `user`'s
// drive, as every change of the tree does before the tree changes, stamped `now_ms`. Public
// so that a benchmark which fills a drive straight through the store indexes it exactly as
// uploads would. Failures are logged.
void WriteNameIndex(kvs::Client* kvs, const std::string& user, const std::string& path,
                    const pb::Entry& entry, int64_t now_ms);

// Told of every move of a file or folder (Drive::Move, whoever calls it), so records that
// name paths (drive/share.h) follow the item. Runs before the tree changes, with normalized
// paths; an error stops the move. The function it returns runs once the outcome is known
// (`moved`: whether the item is now at `to`); a crash, or an answer the store left unknown,
// skips it, and the hook's records must stay right without it.
using AfterMove = std::function<void(bool moved)>;
using MoveHook = std::function<absl::StatusOr<AfterMove>(
    const std::string& user, const std::string& from, const std::string& to)>;

// WebDAV PROPPATCH: set (value present) or remove (nullopt) dead properties, in order.
using PropertyPatch = std::vector<std::pair<std::string, std::optional<std::string>>>;

class Drive;

// True if `status` says a conditional upload's condition (if_match / if_none_match) did not
// hold; HTTP answers 412 for these and 409 for other kFailedPrecondition errors.
bool IsConditionFailed(const absl::Status& status);

// One upload, fed the file's bytes in pieces of any size. Memory stays at a few chunks.
// Destroying an upload that was not committed aborts it (its chunks are deleted).
class Upload {
 public:
  ~Upload();
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  absl::Status Append(std::string_view bytes);
  // Makes the new content visible at the path; the previous content goes to garbage.
  absl::StatusOr<EntryInfo> Commit();
  // Deletes what was written; the file at the path (if any) stays as it was.
  void Abort();

  uint64_t bytes_written() const { return size_; }
  // Whether nothing was at the path when the upload began (its commit creates the file).
  bool creates() const { return creates_; }
  const std::string& version_for_test() const { return version_; }

 private:
  friend class Drive;

  Upload(Drive* drive, std::string user, std::vector<std::string> path, std::string version,
         UploadOptions options, uint64_t allowance);
  // Writes the buffer as the next chunk, in the background unless `last` finds nothing
  // else in flight.
  absl::Status FlushChunk(bool last = false);
  absl::Status DrainWrites();

  Drive* drive_;
  std::string user_;
  std::vector<std::string> path_;
  std::string version_;
  UploadOptions options_;
  std::optional<std::map<std::string, std::string>> dead_props_;  // set by Copy
  uint64_t allowance_;  // bytes this upload may write before the quota check at commit
  std::string buffer_;
  // Chunk writes under way (at most kWritesInFlight), so the store's replicas commit
  // several chunks per fsync; memory stays at a few chunks.
  std::deque<std::future<absl::Status>> writes_;
  uint64_t size_ = 0;
  uint32_t chunks_ = 0;
  std::string pending_raw_;  // our pending record as last written, for compare-and-put
  int64_t touched_ms_ = 0;
  bool creates_ = false;
  bool done_ = false;
  absl::Status error_;
};

// A byte range of one version of a file, produced in pieces of at most one chunk.
class Reader {
 public:
  const EntryInfo& info() const { return info_; }
  uint64_t begin() const { return begin_; }
  uint64_t end() const { return end_; }  // exclusive
  // Narrows the range to [begin, end) before the first Next (e.g. for an HTTP Range that
  // needed the size first). kOutOfRange unless begin <= end <= size.
  absl::Status Restrict(uint64_t begin, uint64_t end);
  // The next piece; an empty string once the range is exhausted. kAborted if the version
  // was collected meanwhile (the file was replaced long ago): the caller must not mix.
  absl::StatusOr<std::string> Next();

 private:
  friend class Drive;

  Reader(kvs::Client* kvs, std::string user, EntryInfo info, std::string version,
         uint32_t chunk_bytes, uint64_t begin, uint64_t end);
  std::future<absl::StatusOr<std::string>> Fetch(uint64_t index);

  kvs::Client* kvs_;
  std::string user_;
  EntryInfo info_;
  std::string version_;
  uint32_t chunk_bytes_;
  uint64_t begin_, end_, pos_;
  // Read-ahead of the next chunk while the caller sends this one.
  uint64_t ahead_index_ = 0;
  std::future<absl::StatusOr<std::string>> ahead_;
};

class Drive {
 public:
  Drive(kvs::Client* kvs, Options options = {});
  ~Drive();
  Drive(const Drive&) = delete;
  Drive& operator=(const Drive&) = delete;

  absl::StatusOr<EntryInfo> Stat(std::string_view user, std::string_view path);
  // The children of a folder, in byte order of name.
  absl::StatusOr<std::vector<EntryInfo>> List(std::string_view user, std::string_view path);

  // kAlreadyExists if anything is at the path.
  absl::Status CreateFolder(std::string_view user, std::string_view path);
  // Rename or move a file or folder (with everything inside). With `overwrite`, whatever
  // is at `to` is deleted first; otherwise kAlreadyExists.
  absl::Status Move(std::string_view user, std::string_view from, std::string_view to,
                    bool overwrite);
  // Installs (or with nullptr removes) the one MoveHook. Its owner must outlive the moves
  // under way when it removes it.
  void SetMoveHook(MoveHook hook);
  // Copies a file or a whole folder; contents are copied chunk by chunk.
  absl::Status Copy(std::string_view user, std::string_view from, std::string_view to,
                    bool overwrite);
  // The same from `from_user`'s drive into `to_user`'s (a share's recipient copying into or
  // out of it): new files of `to_user`, charged to their quota. Not atomic: a failure part
  // way leaves what was copied so far.
  absl::Status CopyBetween(std::string_view from_user, std::string_view from,
                           std::string_view to_user, std::string_view to, bool overwrite);
  // Moves a file, or a folder with everything inside, to the trash (deletes it for good
  // when the trash is off). Its bytes keep counting toward the quota until purged.
  absl::Status Delete(std::string_view user, std::string_view path);

  // The trash, newest first.
  absl::StatusOr<std::vector<TrashEntry>> ListTrash(std::string_view user);
  // Puts an item back where it was, recreating missing folders on the way. If that name is
  // taken, the item comes back beside it as "name (restored)" (or "(restored 2)", ...), told
  // to the MoveHook as a move from its old path, so its shares find it there.
  // Returns the path it was restored to. kNotFound for an unknown id.
  absl::StatusOr<std::string> Restore(std::string_view user, std::string_view id);
  // Deletes one item of the trash for good.
  absl::Status Purge(std::string_view user, std::string_view id);
  // Purges everything in the trash; returns how many items went.
  absl::StatusOr<int> EmptyTrash(std::string_view user);

  // The older versions of a file, newest first.
  absl::StatusOr<std::vector<VersionInfo>> ListVersions(std::string_view user,
                                                        std::string_view path);
  // Makes an older version current again; the current content becomes a version.
  absl::StatusOr<EntryInfo> RestoreVersion(std::string_view user, std::string_view path,
                                           std::string_view version_id);
  // Like Open, for an older version of the file at `path`.
  absl::StatusOr<std::unique_ptr<Reader>> OpenVersion(std::string_view user, std::string_view path,
                                                      std::string_view version_id);

  // Files and folders whose name holds every word of `query` as the start of one of its
  // words, compared case-insensitively and without accents (Unicode case folding). Answers
  // from the name index, never by walking the tree. kInvalidArgument for a query with no
  // letters or digits or longer than kMaxQueryBytes. At most `limit` (<= kMaxSearchResults)
  // matches, sorted by name.
  absl::StatusOr<std::vector<NameMatch>> Search(std::string_view user, std::string_view query,
                                                int limit = 50);

  // Starts an upload to `path`, whose parent folder must exist. Checked again at commit.
  absl::StatusOr<std::unique_ptr<Upload>> BeginUpload(std::string_view user, std::string_view path,
                                                      UploadOptions options = {});
  // Opens bytes [begin, end) of a file; end = nullopt means to the end of the file.
  // kOutOfRange if begin > size.
  absl::StatusOr<std::unique_ptr<Reader>> Open(std::string_view user, std::string_view path,
                                               uint64_t begin = 0,
                                               std::optional<uint64_t> end = std::nullopt);

  absl::Status PatchProperties(std::string_view user, std::string_view path,
                               const PropertyPatch& patch);

  absl::StatusOr<Usage> GetUsage(std::string_view user);
  absl::Status SetQuota(std::string_view user, uint64_t quota_bytes);

  // Deletes the chunks of versions whose grace period has passed and of abandoned
  // uploads. Bounded work per call; returns how many versions were collected.
  absl::StatusOr<int> CollectGarbage(std::string_view user);

 private:
  friend class Upload;
  friend class TusStore;
  friend class CrossDriveMoves;
  struct Located;

  int64_t Now() const;
  absl::StatusOr<std::string> ResolveFolder(const std::string& user,
                                            const std::vector<std::string>& parts,
                                            std::vector<std::string>* chain = nullptr);
  absl::StatusOr<Located> Locate(const std::string& user, const std::vector<std::string>& parts,
                                 std::vector<std::string>* chain = nullptr);
  // Locate for a public call's arguments: `user` checked, `path` split (into `*parts` if
  // given).
  absl::StatusOr<Located> LocatePath(std::string_view user, std::string_view path,
                                     std::vector<std::string>* parts = nullptr);
  absl::Status DeleteLocated(const std::string& user, const Located& at);
  // Calls `visit` with each child of folder `folder_id`, page by page, in name order, until
  // one returns an error (which it returns). A child whose record does not parse is passed
  // over, as the listing does. kAborted for a folder of more pages than one call goes through.
  absl::Status ForEachChild(const std::string& user, const std::string& folder_id,
                            const std::function<absl::Status(const Located& child)>& visit);
  // A file entry that left the tree for good: its content and older versions go to garbage
  // and stop counting toward the quota.
  absl::Status ReleaseFile(const std::string& user, const pb::Entry& entry);
  absl::Status MoveToTrash(const std::string& user, const std::string& path, const Located& at);
  absl::Status PurgeItem(const std::string& user, const std::string& id, const std::string& raw);
  absl::StatusOr<uint64_t> SubtreeBytes(const std::string& user, const std::string& folder_id,
                                        int depth);
  // A lost folder on the way back from the trash is made again; returns the parent's id.
  absl::StatusOr<std::string> EnsureFolders(const std::string& user,
                                            const std::vector<std::string>& parts);
  int ExpireTrash(const std::string& user);

  // Versions (versions.cc). Files `old`, replaced at `now`, among the versions of
  // `file_id`; false if it was not kept (the caller then releases it). The versions this
  // pushes out go to garbage and their bytes are added to `*pruned_bytes`: the caller takes
  // them off the usage counter in the one charge it makes anyway.
  bool KeepVersion(const std::string& user, const std::string& file_id, const pb::Entry& old,
                   int64_t now, uint64_t* pruned_bytes);
  // Drops the versions of `file_id` beyond max_versions or retention; returns their bytes
  // (not yet taken off the usage counter).
  uint64_t PruneVersions(const std::string& user, const std::string& file_id, int64_t now);
  absl::Status PurgeVersions(const std::string& user, const std::string& file_id);
  int ExpireVersions(const std::string& user);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> VersionCells(
      const std::string& user, const std::string& file_id);

  // Name index (search.cc). Failures are logged, never fail the operation.
  void IndexPut(const std::string& user, const std::string& path, const pb::Entry& entry);
  // A file's or folder's name as the index holds it: the cells of its path's words, naming
  // the item (ItemId) they were written for.
  struct IndexedName {
    std::string path;
    std::string item_id;
  };
  // Removes the names' cells that still name their items: a cell rewritten meanwhile by an
  // upload that took the path after the item left is another item's, and stays.
  void IndexRemove(const std::string& user, const std::vector<IndexedName>& names);
  // The entry at `path` and, for a folder, everything inside.
  void IndexTree(const std::string& user, const std::string& path, const pb::Entry& entry,
                 bool add);
  // The names IndexTree would visit: read before a final delete, whose subtree is gone after
  // it, so that the cells are removed once the tree no longer holds the names.
  std::vector<IndexedName> TreeNames(const std::string& user, const std::string& path,
                                     const pb::Entry& entry);
  void WalkTree(const std::string& user, const std::string& path, const pb::Entry& entry, int depth,
                const std::function<void(const std::string&, const pb::Entry&)>& visit);
  // The destination of a move or copy of `src` (`verb` names it in errors): never inside
  // `src` itself; an existing entry there is an error unless `overwrite`, then deleted.
  absl::StatusOr<Located> ClearDestination(const std::string& user, const Located& src,
                                           const std::vector<std::string>& dst_parts,
                                           const std::string& to, bool overwrite, const char* verb);
  absl::Status DeleteFolderContents(const std::string& user, const std::string& folder_id,
                                    int depth);
  // Tells the MoveHook (if any) that `from` is about to become `to`; returns what to run
  // once the outcome is known (empty without a hook).
  absl::StatusOr<AfterMove> TellMoveHook(const std::string& user, const std::string& from,
                                         const std::string& to);
  // Move after its checks and hook: the tree's part. `*known` is false when the store left
  // the outcome unknown.
  absl::Status MoveLocated(const std::string& user, const Located& src,
                           const std::vector<std::string>& src_parts,
                           const std::vector<std::string>& dst_parts, const std::string& to,
                           bool overwrite, bool* known);
  // Called between a copy's steps (before each item, between the pieces of a file); an error
  // it returns stops the copy with that error. A long copy keeps its lease with it.
  using CopyPace = std::function<absl::Status()>;
  // `new_id`: the id a copied file gets ("" = a fresh one; folders get fresh ones).
  absl::Status CopyLocated(const std::string& from_user, const Located& from,
                           const std::string& to_user, const std::vector<std::string>& to,
                           int depth, const std::string& new_id = "",
                           const CopyPace& pace = nullptr);

  // For moves between two users' drives (cross_move.h; cross_move_steps.cc).
  // Copies what is still missing of `from_user`'s item at `from` to `to_user`'s `to`, where
  // the item is (or is made) with id `top_id`: run again after a crash, it goes on where the
  // last run stopped. kAlreadyExists if something else is at `to`. `pace` (required) runs
  // between its steps.
  absl::Status CopyMissing(const std::string& from_user, const std::vector<std::string>& from,
                           const std::string& to_user, const std::vector<std::string>& to,
                           const std::string& top_id, const CopyPace& pace);
  absl::Status CopyMissingLocated(const std::string& from_user, const Located& from,
                                  const std::string& to_user, const std::vector<std::string>& to,
                                  const std::string& id, int depth, const CopyPace& pace);
  // The id of the item at `path` (kNotFound if none).
  absl::StatusOr<std::string> IdAt(const std::string& user, const std::vector<std::string>& path);
  // Takes the item at `path`, if it holds `id`, into the trash as item `trash_id`: first
  // written there hidden, then out of the tree, then shown, so no crash can lose it. Run
  // again after a crash, it finishes. OK if the item is not there.
  absl::Status TrashForMove(const std::string& user, const std::vector<std::string>& path,
                            const std::string& id, const std::string& trash_id);
  absl::Status ShowTrashedForMove(const std::string& user, const std::string& id,
                                  const std::string& trash_id);
  // Whether a trash item other than `except_trash_id` holds the item `id`.
  absl::StatusOr<bool> TrashHolds(const std::string& user, const std::string& id,
                                  const std::string& except_trash_id);
  // Removes the item at `path` if it holds `id`, to the trash (or, `final`, for good); OK
  // if it is not there.
  absl::Status RemoveIfId(const std::string& user, const std::vector<std::string>& path,
                          const std::string& id, bool final);
  // Points the file at `path` to content `version` (already written) by compare-and-put,
  // keeping the replaced content as a version; done already if it points there. Used by
  // Upload::Commit and by resumable uploads (tus.h). `*outcome_unknown`: the store did not
  // say whether the switch happened, so the caller must keep the chunks.
  absl::StatusOr<EntryInfo> SwitchEntry(
      const std::string& user, const std::vector<std::string>& path, const std::string& version,
      uint64_t size, const UploadOptions& options,
      const std::optional<std::map<std::string, std::string>>& dead_props, bool* outcome_unknown);
  absl::Status ChargeUsage(const std::string& user, int64_t delta);
  absl::StatusOr<uint64_t> QuotaOf(const std::string& user);
  absl::Status AddGarbage(const std::string& user, const std::string& version, uint64_t size,
                          uint32_t chunk_bytes);
  absl::Status TouchPending(const std::string& user, const std::string& version);
  void DeleteChunks(const std::string& user, const std::string& version, uint64_t count);
  void ProbeDeleteChunks(const std::string& user, const std::string& version);
  void ScheduleCollection(const std::string& user);
  // A user's rows are looked at no more often than this: nothing in them becomes due
  // sooner than the garbage grace or the pending timeout after it was written.
  std::chrono::milliseconds CollectionInterval() const;
  void CollectorLoop();

  kvs::Client* kvs_;
  Options options_;

  std::mutex hook_mu_;
  MoveHook move_hook_;  // GUARDED_BY(hook_mu_)

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // GUARDED_BY(mu_): users whose garbage to collect
  std::set<std::string> queued_;   // GUARDED_BY(mu_)
  using CollectorTime = std::chrono::steady_clock::time_point;
  // Users to queue again at a time: garbage still in its grace, or a user collected too
  // recently (CollectionInterval) when a write asked again.
  std::map<std::string, CollectorTime> later_;           // GUARDED_BY(mu_)
  std::map<std::string, CollectorTime> last_collected_;  // GUARDED_BY(mu_), recent ones only
  bool stopping_ = false;                                // GUARDED_BY(mu_)
  std::thread collector_;
};

}  // namespace penncloud::drive
