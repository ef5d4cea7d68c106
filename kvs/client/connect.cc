// Connect(): one replica group by its addresses, or a sharded store by its config group.
// It lives in its own library, above both the group client and kvs/shard, so that neither
// of those depends on the other's caller.
#include "kvs/client/connect.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/sharded_client.h"

namespace penncloud::kvs {
namespace {

constexpr char kConfigPrefix[] = "config=";

absl::StatusOr<std::vector<std::string>> ParseAddresses(absl::string_view list,
                                                        const std::string& spec) {
  std::vector<std::string> addresses;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::string address(absl::StripAsciiWhitespace(part));
    if (address.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("kvs: bad replica address '", address, "' in spec '", spec,
                       "' (want host:port,host:port,... or config=host:port,...)"));
    }
    addresses.push_back(std::move(address));
  }
  if (addresses.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kvs: empty connect spec '", spec, "' (want host:port,... or config=host:port,...)"));
  }
  return addresses;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& spec) {
  // gRPC locks absl::Mutex on every call; Debian's absl tracks lock order for deadlock
  // reports on each of those, a cost every caller of the store would pay on every request.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::string_view rest = absl::StripAsciiWhitespace(spec);
  const bool sharded = absl::ConsumePrefix(&rest, kConfigPrefix);
  absl::StatusOr<std::vector<std::string>> addresses = ParseAddresses(rest, spec);
  if (!addresses.ok()) return addresses.status();
  if (!sharded) return std::make_unique<ReplicaGroupClient>(std::move(*addresses));
  auto config = std::make_shared<ReplicaGroupClient>(std::move(*addresses));
  return std::make_unique<shard::ShardedClient>(std::move(config), shard::ConnectGroupFactory());
}

}  // namespace penncloud::kvs
