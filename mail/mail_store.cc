#include "mail/mail_store.h"

#include <algorithm>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mail/chunks.h"
#include "mail/delivery_pool.h"
#include "mail/imap_message.h"
#include "mail/mime.h"
#include "mail/text.h"
#include "mail/thread.h"

namespace penncloud::mail {
namespace {

constexpr std::string_view kLockColumn = "lock/pop3";
constexpr int kCasAttempts = 16;  // bounded retries of a compare-and-put loop
constexpr int64_t kLongestEntryWriteMicros =
    std::chrono::duration_cast<std::chrono::microseconds>(kLongestEntryWrite).count();

std::string Preview(const ParsedMessage& parsed) {
  std::string text = parsed.text.empty() ? parsed.html : parsed.text;
  std::string out;
  bool space = false;
  for (char c : text) {
    if (out.size() >= 120) break;
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Removes the record of the MULTIAPPEND `record` from `state`; false if it was not there.
bool DropAppending(pb::FolderState& state, const pb::FolderState::Appending& record) {
  auto& appending = *state.mutable_appending();
  for (int i = 0; i < appending.size(); ++i) {
    if (appending[i].ids(0) == record.ids(0)) {  // ids are unique: the first names it
      appending.DeleteSubrange(i, 1);
      return true;
    }
  }
  return false;
}

}  // namespace

MessageFlags FlagsOf(const pb::MessageMeta& meta) {
  MessageFlags f;
  f.seen = meta.seen();
  f.answered = meta.answered();
  f.flagged = meta.flagged();
  f.deleted = meta.deleted();
  f.draft = meta.draft();
  f.keywords.assign(meta.keywords().begin(), meta.keywords().end());
  return f;
}

void SetFlags(const MessageFlags& flags, pb::MessageMeta* meta) {
  meta->set_seen(flags.seen);
  meta->set_answered(flags.answered);
  meta->set_flagged(flags.flagged);
  meta->set_deleted(flags.deleted);
  meta->set_draft(flags.draft);
  std::vector<std::string> keywords = flags.keywords;
  std::sort(keywords.begin(), keywords.end());
  keywords.erase(std::unique(keywords.begin(), keywords.end()), keywords.end());
  meta->clear_keywords();
  for (auto& k : keywords) meta->add_keywords(std::move(k));
}

bool IsFolder(std::string_view folder) {
  for (std::string_view known : kSystemFolders) {
    if (folder == known) return true;
  }
  return false;
}

std::string MailboxRow(std::string_view user) { return Cat("mail/", user); }
std::string BodyName(std::string_view user, std::string_view id) {
  return Cat("mailbody/", user, "/", id);
}

MailStore::MailStore(kvs::Client& kvs, std::function<int64_t()> now_micros)
    : kvs_(kvs),
      now_micros_(now_micros ? std::move(now_micros)
                             : [] { return absl::ToUnixMicros(absl::Now()); }),
      index_(kvs, now_micros_),
      uids_([this](std::string_view user, std::string_view folder,
                   const std::vector<std::string>& ids, const std::vector<std::string>& written,
                   const std::optional<pb::FolderState>& known) {
        return Reserve(user, folder, ids, written, known);
      }) {}

std::string MailStore::NewId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t inverted = ~static_cast<uint64_t>(now_micros_());
  return absl::StrFormat("%016x%016x", inverted, rng());
}

absl::StatusOr<pb::MessageMeta> MailStore::Add(std::string_view user, std::string_view folder,
                                               std::string_view source, bool seen) {
  MessageFlags flags;
  flags.seen = seen;
  return Add(user, folder, source, flags, 0);
}

absl::StatusOr<pb::MessageMeta> MailStore::Add(std::string_view user, std::string_view folder,
                                               std::string_view source, const MessageFlags& flags,
                                               int64_t received_micros) {
  if (!FolderExists(user, folder)) return absl::NotFoundError("no such folder");
  auto written = WriteSource(user, folder, {source, flags, received_micros});
  if (!written.ok()) return written.status();
  return InsertNew(user, folder, std::move(*written));
}

absl::StatusOr<std::vector<pb::MessageMeta>> MailStore::AddAll(
    std::string_view user, std::string_view folder, const std::vector<NewMessage>& messages) {
  if (!FolderExists(user, folder)) return absl::NotFoundError("no such folder");
  std::vector<pb::MessageMeta> added;
  if (messages.size() == 1) {  // one entry's write is all or none already
    auto one =
        Add(user, folder, messages[0].source, messages[0].flags, messages[0].received_micros);
    if (!one.ok()) return one.status();
    added.push_back(std::move(*one));
    return added;
  }
  // The sources first, all of them: the record below then covers only the entries' writes,
  // which take well under kLongestEntryWrite however large the messages are.
  std::vector<pb::MessageMeta> prepared;
  for (const NewMessage& m : messages) {
    auto written = WriteSource(user, folder, m);
    if (!written.ok()) {
      DiscardSources(user, prepared);
      return written.status();
    }
    prepared.push_back(std::move(*written));
  }
  pb::FolderState::Appending record;
  for (const pb::MessageMeta& m : prepared) record.add_ids(m.id());
  record.set_since_micros(now_micros_());
  auto opened = UpdateState(user, folder, [&](pb::FolderState& state) {
    *state.add_appending() = record;
    return true;
  });
  if (!opened.ok()) {
    DiscardSources(user, prepared);
    return opened.status();
  }
  absl::Status failed;
  size_t inserted = 0;
  for (; inserted < prepared.size(); ++inserted) {
    auto entry = InsertNew(user, folder, prepared[inserted]);
    if (!entry.ok()) {
      failed = entry.status();
      break;
    }
    added.push_back(std::move(*entry));
  }
  if (failed.ok()) {
    bool found = true;
    auto closed = UpdateState(user, folder, [&](pb::FolderState& state) {
      found = DropAppending(state, record);
      return found;
    });
    failed = !closed.ok() ? closed.status()
             : found      ? absl::OkStatus()
                          : absl::AbortedError("the append outlived its time and was undone");
  }
  if (failed.ok()) return added;
  // All or none: what was written goes, then the record (a crash in between leaves the rest
  // to the next reader).
  for (const pb::MessageMeta& m : added) (void)Remove(user, folder, m.id());
  DiscardSources(user, std::vector<pb::MessageMeta>(prepared.begin() + inserted, prepared.end()));
  (void)UpdateState(user, folder,
                    [&](pb::FolderState& state) { return DropAppending(state, record); });
  return failed;
}

absl::Status MailStore::RollBackAppend(std::string_view user, std::string_view folder,
                                       const pb::FolderState::Appending& record) {
  for (const std::string& id : record.ids()) {
    if (auto s = Remove(user, folder, id); !s.ok() && !absl::IsNotFound(s)) return s;
  }
  return UpdateState(user, folder,
                     [&](pb::FolderState& state) { return DropAppending(state, record); })
      .status();
}

void MailStore::DiscardSources(std::string_view user, const std::vector<pb::MessageMeta>& never) {
  for (const pb::MessageMeta& m : never) {
    (void)DeleteChunks(kvs_, BodyName(user, m.id()), m.chunks());
    if (indexing_) (void)index_.Remove(user, m.id());
  }
}

absl::StatusOr<pb::MessageMeta> MailStore::WriteSource(std::string_view user,
                                                       std::string_view folder,
                                                       const NewMessage& message) {
  const std::string_view source = message.source;
  const MessageFlags& flags = message.flags;
  ParsedMessage parsed = ParseMessage(source);
  pb::MessageMeta meta;
  meta.set_id(NewId());
  // Protobuf strings must be UTF-8, and 8-bit headers or a preview cut inside a character
  // need not be: stored as they are, the entry would not parse back.
  meta.set_from(ScrubUtf8(parsed.from));
  meta.set_to(ScrubUtf8(parsed.to));
  meta.set_cc(ScrubUtf8(parsed.cc));
  meta.set_subject(ScrubUtf8(parsed.subject));
  meta.set_date(ScrubUtf8(parsed.date));
  meta.set_received_micros(message.received_micros > 0 ? message.received_micros : now_micros_());
  meta.set_size(static_cast<int64_t>(source.size()));
  SetFlags(flags, &meta);
  meta.set_has_attachments(!parsed.attachments.empty());
  meta.set_preview(ScrubUtf8(Preview(parsed)));
  meta.set_message_id(ScrubUtf8(ThreadMessageId(parsed)));
  for (std::string& ref : ThreadReferences(parsed)) meta.add_references(ScrubUtf8(ref));
  KeepImapViews(source, &meta);

  // The index and the source before the entry: a message is searchable and complete from
  // the moment it can be seen. The two are independent, so they go out together and the
  // KVS client batches them; so do the index's check for a merge's claim (which must follow
  // the doc) and the UID. The UID comes last, just before the entry: the folder's cell
  // changes before its new entry exists, and watchers of that cell (IMAP IDLE, webmail's
  // events) look again only shortly after a change, so the gap must stay one write.
  int chunks = 0;
  auto written = RunTogether(2, [&](size_t part) -> absl::Status {
    if (part == 0) {
      return indexing_ ? index_.WriteDoc(user, meta.id(), folder, parsed, !flags.seen)
                       : absl::OkStatus();
    }
    auto n = WriteChunks(kvs_, BodyName(user, meta.id()), source);
    if (n.ok()) chunks = *n;
    return n.status();
  });
  if (!written.ok()) return written;
  meta.set_chunks(chunks);
  return meta;
}

absl::StatusOr<pb::MessageMeta> MailStore::InsertNew(std::string_view user, std::string_view folder,
                                                     pb::MessageMeta meta) {
  if (!indexing_) return Insert(user, folder, std::move(meta));
  const std::string id = meta.id();
  return Insert(user, folder, std::move(meta), [&] { return index_.MarkIfLate(user, id); });
}

absl::StatusOr<pb::MessageMeta> MailStore::Insert(std::string_view user, std::string_view folder,
                                                  pb::MessageMeta meta,
                                                  const std::function<absl::Status()>& alongside) {
  meta.set_folder(std::string(folder));
  const std::string column = MessageColumn(folder, meta.id());
  // A reader closes the column (a tombstone, "") of a write that took too long; the UID it
  // held is then given up, and the entry takes a new one.
  std::optional<std::string_view> expected;
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    absl::StatusOr<TakenUid> uid;
    auto taken = RunTogether(alongside && attempt == 0 ? 2 : 1, [&](size_t part) {
      if (part == 1) return alongside();
      uid = uids_.Take(user, folder, meta.id());
      return uid.status();
    });
    if (!taken.ok()) return taken;
    meta.set_uid(uid->uid);
    meta.set_modseq(uid->modseq);
    auto created = kvs_.CPut(MailboxRow(user), column, expected, meta.SerializeAsString());
    // Failed on the wire, the write may still land: the record stays until it is closed.
    if (!created.ok()) return created.status();
    uids_.Written(user, folder, meta.id());
    if (*created) return meta;
    auto current = kvs_.Get(MailboxRow(user), column);
    if (!current.ok()) return current.status();
    // 128 bits of time and randomness collided: refuse rather than lose either message.
    if (!current->empty()) return absl::AbortedError("message id collision");
    expected = "";
  }
  return absl::AbortedError("message entry closed at every attempt");
}

bool MailStore::MovedOutNow(std::string_view user, std::string_view folder, pb::MessageMeta& meta) {
  if (meta.moving_to().empty() ||
      now_micros_() - meta.moving_since_micros() <= kLongestEntryWriteMicros) {
    return false;
  }
  auto finished = FinishMove(user, folder, meta);
  if (absl::IsNotFound(finished.status())) {  // undone: its target folder is gone
    meta.clear_moving_to();
    meta.clear_moving_since_micros();
  }
  return finished.ok();
}

absl::StatusOr<ListPage> MailStore::List(std::string_view user, std::string_view folder,
                                         std::string_view cursor, int limit) {
  if (!IsFolder(folder) && !CheckUserFolderName(folder).ok()) {
    return absl::InvalidArgumentError("no such folder");
  }
  std::string prefix = FolderPrefix(folder);
  kvs::ListOptions options;
  options.after = cursor.empty() ? prefix : MessageColumn(folder, cursor);
  options.limit = limit;
  options.with_values = true;
  auto page = kvs_.List(MailboxRow(user), options);
  if (!page.ok()) return page.status();
  ListPage out;
  for (const kvs::Cell& cell : page->cells) {
    if (!std::string_view(cell.column).starts_with(prefix)) {  // past this folder
      out.next_cursor.clear();
      return out;
    }
    // A page may end in closed columns (mail_store.h), which are skipped but still paged.
    if (page->more) out.next_cursor = cell.column.substr(prefix.size());
    if (cell.value.empty()) continue;
    pb::MessageMeta meta;
    if (!meta.ParseFromString(cell.value)) return absl::DataLossError("bad mail index cell");
    if (MovedOutNow(user, folder, meta)) continue;
    out.messages.push_back(std::move(meta));
  }
  return out;
}

absl::StatusOr<std::vector<pb::MessageMeta>> MailStore::ListAll(std::string_view user,
                                                                std::string_view folder) {
  std::vector<pb::MessageMeta> all;
  std::string cursor;
  do {
    auto page = List(user, folder, cursor, 500);
    if (!page.ok()) return page.status();
    for (auto& m : page->messages) all.push_back(std::move(m));
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return all;
}

absl::StatusOr<pb::MessageMeta> MailStore::Entry(std::string_view user, std::string_view folder,
                                                 std::string_view id) {
  auto value = kvs_.Get(MailboxRow(user), MessageColumn(folder, id));
  if (!value.ok()) return value.status();
  if (value->empty()) return absl::NotFoundError("closed entry column");
  pb::MessageMeta meta;
  if (!meta.ParseFromString(*value)) return absl::DataLossError("bad mail index cell");
  return meta;
}

absl::StatusOr<pb::MessageMeta> MailStore::Find(std::string_view user, std::string_view id) {
  if (id.empty() || id.find('/') != std::string_view::npos) {
    return absl::NotFoundError("no such message");
  }
  // Most messages are in a system folder: those are looked at before the user's folders
  // are listed (the order Folders gives, so a message a crashed move left in two folders
  // is found in the same one either way).
  for (std::string_view folder : kSystemFolders) {
    auto meta = Entry(user, folder, id);
    if (meta.ok() || !absl::IsNotFound(meta.status())) return meta;
  }
  auto folders = Folders(user);
  if (!folders.ok()) return folders.status();
  for (const std::string& folder : *folders) {
    if (IsFolder(folder)) continue;  // looked at above
    auto meta = Entry(user, folder, id);
    if (meta.ok() || !absl::IsNotFound(meta.status())) return meta;
  }
  return absl::NotFoundError("no such message");
}

absl::StatusOr<std::string> MailStore::Source(std::string_view user, const pb::MessageMeta& meta) {
  return ReadChunks(kvs_, BodyName(user, meta.id()), meta.chunks());
}

void MailStore::StartSource(std::string_view user, const pb::MessageMeta& meta,
                            std::function<void(kvs::StartedGet)> done) {
  StartReadChunks(kvs_, BodyName(user, meta.id()), meta.chunks(), std::move(done));
}

absl::Status MailStore::SetSeen(std::string_view user, std::string_view id, bool seen) {
  auto meta = Find(user, id);
  if (!meta.ok()) return meta.status();
  return UpdateFlags(user, meta->folder(), id, [seen](MessageFlags& f) { f.seen = seen; }).status();
}

absl::StatusOr<pb::MessageMeta> MailStore::UpdateFlags(
    std::string_view user, std::string_view folder, std::string_view id,
    const std::function<void(MessageFlags&)>& change, const pb::MessageMeta* read) {
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    const bool as_read = attempt == 0 && read != nullptr;
    auto meta = as_read ? absl::StatusOr<pb::MessageMeta>(*read) : Entry(user, folder, id);
    if (!meta.ok()) return meta.status();
    MessageFlags flags = FlagsOf(*meta);
    change(flags);
    pb::MessageMeta changed = *meta;
    SetFlags(flags, &changed);
    if (changed.SerializeAsString() == meta->SerializeAsString()) {
      if (as_read) continue;  // "nothing to change" is only known of the cell as it is now
      return *meta;
    }
    const bool to_unread = meta->seen() && !changed.seen();
    const bool to_read = !meta->seen() && changed.seen();
    // The unread key is a superset of the unread messages (search_index.h): written before
    // and after a change to unread, dropped only after a change to read.
    if (to_unread) {
      if (auto s = index_.PutUnread(user, id); !s.ok()) return s;
    }
    auto state = Advance(user, folder, /*new_uid=*/false, id);
    if (!state.ok()) return state.status();
    changed.set_modseq(state->highest_modseq());
    auto done = kvs_.CPut(MailboxRow(user), MessageColumn(folder, id), meta->SerializeAsString(),
                          changed.SerializeAsString());
    // Failed on the wire, the write may still land: the record stays until it is closed.
    if (!done.ok()) return done.status();
    ChangeSettled(user, folder, changed.modseq());
    if (!*done) continue;
    absl::Status indexed;
    if (to_unread) indexed = index_.PutUnread(user, id);
    if (to_read) {
      indexed = index_.DropUnread(user, id, [&] {
        auto now = Entry(user, folder, id);
        return !now.ok() || !now->seen();
      });
    }
    if (!indexed.ok()) return indexed;
    return changed;
  }
  return absl::AbortedError("message changed concurrently");
}

absl::StatusOr<pb::MessageMeta> MailStore::Move(std::string_view user, std::string_view id,
                                                std::string_view folder) {
  if (!FolderExists(user, folder)) return absl::NotFoundError("no such folder");
  auto meta = Find(user, id);
  if (!meta.ok()) return meta.status();
  if (meta->folder() == folder) return *meta;
  // The mark first: from then on the move is finished, by this call or after a crash by
  // the next look at the old folder (View), never left half done.
  const std::string from = meta->folder();
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    if (attempt > 0) meta = Entry(user, from, id);  // its flags changed meanwhile
    if (!meta.ok()) return meta.status();
    pb::MessageMeta marked = *meta;
    marked.set_moving_to(std::string(folder));
    marked.set_moving_since_micros(now_micros_());
    auto done = kvs_.CPut(MailboxRow(user), MessageColumn(from, id), meta->SerializeAsString(),
                          marked.SerializeAsString());
    if (!done.ok()) return done.status();
    if (*done) return FinishMove(user, from, marked);
  }
  return absl::AbortedError("message changed concurrently");
}

absl::StatusOr<pb::MessageMeta> MailStore::FinishMove(std::string_view user, std::string_view from,
                                                      const pb::MessageMeta& marked) {
  const std::string& to = marked.moving_to();
  const std::string& id = marked.id();
  pb::MessageMeta moved = marked;
  moved.clear_moving_to();
  moved.clear_moving_since_micros();
  if (!FolderExists(user, to)) {  // deleted meanwhile: the message stays where it was
    moved.set_folder(std::string(from));
    auto undone = kvs_.CPut(MailboxRow(user), MessageColumn(from, id), marked.SerializeAsString(),
                            moved.SerializeAsString());
    if (!undone.ok()) return undone.status();
    return absl::NotFoundError("no such folder");
  }
  // New entry first, old one second: a crash in between lists the message in both folders
  // until the old one's mark is found.
  if (auto there = Entry(user, to, id); there.ok()) {
    moved = *there;
  } else if (absl::IsNotFound(there.status())) {
    auto inserted = Insert(user, to, moved);
    if (!inserted.ok()) return inserted.status();
    moved = *inserted;
  } else {
    return there.status();
  }
  if (auto s = index_.SetFolder(user, id, to); !s.ok()) return s;
  auto s = kvs_.Delete(MailboxRow(user), MessageColumn(from, id));
  if (!s.ok()) return s;
  if (auto bumped = Advance(user, from, false); !bumped.ok()) return bumped.status();
  return moved;
}

absl::StatusOr<pb::MessageMeta> MailStore::Copy(std::string_view user, const pb::MessageMeta& meta,
                                                std::string_view folder) {
  if (!FolderExists(user, folder)) return absl::NotFoundError("no such folder");
  auto source = Source(user, meta);
  if (!source.ok()) return source.status();
  pb::MessageMeta copy = meta;
  copy.set_id(NewId());
  // An entry from before envelopes and body structures were kept gets them while its source
  // is at hand.
  if (!copy.has_envelope() || copy.body_structure().empty()) KeepImapViews(*source, &copy);
  if (indexing_) {
    auto s = index_.Add(user, copy.id(), folder, ParseMessage(*source), !copy.seen());
    if (!s.ok()) return s;
  }
  auto chunks = WriteChunks(kvs_, BodyName(user, copy.id()), *source);
  if (!chunks.ok()) return chunks.status();
  copy.set_chunks(*chunks);
  return Insert(user, folder, std::move(copy));
}

absl::Status MailStore::Remove(std::string_view user, std::string_view id) {
  auto meta = Find(user, id);
  if (!meta.ok()) return meta.status();
  return Remove(user, meta->folder(), id);
}

absl::Status MailStore::Remove(std::string_view user, std::string_view folder,
                               std::string_view id) {
  auto meta = Entry(user, folder, id);
  if (!meta.ok()) return meta.status();
  auto s = kvs_.Delete(MailboxRow(user), MessageColumn(folder, id));
  if (!s.ok()) return s;
  if (auto bumped = Advance(user, folder, false); !bumped.ok()) return bumped.status();
  auto folders = Folders(user);
  if (!folders.ok()) return folders.status();
  return Release(user, *meta, *folders);
}

absl::Status MailStore::Release(std::string_view user, const pb::MessageMeta& gone,
                                const std::vector<std::string>& folders) {
  // The entry is already gone, so a crash from here on leaves at worst a source nobody
  // lists; a failed look-up keeps the source, since another entry may still read it.
  for (const std::string& folder : folders) {
    auto other = Entry(user, folder, gone.id());
    // The search document names one folder; the removed entry's may have been that one.
    if (other.ok()) return index_.SetFolder(user, gone.id(), folder);
    if (!absl::IsNotFound(other.status())) return other.status();
  }
  if (auto s = DeleteChunks(kvs_, BodyName(user, gone.id()), gone.chunks()); !s.ok()) return s;
  return index_.Remove(user, gone.id());
}

absl::StatusOr<int> MailStore::CountUnread(std::string_view user, std::string_view folder) {
  auto all = ListAll(user, folder);
  if (!all.ok()) return all.status();
  int unread = 0;
  for (const auto& m : *all) unread += m.seen() ? 0 : 1;
  return unread;
}

absl::StatusOr<bool> MailStore::Lock(std::string_view user, std::string_view owner,
                                     int64_t lease_micros) {
  std::string mine = Cat(owner, " ", now_micros_() + lease_micros);
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto current = kvs_.Get(MailboxRow(user), kLockColumn);
    std::optional<std::string> expected;
    if (current.ok()) {
      size_t space = current->find(' ');
      int64_t expiry = 0;
      bool live = space != std::string::npos &&
                  absl::SimpleAtoi(current->substr(space + 1), &expiry) && expiry > now_micros_();
      if (live && current->substr(0, space) != owner) return false;
      expected = *current;
    } else if (!absl::IsNotFound(current.status())) {
      return current.status();
    }
    std::optional<std::string_view> expected_view;
    if (expected) expected_view = *expected;
    auto done = kvs_.CPut(MailboxRow(user), kLockColumn, expected_view, mine);
    if (!done.ok()) return done.status();
    if (*done) return true;
  }
  return false;
}

absl::Status MailStore::Unlock(std::string_view user, std::string_view owner) {
  auto current = kvs_.Get(MailboxRow(user), kLockColumn);
  if (absl::IsNotFound(current.status())) return absl::OkStatus();
  if (!current.ok()) return current.status();
  if (!std::string_view(*current).starts_with(Cat(owner, ' '))) return absl::OkStatus();
  // Only the exact value we read is removed, so a lease taken over meanwhile survives.
  auto done = kvs_.CPut(MailboxRow(user), kLockColumn, *current, "");
  if (!done.ok()) return done.status();
  return absl::OkStatus();
}

}  // namespace penncloud::mail
