#include "kvs/shard/sharded_client.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/wrong_group.h"

namespace penncloud::kvs::shard {
namespace {

const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

std::string Members(const cluster::Group& group) {
  std::vector<std::string> addresses;
  for (const cluster::Replica& replica : group.replicas()) addresses.push_back(replica.address());
  return absl::StrJoin(addresses, ",");
}

}  // namespace

GroupClientFactory ConnectGroupFactory() {
  // One session pool for all groups: a session's sequence numbers then rise across groups,
  // which the at-most-once records that move with a range rely on.
  auto sessions = std::make_shared<SessionPool>();
  return [sessions](const cluster::Group& group) -> absl::StatusOr<std::unique_ptr<Client>> {
    std::vector<std::string> addresses;
    for (const cluster::Replica& replica : group.replicas()) {
      addresses.push_back(replica.address());
    }
    if (addresses.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("group ", group.id(), " has no replicas"));
    }
    return std::make_unique<ReplicaGroupClient>(std::move(addresses), ReplicaGroupOptions{},
                                                sessions);
  };
}

ShardedClient::ShardedClient(std::shared_ptr<Client> config_group, GroupClientFactory factory,
                             ShardedClientOptions options)
    : config_group_(std::move(config_group)),
      store_(*config_group_),
      factory_(std::move(factory)),
      options_(options) {}

uint64_t ShardedClient::map_version() const {
  std::lock_guard lock(mu_);
  return map_ == nullptr ? 0 : map_->version();
}

absl::Status ShardedClient::Refresh() { return RefreshFrom(map_version()).status(); }

absl::StatusOr<std::shared_ptr<const ClusterMap>> ShardedClient::RefreshFrom(uint64_t seen) {
  std::lock_guard refresh(refresh_mu_);
  {
    // Another thread may have refreshed while this one waited: one read serves them all.
    std::lock_guard lock(mu_);
    if (map_ != nullptr && map_->version() > seen) return map_;
  }
  absl::StatusOr<ClusterMap> read = store_.Read();
  if (!read.ok()) return read.status();
  auto fresh = std::make_shared<const ClusterMap>(*std::move(read));
  std::lock_guard lock(mu_);
  // Never go back to an older map (a stale read cannot happen on a linearizable store,
  // but a refresh that raced another must not undo it).
  if (map_ == nullptr || fresh->version() >= map_->version()) {
    map_ = std::move(fresh);
    map_read_ = std::chrono::steady_clock::now();
  }
  return map_;
}

absl::StatusOr<std::shared_ptr<const ClusterMap>> ShardedClient::CurrentMap() {
  uint64_t seen = 0;
  {
    std::lock_guard lock(mu_);
    if (map_ != nullptr) {
      if (std::chrono::steady_clock::now() - map_read_ < options_.max_map_age) return map_;
      seen = map_->version();
    }
  }
  absl::StatusOr<std::shared_ptr<const ClusterMap>> map = RefreshFrom(seen);
  if (!map.ok() && seen > 0) {
    // An old map still routes correctly or draws a wrong-group answer; keep using it.
    std::lock_guard lock(mu_);
    return map_;
  }
  return map;
}

absl::StatusOr<ShardedClient::Route> ShardedClient::RouteFor(std::string_view row) {
  absl::StatusOr<std::shared_ptr<const ClusterMap>> map = CurrentMap();
  if (!map.ok()) return map.status();
  const GroupId id = (*map)->GroupOfRow(row);
  const cluster::Group* group = (*map)->FindGroup(id);
  const std::string members = Members(*group);  // the map is valid: the group exists
  {
    std::lock_guard lock(mu_);
    auto it = clients_.find(id);
    if (it != clients_.end() && it->second.members == members) {
      return Route{*map, it->second.client};
    }
  }
  // Made outside the lock: a factory may take a while (it must not contact the group).
  absl::StatusOr<std::unique_ptr<Client>> made = factory_(*group);
  if (!made.ok()) return made.status();
  std::shared_ptr<Client> client = *std::move(made);
  std::lock_guard lock(mu_);
  auto& slot = clients_[id];
  if (slot.members != members || slot.client == nullptr) slot = GroupClient{members, client};
  return Route{*map, slot.client};
}

template <typename Result, typename Op>
Result ShardedClient::Call(std::string_view row, const Op& op, bool read) {
  auto backoff = options_.retry_backoff;
  absl::Status last;
  bool refreshed_for_outage = false;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    absl::StatusOr<Route> route = RouteFor(row);
    if (!route.ok()) return route.status();
    Result result = op(*route->client);
    const absl::Status status = StatusOf(result);
    if ((absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) &&
        !refreshed_for_outage) {
      // The group client found no leader among the replicas the map named: the group's
      // replicas may have changed (docs/sharding.md section 7). Later calls use the new
      // list; a read is retried at once, a write is not (its outcome is unknown, and a
      // retry would carry a new at-most-once id).
      refreshed_for_outage = true;
      absl::StatusOr<std::shared_ptr<const ClusterMap>> fresh = RefreshFrom(route->map->version());
      if (read && fresh.ok() && (*fresh)->version() > route->map->version()) continue;
      return result;
    }
    std::optional<uint64_t> their_version = ParseWrongGroup(status);
    if (!their_version.has_value()) return result;
    last = StatusOf(result);
    const uint64_t ours = route->map->version();
    // Another thread may already have brought a newer map.
    bool newer = map_version() > ours;
    if (!newer && *their_version >= ours) {
      // The group knows a map at least as new as ours and does not serve the row in it.
      absl::StatusOr<std::shared_ptr<const ClusterMap>> fresh = RefreshFrom(ours);
      if (!fresh.ok()) return fresh.status();
      newer = (*fresh)->version() > ours;
    }
    // No newer map to follow: the group has not caught up with the map yet, or the config
    // group has not seen the change; give it a moment.
    if (!newer && attempt + 1 < options_.max_attempts) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "sharded client: row still routed to the wrong group after ", options_.max_attempts,
      " attempts (last: ", last.message(), "; our map version ", map_version(), ")"));
}

void ShardedClient::StartGet(std::string_view row, std::string_view column,
                             std::function<void(StartedGet)> done) {
  std::shared_ptr<Client> client;
  {
    std::lock_guard lock(mu_);
    if (map_ != nullptr && std::chrono::steady_clock::now() - map_read_ < options_.max_map_age) {
      const GroupId id = map_->GroupOfRow(row);
      auto it = clients_.find(id);
      if (it != clients_.end() && it->second.members == Members(*map_->FindGroup(id))) {
        client = it->second.client;
      }
    }
  }
  if (client == nullptr) return done(std::nullopt);
  client->StartGet(row, column, [done = std::move(done)](StartedGet got) {
    if (got.has_value() && !got->ok()) {
      const absl::Status& status = got->status();
      if (ParseWrongGroup(status).has_value() || absl::IsUnavailable(status) ||
          absl::IsDeadlineExceeded(status)) {
        got = std::nullopt;  // Call's routing and retries decide these
      }
    }
    done(std::move(got));
  });
}

absl::StatusOr<std::string> ShardedClient::Get(std::string_view row, std::string_view column) {
  return Call<absl::StatusOr<std::string>>(
      row, [&](Client& c) { return c.Get(row, column); }, /*read=*/true);
}

absl::Status ShardedClient::Put(std::string_view row, std::string_view column,
                                std::string_view value) {
  return Call<absl::Status>(row, [&](Client& c) { return c.Put(row, column, value); });
}

absl::StatusOr<bool> ShardedClient::CPut(std::string_view row, std::string_view column,
                                         std::optional<std::string_view> expected,
                                         std::string_view value) {
  return Call<absl::StatusOr<bool>>(
      row, [&](Client& c) { return c.CPut(row, column, expected, value); });
}

absl::Status ShardedClient::Delete(std::string_view row, std::string_view column) {
  return Call<absl::Status>(row, [&](Client& c) { return c.Delete(row, column); });
}

absl::StatusOr<bool> ShardedClient::CDelete(std::string_view row, std::string_view column,
                                            std::string_view expected) {
  return Call<absl::StatusOr<bool>>(row,
                                    [&](Client& c) { return c.CDelete(row, column, expected); });
}

absl::StatusOr<ColumnPage> ShardedClient::List(std::string_view row, const ListOptions& options) {
  return Call<absl::StatusOr<ColumnPage>>(
      row, [&](Client& c) { return c.List(row, options); }, /*read=*/true);
}

absl::StatusOr<std::vector<WatchedCell>> ShardedClient::Watch(std::string_view row,
                                                              const std::vector<WatchedCell>& known,
                                                              std::chrono::milliseconds timeout,
                                                              WatchCancel* cancel) {
  return Call<absl::StatusOr<std::vector<WatchedCell>>>(
      row, [&](Client& c) { return c.Watch(row, known, timeout, cancel); }, /*read=*/true);
}

}  // namespace penncloud::kvs::shard
