// The rebalancer lease (docs/sharding.md section 6): a cell in the config group, row
// "cluster", column "rebalancer", holding "<owner> <expiry unix ms>", taken and renewed by
// compare-and-put. It keeps two rebalancers (kvsctl and the admin console, or two kvsctl
// runs) from interleaving their steps and progress records. Every step is idempotent, so
// safety never depends on it: a holder that stalls past its expiry and then carries on
// can only repeat steps, and it finds out at its next renewal that it lost the lease.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kvs/client/client.h"

namespace penncloud::kvs::shard {

inline constexpr std::string_view kLeaseColumn = "rebalancer";

struct LeaseHolder {
  std::string owner;
  absl::Time expiry;
};

// The holder recorded in the cell; nullopt when there is none (never taken, released or
// unreadable). An expired holder is returned too: callers compare with their clock.
absl::StatusOr<std::optional<LeaseHolder>> ReadLease(Client& config_group);

class RebalancerLease {
 public:
  // `owner` names the holder for operators ("kvsctl@host:pid"); a random suffix makes two
  // holders with the same name distinct.
  RebalancerLease(Client& config_group, std::string owner, absl::Duration term);
  ~RebalancerLease();  // releases if held (best effort)

  // Takes the lease if it is free, expired or already ours. kFailedPrecondition naming the
  // holder and its time left when someone else holds it.
  absl::Status Acquire(absl::Time now);
  // Extends the lease when less than half its term is left. kAborted if another holder
  // took it meanwhile (we stalled past expiry): stop working.
  absl::Status Renew(absl::Time now);
  // Gives the lease up at once (it stays "taken" until expiry if this fails).
  void Release();

  const std::string& owner() const { return owner_; }
  bool held() const { return held_.has_value(); }

 private:
  absl::StatusOr<bool> Swap(std::optional<std::string> expected, const std::string& value);

  Client& config_group_;
  const std::string owner_;
  const absl::Duration term_;
  std::optional<std::string> held_;  // the exact bytes we last wrote
  absl::Time expiry_;
};

}  // namespace penncloud::kvs::shard
