#include "kvs/shard/rebalancer_lease.h"

#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kvs/shard/config_store.h"

namespace penncloud::kvs::shard {
namespace {

std::string Encode(const std::string& owner, absl::Time expiry) {
  return absl::StrCat(owner, " ", absl::ToUnixMillis(expiry));
}

std::optional<LeaseHolder> Decode(std::string_view bytes) {
  const size_t space = bytes.rfind(' ');
  int64_t ms = 0;
  const std::string_view digits = space == std::string_view::npos ? "" : bytes.substr(space + 1);
  if (digits.empty() || !absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &ms)) {
    return std::nullopt;
  }
  return LeaseHolder{std::string(bytes.substr(0, space)), absl::FromUnixMillis(ms)};
}

}  // namespace

absl::StatusOr<std::optional<LeaseHolder>> ReadLease(Client& config_group) {
  absl::StatusOr<std::string> bytes = config_group.Get(kMapRow, kLeaseColumn);
  if (absl::IsNotFound(bytes.status())) return std::optional<LeaseHolder>();
  if (!bytes.ok()) return bytes.status();
  std::optional<LeaseHolder> holder = Decode(*bytes);
  // A released lease has expiry 0: nobody holds it.
  if (holder && holder->expiry == absl::UnixEpoch()) return std::optional<LeaseHolder>();
  return holder;
}

RebalancerLease::RebalancerLease(Client& config_group, std::string owner, absl::Duration term)
    : config_group_(config_group),
      owner_(absl::StrFormat("%s#%08x", owner, std::random_device()())),
      term_(term) {}

RebalancerLease::~RebalancerLease() { Release(); }

absl::StatusOr<bool> RebalancerLease::Swap(std::optional<std::string> expected,
                                           const std::string& value) {
  std::optional<std::string_view> want;
  if (expected) want = *expected;
  absl::StatusOr<bool> swapped = config_group_.CPut(kMapRow, kLeaseColumn, want, value);
  if (!swapped.ok()) return swapped.status();
  if (!*swapped) {
    // A CPut whose first reply was lost and was retried reports false although it was
    // applied: the cell then holds exactly our bytes.
    absl::StatusOr<std::string> now = config_group_.Get(kMapRow, kLeaseColumn);
    if (now.ok() && *now == value) return true;
  }
  return *swapped;
}

absl::Status RebalancerLease::Acquire(absl::Time now) {
  absl::StatusOr<std::string> current = config_group_.Get(kMapRow, kLeaseColumn);
  std::optional<std::string> expected;
  if (current.ok()) {
    expected = *current;
    std::optional<LeaseHolder> holder = Decode(*current);
    if (holder && holder->owner != owner_ && holder->expiry > now) {
      return absl::FailedPreconditionError(
          absl::StrCat("another rebalancer is running: ", holder->owner, " holds the lease for ",
                       absl::FormatDuration(absl::Trunc(holder->expiry - now, absl::Seconds(1))),
                       " more (it renews while it works; 'kvsctl cluster status' shows it)"));
    }
  } else if (!absl::IsNotFound(current.status())) {
    return current.status();
  }
  const absl::Time expiry = now + term_;
  const std::string value = Encode(owner_, expiry);
  absl::StatusOr<bool> swapped = Swap(expected, value);
  if (!swapped.ok()) return swapped.status();
  if (!*swapped) {
    return absl::FailedPreconditionError(
        "another rebalancer took the lease at the same moment; try again");
  }
  held_ = value;
  expiry_ = expiry;
  return absl::OkStatus();
}

absl::Status RebalancerLease::Renew(absl::Time now) {
  if (!held_) return absl::FailedPreconditionError("rebalancer lease not held");
  if (expiry_ - now > term_ / 2) return absl::OkStatus();
  const absl::Time expiry = now + term_;
  const std::string value = Encode(owner_, expiry);
  absl::StatusOr<bool> swapped = Swap(held_, value);
  if (!swapped.ok()) return swapped.status();
  if (!*swapped) {
    held_.reset();
    return absl::AbortedError(
        "rebalancer lease lost (this run stalled past its expiry and another took over)");
  }
  held_ = value;
  expiry_ = expiry;
  return absl::OkStatus();
}

void RebalancerLease::Release() {
  if (!held_) return;
  Swap(held_, Encode(owner_, absl::UnixEpoch())).IgnoreError();
  held_.reset();
}

}  // namespace penncloud::kvs::shard
