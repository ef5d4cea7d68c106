#include "drive/share_lock.h"

#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "drive/keys.h"

namespace penncloud::drive {
namespace {

constexpr std::string_view kColumn = "l";

std::string LockRow(std::string_view owner) { return keys::UserRow(owner, "share_lock"); }

// "<holder> <expiry ms>"; a value that does not parse counts as expired.
int64_t ExpiryOf(std::string_view value) {
  size_t space = value.rfind(' ');
  int64_t expiry = 0;
  if (space == std::string_view::npos) return 0;
  std::string_view digits = value.substr(space + 1);
  if (!absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &expiry)) return 0;
  return expiry;
}

}  // namespace

ShareLock::ShareLock(kvs::Client* kvs, std::function<int64_t()> now_ms)
    : kvs_(kvs), now_ms_(std::move(now_ms)) {}

absl::StatusOr<std::string> ShareLock::Acquire(std::string_view owner) {
  std::string row = LockRow(owner);
  std::string token = keys::RandomId();
  for (int round = 0; round < kWaitRounds; ++round) {
    auto current = kvs_->Get(row, kColumn);
    std::optional<std::string> expected;
    if (current.ok()) {
      if (ExpiryOf(*current) > now_ms_()) {
        // Held: short waits first (a tree change takes a few store round trips).
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2 + round, 25)));
        continue;
      }
      expected = *current;
    } else if (!absl::IsNotFound(current.status())) {
      return current.status();
    }
    std::string mine = absl::StrCat(token, " ", now_ms_() + kLeaseMs);
    auto taken = kvs_->CPut(
        row, kColumn, expected ? std::optional<std::string_view>(*expected) : std::nullopt, mine);
    if (!taken.ok()) return taken.status();
    if (*taken) return mine;
  }
  return absl::AbortedError("another move in this drive is under way; try again");
}

void ShareLock::Release(std::string_view owner, std::string_view token) {
  (void)kvs_->CDelete(LockRow(owner), kColumn, token);
}

}  // namespace penncloud::drive
