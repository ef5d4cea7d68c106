// MailStore's folders: names, the per-folder IMAP counters, and creating, renaming and
// deleting user folders (see mail_store.h for the layout).
#include <algorithm>
#include <map>
#include <random>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mail/mail_store.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

constexpr std::string_view kStatePrefix = "box/";
constexpr int kCasAttempts = 16;
// Every delivery, flag change and expunge in a folder advances its one counter cell, so
// parallel deliveries into one inbox contend there. They back off for a random, growing
// while between attempts (up to ~64 ms, a few seconds in all), which spreads the
// contenders out instead of failing the ones that lose 16 times in a row.
constexpr int kAdvanceAttempts = 64;

void BackOff(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int ceiling_ms = 1 << std::min(attempt, 6);
  absl::SleepFor(absl::Microseconds(std::uniform_int_distribution<int>(0, ceiling_ms * 1000)(rng)));
}
constexpr int64_t kLongestEntryWriteMicros =
    std::chrono::duration_cast<std::chrono::microseconds>(kLongestEntryWrite).count();
constexpr size_t kMaxFolderNameBytes = 200;
// Bounds on the settled change numbers remembered for the next Advance (ChangeSettled).
constexpr size_t kMaxFoldersRemembered = 10'000;
constexpr size_t kMaxSettledRemembered = 1'000;
constexpr int kMaxFolderDepth = 8;

std::string StateColumn(std::string_view folder) { return Cat(kStatePrefix, folder); }

// '%' and '/' escaped, so "A" and "A/B" never share a column prefix.
std::string Escape(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

absl::Status CheckUserFolderName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFolderNameBytes) {
    return absl::InvalidArgumentError("folder names are 1 to 200 bytes");
  }
  if (!IsValidUtf8(name)) return absl::InvalidArgumentError("folder names are UTF-8");
  int depth = 1;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("folder names have no control characters");
    }
    depth += c == '/' ? 1 : 0;
  }
  if (depth > kMaxFolderDepth) return absl::InvalidArgumentError("folders nest 8 levels at most");
  if (name.front() == '/' || name.back() == '/' || name.find("//") != std::string_view::npos) {
    return absl::InvalidArgumentError("folder names have no empty level");
  }
  for (std::string_view system : kSystemFolders) {
    if (EqualsIgnoreCase(name, system)) {
      return absl::InvalidArgumentError("that name belongs to a system folder");
    }
  }
  return absl::OkStatus();
}

std::string MessageColumn(std::string_view folder, std::string_view id) {
  return Cat(FolderPrefix(folder), id);
}

std::string FolderPrefix(std::string_view folder) {
  if (IsFolder(folder)) return Cat(folder, "/");  // the layout from before user folders
  return Cat("~", Escape(folder), "/");
}

absl::StatusOr<std::vector<std::string>> MailStore::Folders(std::string_view user) {
  std::vector<std::string> out(std::begin(kSystemFolders), std::end(kSystemFolders));
  kvs::ListOptions options;
  options.after = std::string(kStatePrefix);
  options.limit = 500;
  while (true) {
    auto page = kvs_.List(MailboxRow(user), options);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      std::string_view column = cell.column;
      if (!column.starts_with(kStatePrefix)) return out;
      std::string name(column.substr(kStatePrefix.size()));
      if (!IsFolder(name)) out.push_back(std::move(name));
    }
    if (!page->more || page->cells.empty()) return out;
    options.after = page->cells.back().column;
  }
}

bool MailStore::FolderExists(std::string_view user, std::string_view folder) {
  if (IsFolder(folder)) return true;
  if (!CheckUserFolderName(folder).ok()) return false;
  return kvs_.Get(MailboxRow(user), StateColumn(folder)).ok();
}

absl::StatusOr<pb::FolderState> MailStore::NewState(std::string_view user,
                                                    std::string_view folder) {
  pb::FolderState state;
  // Seconds since the epoch: a folder deleted and created again gets a larger value.
  state.set_uid_validity(static_cast<uint32_t>(now_micros_() / 1'000'000));
  state.set_uid_next(1);
  state.set_highest_modseq(1);
  state.set_subscribed(true);
  auto created =
      kvs_.CPut(MailboxRow(user), StateColumn(folder), std::nullopt, state.SerializeAsString());
  if (!created.ok()) return created.status();
  if (!*created) return absl::AlreadyExistsError("folder exists");
  return state;
}

absl::StatusOr<pb::FolderState> MailStore::State(std::string_view user, std::string_view folder) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto value = kvs_.Get(MailboxRow(user), StateColumn(folder));
    if (value.ok()) {
      pb::FolderState state;
      if (!state.ParseFromString(*value)) return absl::DataLossError("bad folder state cell");
      return state;
    }
    if (!absl::IsNotFound(value.status())) return value.status();
    if (!IsFolder(folder)) return absl::NotFoundError("no such folder");
    auto created = NewState(user, folder);
    if (created.ok() || !absl::IsAlreadyExists(created.status())) return created;
  }
  return absl::AbortedError("folder state changed concurrently");
}

absl::StatusOr<pb::FolderState> MailStore::Advance(std::string_view user, std::string_view folder,
                                                   bool new_uid, std::string_view changing_id) {
  const std::string key = Cat(user, std::string_view("\0", 1), folder);
  std::vector<uint64_t> settled;
  {
    std::lock_guard lock(settled_mu_);
    if (auto it = settled_changes_.find(key); it != settled_changes_.end()) settled = it->second;
  }
  for (int attempt = 0; attempt < kAdvanceAttempts; ++attempt) {
    if (attempt > 0) BackOff(attempt);
    auto state = State(user, folder);
    if (!state.ok()) return state.status();
    std::string old = state->SerializeAsString();
    auto dropped = DropSettled(user, folder, *state, [&](const pb::FolderState::Reservation& r) {
      return r.uid() == 0 && std::find(settled.begin(), settled.end(), r.modseq()) != settled.end();
    });
    if (!dropped.ok()) return dropped;
    if (new_uid) {
      if (state->uid_next() == UINT32_MAX) return absl::ResourceExhaustedError("UIDs used up");
      state->set_uid_next(state->uid_next() + 1);
    }
    state->set_highest_modseq(state->highest_modseq() + 1);
    if (!changing_id.empty()) {
      auto* r = state->add_reserved();
      r->set_modseq(state->highest_modseq());
      r->set_id(std::string(changing_id));
      r->set_taken_micros(now_micros_());
    }
    auto done = kvs_.CPut(MailboxRow(user), StateColumn(folder), old, state->SerializeAsString());
    if (!done.ok()) return done.status();
    if (!*done) continue;
    if (!settled.empty()) {
      std::lock_guard lock(settled_mu_);
      auto it = settled_changes_.find(key);
      if (it != settled_changes_.end()) {
        std::erase_if(it->second, [&](uint64_t m) {
          return std::find(settled.begin(), settled.end(), m) != settled.end();
        });
        if (it->second.empty()) settled_changes_.erase(it);
      }
    }
    return state;
  }
  return absl::AbortedError("folder changed concurrently");
}

void MailStore::ChangeSettled(std::string_view user, std::string_view folder, uint64_t modseq) {
  std::lock_guard lock(settled_mu_);
  // Bounded: a folder this process no longer changes keeps its last few records until a
  // reader, which lists the entries, drops them.
  if (settled_changes_.size() >= kMaxFoldersRemembered) settled_changes_.clear();
  auto& settled = settled_changes_[Cat(user, std::string_view("\0", 1), folder)];
  if (settled.size() < kMaxSettledRemembered) settled.push_back(modseq);
}

absl::Status MailStore::DropSettled(
    std::string_view user, std::string_view folder, pb::FolderState& state,
    const std::function<bool(const pb::FolderState::Reservation&)>& written) {
  auto& reserved = *state.mutable_reserved();
  for (int i = reserved.size(); i-- > 0;) {
    const auto& r = reserved[i];
    bool drop = written(r);
    if (!drop && now_micros_() - r.taken_micros() > kLongestEntryWriteMicros) {
      auto closed = r.uid() == 0 ? CloseChange(user, folder, r) : CloseEntry(user, folder, r.id());
      if (!closed.ok()) return closed.status();
      drop = true;  // closed, or written: either way nothing more comes of it
    }
    if (drop) reserved.DeleteSubrange(i, 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<pb::FolderState> MailStore::Reserve(std::string_view user, std::string_view folder,
                                                   const std::vector<std::string>& ids,
                                                   const std::vector<std::string>& written,
                                                   const std::optional<pb::FolderState>& known) {
  const auto count = static_cast<uint32_t>(ids.size());
  std::optional<pb::FolderState> state = known;
  for (int attempt = 0; attempt < kAdvanceAttempts; ++attempt) {
    if (attempt > 1) BackOff(attempt - 1);  // the first miss may only be a stale `known`
    if (!state) {
      auto read = State(user, folder);
      if (!read.ok()) return read.status();
      state = std::move(*read);
    }
    std::string old = state->SerializeAsString();
    if (state->uid_next() > UINT32_MAX - count) return absl::ResourceExhaustedError("UIDs used up");
    // The records of entries written since, and of writers past their time (closed first:
    // this is the one cell every writer passes, so none is kept for long).
    auto dropped = DropSettled(user, folder, *state, [&](const pb::FolderState::Reservation& r) {
      return r.uid() != 0 && std::find(written.begin(), written.end(), r.id()) != written.end();
    });
    if (!dropped.ok()) return dropped;
    for (uint32_t i = 0; i < count; ++i) {
      auto* r = state->add_reserved();
      r->set_uid(state->uid_next() + i);
      r->set_modseq(state->highest_modseq() + 1 + i);
      r->set_id(ids[i]);
      r->set_taken_micros(now_micros_());
    }
    state->set_uid_next(state->uid_next() + count);
    state->set_highest_modseq(state->highest_modseq() + count);
    auto done = kvs_.CPut(MailboxRow(user), StateColumn(folder), old, state->SerializeAsString());
    if (!done.ok()) return done.status();
    if (*done) return *state;
    state.reset();  // someone else moved it: read it again
  }
  return absl::AbortedError("folder changed concurrently");
}

absl::StatusOr<bool> MailStore::CloseEntry(std::string_view user, std::string_view folder,
                                           std::string_view id) {
  const std::string column = MessageColumn(folder, id);
  auto created = kvs_.CPut(MailboxRow(user), column, std::nullopt, "");
  if (!created.ok()) return created.status();
  if (*created) return true;
  auto current = kvs_.Get(MailboxRow(user), column);
  if (absl::IsNotFound(current.status())) return true;  // written and expunged since
  if (!current.ok()) return current.status();
  return current->empty();
}

absl::StatusOr<bool> MailStore::CloseChange(std::string_view user, std::string_view folder,
                                            const pb::FolderState::Reservation& record,
                                            pb::MessageMeta* closed) {
  const std::string column = MessageColumn(folder, record.id());
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto current = kvs_.Get(MailboxRow(user), column);
    // Gone (or a closed column): the change, which expects the entry, cannot land.
    if (absl::IsNotFound(current.status())) return true;
    if (!current.ok()) return current.status();
    if (current->empty()) return true;
    pb::MessageMeta meta;
    if (!meta.ParseFromString(*current)) return absl::DataLossError("bad mail index cell");
    if (meta.modseq() >= record.modseq()) return false;
    meta.set_modseq(record.modseq());
    auto done = kvs_.CPut(MailboxRow(user), column, *current, meta.SerializeAsString());
    if (!done.ok()) return done.status();
    if (*done) {
      if (closed) *closed = std::move(meta);
      return true;
    }
  }
  return absl::AbortedError("message changed concurrently");
}

absl::StatusOr<FolderView> MailStore::View(std::string_view user, std::string_view folder,
                                           bool with_messages) {
  // The counters first, the entries second: a UID taken after the counters were read is at
  // or above their UIDNEXT, and one taken before is either listed or still recorded.
  bool numbered_before = false;
  while (true) {
    auto state = State(user, folder);
    if (!state.ok()) return state.status();
    // A MULTIAPPEND whose writer died ends with none of its messages (RFC 3502).
    bool rolled_back = false;
    for (const auto& record : state->appending()) {
      if (now_micros_() - record.since_micros() <= kLongestEntryWriteMicros) continue;
      if (auto s = RollBackAppend(user, folder, record); !s.ok()) return s;
      rolled_back = true;
    }
    if (rolled_back) continue;  // the cell changed: read it again
    FolderView view;
    view.state = *state;
    view.state.clear_reserved();
    view.state.clear_appending();
    if (!with_messages && state->reserved().empty()) return view;
    bool numbered = false;
    auto listed = Mailbox(user, folder, &numbered);
    if (!listed.ok()) return listed.status();
    // Entries from before UIDs took theirs above the counters read: read them again.
    if (numbered && !numbered_before) {
      numbered_before = true;
      continue;
    }
    std::map<std::string_view, pb::MessageMeta*> listed_by_id;
    for (pb::MessageMeta& m : *listed) listed_by_id[m.id()] = &m;
    uint32_t shown_below = state->uid_next();
    uint64_t highest_modseq = state->highest_modseq();
    pb::FolderState kept = *state;
    kept.clear_reserved();
    for (const auto& r : state->reserved()) {
      auto it = listed_by_id.find(r.id());
      pb::MessageMeta* entry = it == listed_by_id.end() ? nullptr : it->second;
      // A new entry's UID is settled once the entry is listed; a change number for an
      // existing entry, once the entry shows it or is gone (the change expects the entry).
      const bool changes_entry = r.uid() == 0;
      if (changes_entry ? entry == nullptr || entry->modseq() >= r.modseq() : entry != nullptr) {
        continue;
      }
      bool pending = now_micros_() - r.taken_micros() <= kLongestEntryWriteMicros;
      if (!pending) {
        auto closed =
            changes_entry ? CloseChange(user, folder, r, entry) : CloseEntry(user, folder, r.id());
        if (!closed.ok()) return closed.status();
        if (*closed) continue;
        pending = true;  // written since the listing: shown from the next look
      }
      *kept.add_reserved() = r;
      view.pending = true;
      if (!changes_entry) shown_below = std::min(shown_below, r.uid());
      highest_modseq = std::min(highest_modseq, r.modseq() - 1);
    }
    // Dropping the records settled here saves the next readers the work; a writer that moved
    // the cell meanwhile will drop them instead.
    if (kept.reserved_size() != state->reserved_size()) {
      (void)kvs_.CPut(MailboxRow(user), StateColumn(folder), state->SerializeAsString(),
                      kept.SerializeAsString());
    }
    view.state.set_uid_next(shown_below);
    view.state.set_highest_modseq(highest_modseq);
    std::erase_if(*listed, [&](const pb::MessageMeta& m) { return m.uid() >= shown_below; });
    if (with_messages) view.messages = std::move(*listed);
    return view;
  }
}

absl::StatusOr<std::vector<pb::MessageMeta>> MailStore::Mailbox(std::string_view user,
                                                                std::string_view folder) {
  bool numbered = false;
  return Mailbox(user, folder, &numbered);
}

absl::StatusOr<std::vector<pb::MessageMeta>> MailStore::Mailbox(std::string_view user,
                                                                std::string_view folder,
                                                                bool* gave_uids) {
  if (!FolderExists(user, folder)) return absl::NotFoundError("no such folder");
  auto all = ListAll(user, folder);  // newest first
  if (!all.ok()) return all.status();
  // Entries written before UIDs existed get theirs now, oldest first, each by
  // compare-and-put so two sessions doing this at once keep one UID per message.
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    if (it->uid() != 0) continue;
    auto state = Advance(user, folder, /*new_uid=*/true);
    if (!state.ok()) return state.status();
    pb::MessageMeta numbered = *it;
    numbered.set_uid(state->uid_next() - 1);
    numbered.set_modseq(state->highest_modseq());
    auto done = kvs_.CPut(MailboxRow(user), MessageColumn(folder, it->id()),
                          it->SerializeAsString(), numbered.SerializeAsString());
    if (!done.ok()) return done.status();
    *gave_uids = true;
    if (*done) {
      *it = std::move(numbered);
    } else {
      auto current = Entry(user, folder, it->id());
      if (!current.ok()) return current.status();
      *it = std::move(*current);
    }
  }
  std::sort(all->begin(), all->end(),
            [](const pb::MessageMeta& a, const pb::MessageMeta& b) { return a.uid() < b.uid(); });
  return all;
}

absl::Status MailStore::CreateFolder(std::string_view user, std::string_view name) {
  if (auto s = CheckUserFolderName(name); !s.ok()) return s;
  // Missing parents come too (as IMAP CREATE does, RFC 9051 6.3.4).
  for (size_t slash = name.find('/'); slash != std::string_view::npos;
       slash = name.find('/', slash + 1)) {
    std::string_view parent = name.substr(0, slash);
    // A system folder ("Sent" of "Sent/2025") is there already, whatever its case.
    if (!CheckUserFolderName(parent).ok() || FolderExists(user, parent)) continue;
    auto made = NewState(user, parent);
    if (!made.ok() && !absl::IsAlreadyExists(made.status())) return made.status();
  }
  return NewState(user, name).status();
}

absl::Status MailStore::DeleteFolder(std::string_view user, std::string_view name) {
  if (IsFolder(name)) return absl::InvalidArgumentError("system folders cannot be deleted");
  if (!FolderExists(user, name)) return absl::NotFoundError("no such folder");
  auto folders = Folders(user);
  if (!folders.ok()) return folders.status();
  std::string children = Cat(name, "/");
  for (const std::string& f : *folders) {
    if (f.starts_with(children)) return absl::FailedPreconditionError("folder has subfolders");
  }
  // The folder goes first so no new message lands in it, then its messages.
  if (auto s = kvs_.Delete(MailboxRow(user), StateColumn(name)); !s.ok()) return s;
  auto messages = ListAll(user, name);
  if (!messages.ok()) return messages.status();
  for (const pb::MessageMeta& m : *messages) {
    if (auto s = kvs_.Delete(MailboxRow(user), MessageColumn(name, m.id())); !s.ok()) return s;
    if (auto s = Release(user, m, *folders); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status MailStore::RenameFolder(std::string_view user, std::string_view from,
                                     std::string_view to) {
  if (IsFolder(from)) return absl::InvalidArgumentError("system folders cannot be renamed");
  if (auto s = CheckUserFolderName(to); !s.ok()) return s;
  if (std::string_view(to).starts_with(Cat(from, "/"))) {
    return absl::InvalidArgumentError("a folder cannot move into itself");
  }
  auto folders = Folders(user);
  if (!folders.ok()) return folders.status();
  for (const std::string& old : *folders) {
    if (!old.starts_with(Cat(from, "/"))) continue;
    if (auto s = CheckUserFolderName(Cat(to, std::string_view(old).substr(from.size()))); !s.ok()) {
      return s;
    }
  }
  // The old folder is marked before anything moves, so that a rename cut short by a crash is
  // finished by the same RENAME sent again, instead of finding its target taken.
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto raw = kvs_.Get(MailboxRow(user), StateColumn(from));
    if (absl::IsNotFound(raw.status())) return absl::NotFoundError("no such folder");
    if (!raw.ok()) return raw.status();
    pb::FolderState state;
    if (!state.ParseFromString(*raw)) return absl::DataLossError("bad folder state cell");
    if (!state.renaming_to().empty()) {
      if (state.renaming_to() != to) {
        return absl::FailedPreconditionError(
            Cat("an unfinished rename of this folder to ", state.renaming_to(),
                " must be finished first: rename it to that name again"));
      }
      return FinishRename(user, from, to);
    }
    if (FolderExists(user, to)) return absl::AlreadyExistsError("folder exists");
    state.set_renaming_to(std::string(to));
    auto marked = kvs_.CPut(MailboxRow(user), StateColumn(from), *raw, state.SerializeAsString());
    if (!marked.ok()) return marked.status();
    if (*marked) return FinishRename(user, from, to);
  }
  return absl::AbortedError("folder changed concurrently");
}

// Every step can be repeated: a folder made before is taken as it is, a message moved before
// stays where it is, and the marked old folder goes last.
absl::Status MailStore::FinishRename(std::string_view user, std::string_view from,
                                     std::string_view to) {
  auto folders = Folders(user);
  if (!folders.ok()) return folders.status();
  for (const std::string& old : *folders) {
    if (old != from && !old.starts_with(Cat(from, "/"))) continue;
    std::string renamed = Cat(to, std::string_view(old).substr(from.size()));
    if (auto made = NewState(user, renamed); !made.ok() && !absl::IsAlreadyExists(made.status())) {
      return made.status();
    }
    auto messages = ListAll(user, old);
    if (!messages.ok()) return messages.status();
    for (const pb::MessageMeta& m : *messages) {
      if (auto moved = Move(user, m.id(), renamed); !moved.ok()) return moved.status();
    }
    if (old == from) continue;
    if (auto s = kvs_.Delete(MailboxRow(user), StateColumn(old)); !s.ok()) return s;
  }
  return kvs_.Delete(MailboxRow(user), StateColumn(from));
}

absl::Status MailStore::SetSubscribed(std::string_view user, std::string_view folder,
                                      bool subscribed) {
  return UpdateState(user, folder,
                     [&](pb::FolderState& state) {
                       if (state.subscribed() == subscribed) return false;
                       state.set_subscribed(subscribed);
                       return true;
                     })
      .status();
}

absl::StatusOr<pb::FolderState> MailStore::UpdateState(
    std::string_view user, std::string_view folder,
    const std::function<bool(pb::FolderState&)>& change) {
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto state = State(user, folder);
    if (!state.ok()) return state.status();
    std::string old = state->SerializeAsString();
    if (!change(*state)) return state;
    auto done = kvs_.CPut(MailboxRow(user), StateColumn(folder), old, state->SerializeAsString());
    if (!done.ok()) return done.status();
    if (*done) return state;
  }
  return absl::AbortedError("folder changed concurrently");
}

}  // namespace penncloud::mail
