#include "kvs/server/watch_table.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace penncloud::kvs::server {

absl::Status WatchTable::Park(const std::string& row, std::vector<WatchedCell> known,
                              Clock::time_point deadline, Watcher* w) {
  std::lock_guard lock(mu_);
  // Under mu_: a Cancel that marked `w` before this point is seen here, one after it
  // finds `w` in the table.
  if (w->cancelled()) return absl::CancelledError("kvs: the watcher went away");
  if (size() >= capacity_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("kvs: ", capacity_, " watches parked at this replica already; poll instead"));
  }
  by_row_[row].push_back(Entry{w, std::move(known), deadline});
  rows_.emplace(w, row);
  size_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

bool WatchTable::Watches(const std::string& row) const {
  if (size() == 0) return false;
  std::lock_guard lock(mu_);
  return by_row_.contains(row);
}

template <typename Pick>
void WatchTable::Take(const std::string& row, Pick pick, std::vector<Answer>* out) {
  auto it = by_row_.find(row);
  if (it == by_row_.end()) return;
  std::vector<Entry>& entries = it->second;
  for (size_t i = 0; i < entries.size();) {
    Answer answer{entries[i].watcher, absl::OkStatus(), {}};
    if (!pick(entries[i], &answer)) {
      ++i;
      continue;
    }
    rows_.erase(answer.watcher);
    out->push_back(std::move(answer));
    entries[i] = std::move(entries.back());
    entries.pop_back();
    size_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (entries.empty()) by_row_.erase(it);
}

void WatchTable::Send(std::vector<Answer> answers) {
  for (Answer& a : answers) a.watcher->Answer(a.status, std::move(a.changed));
}

void WatchTable::Changed(const std::string& row, const std::string& column,
                         const std::optional<std::string>& value) {
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mu_);
    Take(
        row,
        [&](const Entry& e, Answer* a) {
          for (const WatchedCell& cell : e.known) {
            if (cell.column != column) continue;
            if (cell.value == value) return false;
            a->changed.push_back(WatchedCell{column, value});
            return true;
          }
          return false;
        },
        &answers);
  }
  Send(std::move(answers));
}

void WatchTable::Expire(Clock::time_point now) {
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mu_);
    std::vector<std::string> rows;
    for (const auto& [row, entries] : by_row_) rows.push_back(row);
    for (const std::string& row : rows) {
      Take(
          row, [&](const Entry& e, Answer*) { return e.deadline <= now; }, &answers);
    }
  }
  Send(std::move(answers));
}

void WatchTable::FailAll(const absl::Status& status) {
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mu_);
    for (auto& [row, entries] : by_row_) {
      for (Entry& e : entries) answers.push_back(Answer{e.watcher, status, {}});
    }
    by_row_.clear();
    rows_.clear();
    size_.store(0, std::memory_order_relaxed);
  }
  Send(std::move(answers));
}

bool WatchTable::Cancel(Watcher* w) {
  std::lock_guard lock(mu_);
  auto it = rows_.find(w);
  if (it == rows_.end()) return false;
  const std::string row = it->second;  // Take erases it
  std::vector<Answer> dropped;
  Take(
      row, [w](const Entry& e, Answer*) { return e.watcher == w; }, &dropped);
  return true;
}

}  // namespace penncloud::kvs::server
