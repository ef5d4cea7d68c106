// The mailbox store: every user's folders and messages, shared by webmail, SMTP and POP3.
//
// Layout in the key-value store:
//   row "mail/<user>"            the mailbox index, one row so a user's listing is one group
//     column "<folder>/<id>"     pb::MessageMeta of one message (folder: kSystemFolders)
//     column "~<name>/<id>"      the same, in user folder <name> ('%' and '/' %-escaped)
//     column "box/<folder>"      pb::FolderState: IMAP's UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ
//     column "lock/pop3"         "<owner> <expiry micros>": the POP3 session holding the box
//   rows "mailbody/<user>/<id>/<n>", column "c"   the RFC 5322 source, in ~1 MiB chunks
//
// Each message is its own cell with a fresh unique id, created with CPUT(absent), so
// concurrent deliveries never overwrite each other; changes to one message's entry are
// CPUT loops, never blind read-modify-writes. Ids sort newest first: they begin with the
// inverted arrival time, followed by random bits.
//
// Adding writes the body chunks and the search index first (at once: they are
// independent), then takes the folder's next UID and writes the index cell last: once Add
// returns OK the message is durable and visible; if it fails, nothing is visible.
//
// Folders: the five system folders always exist; user folders ("Work", "Work/2026"; '/'
// separates levels) exist while their "box/" cell does. Every change to a folder's
// messages first takes a change number (and, for a new entry, a UID) from that cell with
// compare-and-put, so a UID is never reused even if the writer dies before the entry is
// written (the UID is then simply skipped).
//
// Since the numbers come before the entry, two deliveries can take UIDs 3 and 4 and write 4
// first. A client that saw 4 fetches only above it from then on (UID FETCH 5:*, CHANGEDSINCE
// the HIGHESTMODSEQ it was told), so 3 must not be shown after 4: what IMAP shows of a folder
// is View, a prefix. The cell records each UID taken (FolderState.reserved) until its entry
// is written; View shows no entry at or above a recorded UID whose entry is not listed, and
// reports UIDNEXT and HIGHESTMODSEQ below it. A record older than kLongestEntryWrite is
// closed by the first reader (or batch of UIDs) that finds it so: a tombstone (an empty
// value) is created in the entry's column if absent, and the writer, whose create-if-absent
// then fails, takes a new UID. A writer that died holds its folder back that long at most.
// Tombstones stay (one per dead writer); List and Entry never return them.
//
// Every change also keeps the user's full-text index (search_index.h) in step: the index is
// written before a message appears and cleared after it is gone, so a search never misses
// a visible message; what a crash leaves over is checked away by each query (search.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "mail/mail_store_uids.h"
#include "mail/search_index.h"
#include "proto/mail.pb.h"

namespace penncloud::mail {

inline constexpr std::string_view kInbox = "inbox";
inline constexpr std::string_view kSent = "sent";
inline constexpr std::string_view kTrash = "trash";
inline constexpr std::string_view kDrafts = "drafts";
inline constexpr std::string_view kJunk = "junk";  // quarantined mail (DMARC, spam)
// The folders every mailbox has, in the order clients list them.
inline constexpr std::string_view kSystemFolders[] = {kInbox, kSent, kDrafts, kTrash, kJunk};
bool IsFolder(std::string_view folder);  // a system folder
// Refuses (kInvalidArgument) a user folder name that is empty, too long or too deep, has an
// empty level, control characters, or names a system folder.
absl::Status CheckUserFolderName(std::string_view name);

// What a message's entry says beyond its content: IMAP's flags and keywords.
struct MessageFlags {
  bool seen = false, answered = false, flagged = false, deleted = false, draft = false;
  std::vector<std::string> keywords;
};
MessageFlags FlagsOf(const pb::MessageMeta& meta);
void SetFlags(const MessageFlags& flags, pb::MessageMeta* meta);

// How long an entry's writer may take between taking its numbers and writing the entry.
inline constexpr std::chrono::seconds kLongestEntryWrite{15};

// A folder as IMAP may show it (MailStore::View): the entries below the lowest UID that
// may still be written, and the counters of that prefix.
struct FolderView {
  pb::FolderState state;                  // uid_next and highest_modseq stop below a pending entry
  std::vector<pb::MessageMeta> messages;  // by UID, all below state.uid_next
  // An entry was pending: the view grows when it is written, which changes no counter.
  bool pending = false;
};

// A message to store (MailStore::AddAll): its source, flags and arrival time (0 = now).
struct NewMessage {
  std::string_view source;
  MessageFlags flags;
  int64_t received_micros = 0;
};

struct ListPage {
  std::vector<pb::MessageMeta> messages;  // newest first
  std::string next_cursor;                // "" when this is the last page
};

class MailStore {
 public:
  // `now_micros` is the clock (Unix epoch, microseconds); tests pass their own.
  explicit MailStore(kvs::Client& kvs, std::function<int64_t()> now_micros = nullptr);

  // Stores a message's source in a folder. The listing fields and IMAP's envelope are parsed
  // from the source.
  absl::StatusOr<pb::MessageMeta> Add(std::string_view user, std::string_view folder,
                                      std::string_view source, bool seen);
  // The same with every flag, and the arrival time IMAP APPEND may give (0 = now).
  absl::StatusOr<pb::MessageMeta> Add(std::string_view user, std::string_view folder,
                                      std::string_view source, const MessageFlags& flags,
                                      int64_t received_micros);

  // Stores several messages in a folder, all or none (IMAP MULTIAPPEND, RFC 3502), in
  // order. The sources are written first, then the folder's cell records the batch
  // (FolderState.appending), then the entries, then the record goes. A failure removes the
  // entries written; a crash leaves the record, and the first View that finds it older than
  // kLongestEntryWrite removes them.
  absl::StatusOr<std::vector<pb::MessageMeta>> AddAll(std::string_view user,
                                                      std::string_view folder,
                                                      const std::vector<NewMessage>& messages);

  absl::StatusOr<ListPage> List(std::string_view user, std::string_view folder,
                                std::string_view cursor, int limit);
  absl::StatusOr<std::vector<pb::MessageMeta>> ListAll(std::string_view user,
                                                       std::string_view folder);

  // The entry of message `id`, in whichever folder it is (the system folders first, in
  // kSystemFolders order, then the user's); kNotFound if none.
  absl::StatusOr<pb::MessageMeta> Find(std::string_view user, std::string_view id);
  // The entry of message `id` in `folder`; kNotFound if it is not there.
  absl::StatusOr<pb::MessageMeta> Entry(std::string_view user, std::string_view folder,
                                        std::string_view id);
  absl::StatusOr<std::string> Source(std::string_view user, const pb::MessageMeta& meta);
  // Starts reading the source holding no thread (StartReadChunks): `done` gets it, its
  // error, or std::nullopt when the caller must call Source instead.
  void StartSource(std::string_view user, const pb::MessageMeta& meta,
                   std::function<void(kvs::StartedGet)> done);

  absl::Status SetSeen(std::string_view user, std::string_view id, bool seen);
  // Changes the flags of message `id` in `folder` with `change`, taking a new change number;
  // returns the entry as written (unchanged, without a new number, if `change` left it so).
  // `read`, if given, is the entry as the caller just read it: the first compare-and-put
  // expects it instead of reading the cell again (a stale one only costs that attempt).
  absl::StatusOr<pb::MessageMeta> UpdateFlags(std::string_view user, std::string_view folder,
                                              std::string_view id,
                                              const std::function<void(MessageFlags&)>& change,
                                              const pb::MessageMeta* read = nullptr);
  // Moves keep the id (and the source); the entry gets a UID of the new folder. The entry
  // is first marked as moving (pb::MessageMeta::moving_to), then written in the new folder,
  // then removed from the old one: a move cut short by a crash is finished by the next
  // listing of the old folder (List: IMAP's View, webmail, POP3) once the mark is older than
  // kLongestEntryWrite (or undone if the new folder is gone), so it ends whole or not at all.
  absl::StatusOr<pb::MessageMeta> Move(std::string_view user, std::string_view id,
                                       std::string_view folder);
  // A copy is a new message (new id, its own source) with the same flags and arrival time.
  absl::StatusOr<pb::MessageMeta> Copy(std::string_view user, const pb::MessageMeta& meta,
                                       std::string_view folder);
  // Deletes the message's entry for good (POP3 DELE at QUIT, emptying Trash, IMAP EXPUNGE),
  // from whichever folder Find names; the overload removes the entry in `folder`. The source
  // and search document go with the last entry of the id: a move cut short by a crash lists
  // one message in two folders, both entries reading the one source.
  absl::Status Remove(std::string_view user, std::string_view id);
  absl::Status Remove(std::string_view user, std::string_view folder, std::string_view id);

  // --- folders (mail_folders.cc) ---
  // The system folders, then the user's folders in name order.
  absl::StatusOr<std::vector<std::string>> Folders(std::string_view user);
  bool FolderExists(std::string_view user, std::string_view folder);
  // A folder's counters; a system folder's are created on first use. kNotFound if none.
  absl::StatusOr<pb::FolderState> State(std::string_view user, std::string_view folder);
  // A folder's messages in UID order; entries from before UIDs get theirs now, oldest first.
  absl::StatusOr<std::vector<pb::MessageMeta>> Mailbox(std::string_view user,
                                                       std::string_view folder);
  // The prefix of the folder that no entry still being written can join below (see above);
  // closes the records of writers that took longer than kLongestEntryWrite. Without
  // `with_messages` the entries are listed only if some UID is still recorded as taken.
  absl::StatusOr<FolderView> View(std::string_view user, std::string_view folder,
                                  bool with_messages = true);
  // Creates a user folder and any missing parents; kAlreadyExists if it exists.
  absl::Status CreateFolder(std::string_view user, std::string_view name);
  // Deletes a user folder and every message in it; refused while it has subfolders.
  absl::Status DeleteFolder(std::string_view user, std::string_view name);
  // Renames a user folder and its subfolders; their messages move (new UIDs, new
  // UIDVALIDITY, as RFC 9051 6.3.6 allows). A rename cut short by a crash leaves both names,
  // and the same call again finishes it; another target is refused until then
  // (kFailedPrecondition).
  absl::Status RenameFolder(std::string_view user, std::string_view from, std::string_view to);
  absl::Status SetSubscribed(std::string_view user, std::string_view folder, bool subscribed);

  absl::StatusOr<int> CountUnread(std::string_view user, std::string_view folder);

  // An exclusive lease on the mailbox for one POP3 session (RFC 1939 asks for one at a
  // time). Returns false if another live owner holds it.
  absl::StatusOr<bool> Lock(std::string_view user, std::string_view owner, int64_t lease_micros);
  absl::Status Unlock(std::string_view user, std::string_view owner);

  SearchIndex& index() { return index_; }
  // For stress_test/mail_search_bench only, to measure what indexing costs: Add and Copy
  // skip the index, so what they store is not searchable.
  void SkipIndexingForBenchmark() { indexing_ = false; }

 private:
  std::string NewId();
  // Takes the folder's next change number, and a UID if `new_uid`, by compare-and-put. With
  // `changing_id`, the number is for a change of that message's entry, still to be written:
  // the same write records it (FolderState.reserved, uid 0) so readers report HIGHESTMODSEQ
  // below it meanwhile.
  absl::StatusOr<pb::FolderState> Advance(std::string_view user, std::string_view folder,
                                          bool new_uid, std::string_view changing_id = {});
  // Drops from `state` the records `written` names, and closes those older than
  // kLongestEntryWrite.
  absl::Status DropSettled(std::string_view user, std::string_view folder, pb::FolderState& state,
                           const std::function<bool(const pb::FolderState::Reservation&)>& written);
  // Advances the folder's cell by a UID and change number per id (UidBatcher::Reserve).
  absl::StatusOr<pb::FolderState> Reserve(std::string_view user, std::string_view folder,
                                          const std::vector<std::string>& ids,
                                          const std::vector<std::string>& written,
                                          const std::optional<pb::FolderState>& known);
  // Closes the column of `id`'s entry in `folder` to a writer that took too long, if the
  // entry is not there; returns whether no entry of that column can appear any more (false:
  // it was written meanwhile).
  absl::StatusOr<bool> CloseEntry(std::string_view user, std::string_view folder,
                                  std::string_view id);
  // Closes a change number recorded for an existing entry to a writer that took too long: the
  // entry takes that number itself, flags unchanged, so the late compare-and-put fails and
  // takes a new one. Returns whether no write of that number can land any more (false: it
  // was written meanwhile); `closed`, if given, gets the entry as it now stands.
  absl::StatusOr<bool> CloseChange(std::string_view user, std::string_view folder,
                                   const pb::FolderState::Reservation& record,
                                   pb::MessageMeta* closed = nullptr);
  // A flag change's number is written into its entry, or its write failed for good: the
  // next Advance of the folder drops its record.
  void ChangeSettled(std::string_view user, std::string_view folder, uint64_t modseq);
  // Mailbox, saying whether it gave entries from before UIDs theirs.
  absl::StatusOr<std::vector<pb::MessageMeta>> Mailbox(std::string_view user,
                                                       std::string_view folder, bool* numbered);
  // Writes `meta` as a new entry of `folder` with a fresh UID and change number; runs
  // `alongside` (if given) while the UID is taken, and writes nothing if it fails.
  absl::StatusOr<pb::MessageMeta> Insert(std::string_view user, std::string_view folder,
                                         pb::MessageMeta meta,
                                         const std::function<absl::Status()>& alongside = {});
  // Parses a new message into its entry (id, listing fields, IMAP's views) and writes its
  // source and search document; the entry is still to be inserted (InsertNew).
  absl::StatusOr<pb::MessageMeta> WriteSource(std::string_view user, std::string_view folder,
                                              const NewMessage& message);
  // Insert, with the search index told the document's entry is coming.
  absl::StatusOr<pb::MessageMeta> InsertNew(std::string_view user, std::string_view folder,
                                            pb::MessageMeta meta);
  // Deletes the sources and search documents of entries that will never be written.
  void DiscardSources(std::string_view user, const std::vector<pb::MessageMeta>& never);
  // Removes the entries of a MULTIAPPEND whose writer died, then its record.
  absl::Status RollBackAppend(std::string_view user, std::string_view folder,
                              const pb::FolderState::Appending& record);
  // Applies `change` to the folder's cell by compare-and-put, reading it again after each
  // miss; `change` returns false to leave the cell as it is. Returns the cell as left.
  absl::StatusOr<pb::FolderState> UpdateState(std::string_view user, std::string_view folder,
                                              const std::function<bool(pb::FolderState&)>& change);
  absl::StatusOr<pb::FolderState> NewState(std::string_view user, std::string_view folder);
  // Takes `marked` (its entry in `from`, marked as moving) to its target folder: writes the
  // entry there unless it is, then deletes it from `from`; if the target is gone, clears
  // the mark instead.
  absl::StatusOr<pb::MessageMeta> FinishMove(std::string_view user, std::string_view from,
                                             const pb::MessageMeta& marked);
  // Whether `meta`, listed in `folder`, left it just now: a move out that a crash cut short
  // (its mark older than kLongestEntryWrite) is finished by whoever lists the folder, so
  // webmail and POP3 repair it as IMAP does. One that fails now is tried at the next look;
  // one undone (its target gone) has its mark cleared in `meta` too.
  bool MovedOutNow(std::string_view user, std::string_view folder, pb::MessageMeta& meta);
  // Moves the tree of `from`, already marked as renaming to `to`, and removes the mark last.
  absl::Status FinishRename(std::string_view user, std::string_view from, std::string_view to);
  // Called after the entry `gone` was deleted: deletes its source and search document if no
  // entry of its id is left in `folders`, else points the index at a remaining entry.
  absl::Status Release(std::string_view user, const pb::MessageMeta& gone,
                       const std::vector<std::string>& folders);

  kvs::Client& kvs_;
  std::function<int64_t()> now_micros_;
  SearchIndex index_;
  UidBatcher uids_;
  bool indexing_ = true;
  std::mutex settled_mu_;
  // By user '\0' folder: the change numbers ChangeSettled was given since that folder's last
  // Advance here.
  std::map<std::string, std::vector<uint64_t>> settled_changes_;  // GUARDED_BY(settled_mu_)
};

std::string MailboxRow(std::string_view user);
// The index column of message `id` in `folder`, and the prefix all of that folder's share.
std::string MessageColumn(std::string_view folder, std::string_view id);
std::string FolderPrefix(std::string_view folder);
std::string BodyName(std::string_view user, std::string_view id);

}  // namespace penncloud::mail
