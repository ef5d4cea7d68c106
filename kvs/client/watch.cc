// The parts of a watch every Client shares (client.h): its bounds, its cancel, and the
// answer of a client that cannot watch.
#include "absl/strings/str_cat.h"
#include "kvs/client/client.h"

namespace penncloud::kvs {

void WatchCancel::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_.store(true, std::memory_order_release);
  if (hook_) std::exchange(hook_, nullptr)();
}

void WatchCancel::SetHook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  if (cancelled()) {
    hook();
    return;
  }
  hook_ = std::move(hook);
}

void WatchCancel::ClearHook() {
  std::lock_guard lock(mu_);
  hook_ = nullptr;
}

absl::StatusOr<std::vector<WatchedCell>> Client::Watch(std::string_view,
                                                       const std::vector<WatchedCell>&,
                                                       std::chrono::milliseconds, WatchCancel*) {
  return absl::UnimplementedError("kvs: this client cannot watch");
}

absl::Status CheckWatch(std::string_view row, const std::vector<WatchedCell>& known) {
  if (row.empty()) return absl::InvalidArgumentError("kvs: watch of an empty row");
  if (row.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("kvs: row longer than ", kMaxKeyBytes));
  }
  if (known.empty() || known.size() > kMaxWatchCells) {
    return absl::InvalidArgumentError(
        absl::StrCat("kvs: a watch names 1..", kMaxWatchCells, " cells, not ", known.size()));
  }
  size_t bytes = 0;
  for (size_t i = 0; i < known.size(); ++i) {
    if (known[i].column.size() > kMaxKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat("kvs: column longer than ", kMaxKeyBytes));
    }
    for (size_t j = 0; j < i; ++j) {
      if (known[j].column == known[i].column) {
        return absl::InvalidArgumentError("kvs: a watch names a column twice");
      }
    }
    bytes += known[i].value ? known[i].value->size() : 0;
  }
  if (bytes > kMaxWatchKnownBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("kvs: watched values of ", bytes, " bytes exceed ", kMaxWatchKnownBytes));
  }
  return absl::OkStatus();
}

}  // namespace penncloud::kvs
