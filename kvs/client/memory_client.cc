#include "kvs/client/memory_client.h"

#include <algorithm>

namespace penncloud::kvs {

absl::Status MemoryClient::CheckAvailable() const {
  if (unavailable_) return absl::UnavailableError("store unavailable (test)");
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryClient::Get(std::string_view row, std::string_view column) {
  std::lock_guard lock(mu_);
  if (auto s = CheckAvailable(); !s.ok()) return s;
  auto it = cells_.find({std::string(row), std::string(column)});
  if (it == cells_.end()) return absl::NotFoundError("no such cell");
  return it->second;
}

absl::Status MemoryClient::Put(std::string_view row, std::string_view column,
                               std::string_view value) {
  std::lock_guard lock(mu_);
  if (auto s = CheckAvailable(); !s.ok()) return s;
  if (value.size() > kMaxValueBytes) return absl::InvalidArgumentError("value too large");
  cells_[{std::string(row), std::string(column)}] = std::string(value);
  written_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<bool> MemoryClient::CPut(std::string_view row, std::string_view column,
                                        std::optional<std::string_view> expected,
                                        std::string_view value) {
  std::lock_guard lock(mu_);
  if (auto s = CheckAvailable(); !s.ok()) return s;
  if (value.size() > kMaxValueBytes) return absl::InvalidArgumentError("value too large");
  auto key = std::make_pair(std::string(row), std::string(column));
  auto it = cells_.find(key);
  bool matches =
      expected.has_value() ? (it != cells_.end() && it->second == *expected) : it == cells_.end();
  if (!matches) return false;
  cells_[key] = std::string(value);
  written_.notify_all();
  return true;
}

absl::Status MemoryClient::Delete(std::string_view row, std::string_view column) {
  std::lock_guard lock(mu_);
  if (auto s = CheckAvailable(); !s.ok()) return s;
  cells_.erase({std::string(row), std::string(column)});
  written_.notify_all();
  return absl::OkStatus();
}

absl::StatusOr<bool> MemoryClient::CDelete(std::string_view row, std::string_view column,
                                           std::string_view expected) {
  std::lock_guard lock(mu_);
  if (auto s = CheckAvailable(); !s.ok()) return s;
  auto it = cells_.find({std::string(row), std::string(column)});
  if (it == cells_.end() || it->second != expected) return false;
  cells_.erase(it);
  written_.notify_all();
  return true;
}

absl::StatusOr<ColumnPage> MemoryClient::List(std::string_view row, const ListOptions& options) {
  std::lock_guard lock(mu_);
  if (auto s = CheckAvailable(); !s.ok()) return s;
  ColumnPage page;
  std::string r(row);
  for (auto it = cells_.upper_bound({r, options.after}); it != cells_.end() && it->first.first == r;
       ++it) {
    if (static_cast<int>(page.cells.size()) == options.limit) {
      page.more = true;
      break;
    }
    page.cells.push_back({it->first.second, options.with_values ? it->second : std::string()});
  }
  return page;
}

std::vector<WatchedCell> MemoryClient::Differing(const std::string& row,
                                                 const std::vector<WatchedCell>& known) const {
  std::vector<WatchedCell> out;
  for (const WatchedCell& cell : known) {
    auto it = cells_.find({row, cell.column});
    WatchedCell now{cell.column,
                    it == cells_.end() ? std::nullopt : std::optional<std::string>(it->second)};
    if (now.value != cell.value) out.push_back(std::move(now));
  }
  return out;
}

absl::StatusOr<std::vector<WatchedCell>> MemoryClient::Watch(std::string_view row,
                                                             const std::vector<WatchedCell>& known,
                                                             std::chrono::milliseconds timeout,
                                                             WatchCancel* cancel) {
  if (auto s = CheckWatch(row, known); !s.ok()) return s;
  const auto until = std::chrono::steady_clock::now() +
                     std::clamp(timeout, std::chrono::milliseconds(0), kMaxWatchTimeout);
  // Taking mu_ before notifying means a cancel cannot slip between the check and the wait.
  if (cancel != nullptr) {
    cancel->SetHook([this] {
      { std::lock_guard lock(mu_); }
      written_.notify_all();
    });
  }
  absl::StatusOr<std::vector<WatchedCell>> result;
  {
    std::unique_lock lock(mu_);
    const std::string r(row);
    written_.wait_until(lock, until, [&] {
      if (cancel != nullptr && cancel->cancelled()) {
        result = absl::CancelledError("kvs: watch cancelled");
      } else if (auto s = CheckAvailable(); !s.ok()) {
        result = s;
      } else {
        result = Differing(r, known);
      }
      return !result.ok() || !result->empty();
    });
  }
  // After mu_ is released: the hook takes mu_ while the cancel holds its own lock.
  if (cancel != nullptr) cancel->ClearHook();
  return result;
}

void MemoryClient::SetUnavailable(bool unavailable) {
  std::lock_guard lock(mu_);
  unavailable_ = unavailable;
  written_.notify_all();
}

size_t MemoryClient::CellCount() const {
  std::lock_guard lock(mu_);
  return cells_.size();
}

}  // namespace penncloud::kvs
