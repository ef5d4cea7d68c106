#include "mail/outbound_queue.h"

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mail/chunks.h"
#include "mail/text.h"

namespace penncloud::mail {
namespace {

constexpr std::string_view kRow = "mailq";
constexpr std::string_view kDueRow = "mailqdue";
constexpr std::string_view kGoneRow = "mailqgone";
constexpr int kDuePage = 16;        // due-index columns per List of a claim
constexpr int kMaxPages = 10'000;   // pages of any one listing
constexpr size_t kTimeDigits = 16;  // "%016x" of the microseconds

std::string BodyName(std::string_view id) { return Cat("mailqbody/", id); }

// Sorts by time, as the ids and the due and removal columns that begin with it.
std::string TimePrefix(int64_t micros) {
  return absl::StrFormat("%016x", static_cast<uint64_t>(std::max<int64_t>(micros, 0)));
}

std::string DueColumn(int64_t due_micros, std::string_view id) {
  return Cat(TimePrefix(due_micros), "/", id);
}

// "<16 hex>/<id>" -> the time and the id; false for anything else.
bool ParseHexTime(std::string_view hex, int64_t* micros) {
  uint64_t value = 0;
  if (hex.size() != kTimeDigits ||
      !absl::SimpleHexAtoi(absl::string_view(hex.data(), hex.size()), &value))
    return false;
  *micros = static_cast<int64_t>(value);
  return true;
}

bool ParseDueColumn(std::string_view column, int64_t* due_micros, std::string_view* id) {
  if (column.size() <= kTimeDigits + 1 || column[kTimeDigits] != '/') return false;
  *id = column.substr(kTimeDigits + 1);
  return ParseHexTime(column.substr(0, kTimeDigits), due_micros);
}

}  // namespace

OutboundQueue::OutboundQueue(kvs::Client& kvs, std::function<int64_t()> now_micros)
    : kvs_(kvs), now_micros_(now_micros ? std::move(now_micros) : [] {
        return absl::ToUnixMicros(absl::Now());
      }) {}

std::string OutboundQueue::NewId() const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x%016x", static_cast<uint64_t>(now_micros_()), rng());
}

absl::StatusOr<std::string> OutboundQueue::Enqueue(std::string_view sender,
                                                   const std::vector<std::string>& recipients,
                                                   std::string_view source) {
  pb::QueuedMessage entry;
  entry.set_sender(std::string(sender));
  for (const auto& r : recipients) entry.add_recipients(r);
  return Enqueue(std::move(entry), source);
}

absl::StatusOr<std::string> OutboundQueue::Enqueue(pb::QueuedMessage entry,
                                                   std::string_view source) {
  auto added = Add(std::move(entry), source);
  if (!added.ok()) return added.status();
  return added->id();
}

absl::StatusOr<pb::QueuedMessage> OutboundQueue::Add(pb::QueuedMessage entry,
                                                     std::string_view source) {
  if (entry.id().empty()) entry.set_id(NewId());
  entry.set_enqueued_micros(now_micros_());
  if (entry.next_attempt_micros() == 0) entry.set_next_attempt_micros(now_micros_());
  entry.set_size(static_cast<int64_t>(source.size()));
  auto chunks = WriteChunks(kvs_, BodyName(entry.id()), source);
  if (!chunks.ok()) return chunks.status();
  entry.set_chunks(*chunks);
  if (auto s = kvs_.Put(kDueRow, DueColumn(entry.next_attempt_micros(), entry.id()), ""); !s.ok()) {
    return s;
  }
  auto created = kvs_.CPut(kRow, entry.id(), std::nullopt, entry.SerializeAsString());
  if (!created.ok()) return created.status();
  if (!*created) return absl::AbortedError("queue id collision");
  return entry;
}

absl::Status OutboundQueue::ForEachCell(std::string_view row, std::string_view after,
                                        bool with_values,
                                        const std::function<bool(const kvs::Cell&)>& each) {
  kvs::ListOptions options;
  options.with_values = with_values;
  options.limit = 500;
  options.after = std::string(after);
  for (int pages = 0; pages < kMaxPages; ++pages) {
    auto page = kvs_.List(row, options);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      if (!each(cell)) return absl::OkStatus();
    }
    if (!page->more || page->cells.empty()) break;
    options.after = page->cells.back().column;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<pb::QueuedMessage>> OutboundQueue::ListAll() {
  std::vector<pb::QueuedMessage> out;
  auto listed = ForEachCell(kRow, "", true, [&](const kvs::Cell& cell) {
    pb::QueuedMessage entry;
    if (entry.ParseFromString(cell.value)) out.push_back(std::move(entry));
    return true;
  });
  if (!listed.ok()) return listed;
  return out;
}

absl::StatusOr<std::vector<pb::QueuedMessage>> OutboundQueue::Claim(
    std::string_view owner, int64_t lease_micros, int limit,
    const std::function<bool(const pb::QueuedMessage&)>& wanted) {
  std::vector<pb::QueuedMessage> claimed;
  const int64_t now = now_micros_();
  kvs::ListOptions options;
  options.limit = kDuePage;
  for (int pages = 0; pages < kMaxPages; ++pages) {
    auto page = kvs_.List(kDueRow, options);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      int64_t due = 0;
      std::string_view id;
      if (!ParseDueColumn(cell.column, &due, &id)) continue;
      if (due > now || static_cast<int>(claimed.size()) >= limit) return claimed;
      auto entry = Get(id);
      if (!entry.ok() && !absl::IsNotFound(entry.status())) return entry.status();
      if (!entry.ok() || entry->next_attempt_micros() != due) {
        // A leftover of a crashed write, or of one still in flight if young (see above).
        if (due < now - kStaleGraceMicros) {
          // An entry a server older than the index moved has no column at its time: the
          // sweeps look at new entries only, so this one is its last chance of one.
          if (entry.ok()) (void)kvs_.Put(kDueRow, DueColumn(entry->next_attempt_micros(), id), "");
          (void)kvs_.Delete(kDueRow, cell.column);
        }
        continue;
      }
      if (wanted && !wanted(*entry)) continue;
      if (!entry->lease_owner().empty() && entry->lease_until_micros() > now) continue;
      pb::QueuedMessage mine = *entry;
      mine.set_lease_owner(std::string(owner));
      mine.set_lease_until_micros(now + lease_micros);
      auto done = kvs_.CPut(kRow, id, entry->SerializeAsString(), mine.SerializeAsString());
      if (!done.ok()) return done.status();
      if (*done) claimed.push_back(std::move(mine));
    }
    if (!page->more || page->cells.empty()) break;
    options.after = page->cells.back().column;
  }
  return claimed;
}

absl::StatusOr<QueueStats> OutboundQueue::Stats() {
  std::lock_guard lock(stats_mu_);
  const int64_t now = now_micros_();
  const bool recount = counted_micros_ == 0 || now - recounted_micros_ >= kRecountMicros;
  const std::string since = TimePrefix(
      std::min(counted_micros_ == 0 ? now : counted_micros_, now - kUnrecordedRemovalMicros) -
      kLookBackMicros);
  // The ids from `since` on are listed again, so those removed unrecorded drop out. A pass
  // that fails half way leaves the set short of some of them: the next one lists them.
  queued_ids_.erase(recount ? queued_ids_.begin() : queued_ids_.lower_bound(since),
                    queued_ids_.end());
  auto listed = ForEachCell(kRow, recount ? "" : since, false, [&](const kvs::Cell& cell) {
    queued_ids_.insert(cell.column);
    return true;
  });
  if (!listed.ok()) return listed;
  // Removals recorded after the listing above are read by the next pass.
  listed = ForEachCell(kGoneRow, since, false, [&](const kvs::Cell& cell) {
    if (cell.column.size() > kTimeDigits + 1)
      queued_ids_.erase(cell.column.substr(kTimeDigits + 1));
    return true;
  });
  if (!listed.ok()) return listed;
  counted_micros_ = now;
  if (recount) recounted_micros_ = now;

  QueueStats stats;
  stats.length = static_cast<int64_t>(queued_ids_.size());
  if (!queued_ids_.empty()) {
    std::string_view oldest = *queued_ids_.begin();
    (void)ParseHexTime(oldest.substr(0, std::min(oldest.size(), kTimeDigits)),
                       &stats.oldest_enqueued_micros);
  }
  return stats;
}

absl::StatusOr<int> OutboundQueue::Sweep() {
  std::lock_guard lock(sweep_mu_);
  const int64_t started = now_micros_();
  TrimRemovals(started);
  // The first sweep compares the whole queue with the whole index; later ones read the
  // column of each entry enqueued since.
  std::set<std::string> indexed;
  if (swept_micros_ == 0) {
    auto listed = ForEachCell(kDueRow, "", false, [&](const kvs::Cell& cell) {
      indexed.insert(cell.column);
      return true;
    });
    if (!listed.ok()) return listed;
  }
  std::vector<pb::QueuedMessage> entries;
  auto listed =
      ForEachCell(kRow, swept_micros_ == 0 ? "" : TimePrefix(swept_micros_ - kLookBackMicros), true,
                  [&](const kvs::Cell& cell) {
                    pb::QueuedMessage entry;
                    if (entry.ParseFromString(cell.value)) entries.push_back(std::move(entry));
                    return true;
                  });
  if (!listed.ok()) return listed;
  int written = 0;
  for (const pb::QueuedMessage& entry : entries) {
    std::string column = DueColumn(entry.next_attempt_micros(), entry.id());
    if (swept_micros_ == 0) {
      if (indexed.contains(column)) continue;
    } else if (auto found = kvs_.Get(kDueRow, column); found.ok()) {
      continue;
    } else if (!absl::IsNotFound(found.status())) {
      return found.status();
    }
    if (auto s = kvs_.Put(kDueRow, column, ""); !s.ok()) return s;
    ++written;
  }
  swept_micros_ = started;
  return written;
}

void OutboundQueue::TrimRemovals(int64_t now) {
  const std::string horizon = TimePrefix(now - kStaleGraceMicros);
  (void)ForEachCell(kGoneRow, "", false, [&](const kvs::Cell& cell) {
    if (cell.column >= horizon) return false;
    (void)kvs_.Delete(kGoneRow, cell.column);
    return true;
  });
}

absl::StatusOr<std::string> OutboundQueue::Source(const pb::QueuedMessage& entry) {
  return ReadChunks(kvs_, BodyName(entry.id()), entry.chunks());
}

absl::Status OutboundQueue::Complete(const pb::QueuedMessage& claimed) {
  // Only the lease holder's exact entry is removed; CPUT to "" then Delete would race, so a
  // plain Delete guarded by a re-read is enough for at-least-once delivery.
  auto current = kvs_.Get(kRow, claimed.id());
  if (absl::IsNotFound(current.status())) return absl::OkStatus();
  if (!current.ok()) return current.status();
  if (*current != claimed.SerializeAsString()) return absl::AbortedError("lease lost");
  if (auto s = kvs_.Delete(kRow, claimed.id()); !s.ok()) return s;
  Retire(claimed);
  return DeleteChunks(kvs_, BodyName(claimed.id()), claimed.chunks());
}

absl::StatusOr<bool> OutboundQueue::Replace(const pb::QueuedMessage& current,
                                            const pb::QueuedMessage& next) {
  const bool moves = next.next_attempt_micros() != current.next_attempt_micros();
  if (moves) {
    if (auto s = kvs_.Put(kDueRow, DueColumn(next.next_attempt_micros(), next.id()), ""); !s.ok()) {
      return s;
    }
  }
  auto done = kvs_.CPut(kRow, current.id(), current.SerializeAsString(), next.SerializeAsString());
  if (!done.ok()) return done.status();
  if (*done && moves) Unindex(current);
  return *done;
}

void OutboundQueue::Unindex(const pb::QueuedMessage& entry) {
  (void)kvs_.Delete(kDueRow, DueColumn(entry.next_attempt_micros(), entry.id()));
}

void OutboundQueue::Retire(const pb::QueuedMessage& entry) {
  Unindex(entry);
  const int64_t now = now_micros_();
  if (now - entry.enqueued_micros() <= kUnrecordedRemovalMicros) return;
  (void)kvs_.Put(kGoneRow, DueColumn(now, entry.id()), "");
}

absl::Status OutboundQueue::Update(const pb::QueuedMessage& claimed, pb::QueuedMessage updated) {
  updated.clear_lease_owner();
  updated.clear_lease_until_micros();
  auto done = Replace(claimed, updated);
  if (!done.ok()) return done.status();
  if (!*done) return absl::AbortedError("lease lost");
  return absl::OkStatus();
}

absl::StatusOr<OutboundQueue::Page> OutboundQueue::List(std::string_view after, int limit) {
  kvs::ListOptions options;
  options.with_values = true;
  options.limit = limit;
  options.after = std::string(after);
  auto page = kvs_.List(kRow, options);
  if (!page.ok()) return page.status();
  Page out;
  out.more = page->more;
  for (const kvs::Cell& cell : page->cells) {
    pb::QueuedMessage entry;
    if (entry.ParseFromString(cell.value)) out.entries.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<pb::QueuedMessage> OutboundQueue::Get(std::string_view id) {
  auto value = kvs_.Get(kRow, id);
  if (!value.ok()) return value.status();
  pb::QueuedMessage entry;
  if (!entry.ParseFromString(*value)) return absl::DataLossError("bad queue entry");
  return entry;
}

absl::StatusOr<pb::QueuedMessage> OutboundQueue::Rewrite(const pb::QueuedMessage& claimed,
                                                         pb::QueuedMessage updated) {
  updated.set_lease_owner(claimed.lease_owner());
  updated.set_lease_until_micros(claimed.lease_until_micros());
  auto done = Replace(claimed, updated);
  if (!done.ok()) return done.status();
  if (!*done) return absl::AbortedError("lease lost");
  return updated;
}

namespace {

// An entry a live runner holds may change under us: callers wait and ask again.
absl::Status Unleased(const pb::QueuedMessage& entry, int64_t now) {
  if (!entry.lease_owner().empty() && entry.lease_until_micros() > now) {
    return absl::FailedPreconditionError("the message is being delivered right now");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pb::QueuedMessage> OutboundQueue::Modify(
    std::string_view id, const std::function<absl::Status(pb::QueuedMessage&)>& change) {
  for (int tries = 0; tries < 8; ++tries) {
    auto current = Get(id);
    if (!current.ok()) return current.status();
    if (auto s = Unleased(*current, now_micros_()); !s.ok()) return s;
    pb::QueuedMessage next = *current;
    next.clear_lease_owner();
    next.clear_lease_until_micros();
    if (auto s = change(next); !s.ok()) return s;
    auto done = Replace(*current, next);
    if (!done.ok()) return done.status();
    if (*done) return next;
  }
  return absl::FailedPreconditionError("the message is being delivered right now");
}

absl::StatusOr<pb::QueuedMessage> OutboundQueue::Withdraw(
    std::string_view id, const std::function<absl::Status(const pb::QueuedMessage&)>& check) {
  for (int tries = 0; tries < 8; ++tries) {
    auto current = Get(id);
    if (!current.ok()) return current.status();
    if (auto s = Unleased(*current, now_micros_()); !s.ok()) return s;
    if (auto s = check(*current); !s.ok()) return s;
    auto done = kvs_.CDelete(kRow, id, current->SerializeAsString());
    if (!done.ok()) return done.status();
    if (!*done) continue;  // changed meanwhile: look again
    // The entry is gone, so no runner can read the source any more.
    Retire(*current);
    (void)DeleteChunks(kvs_, BodyName(id), current->chunks());
    return *current;
  }
  return absl::FailedPreconditionError("the message is being delivered right now");
}

}  // namespace penncloud::mail
