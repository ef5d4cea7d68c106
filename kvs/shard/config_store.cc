#include "kvs/shard/config_store.h"

#include "absl/strings/str_cat.h"

namespace penncloud::kvs::shard {

absl::StatusOr<ClusterMap> ConfigStore::Read() {
  absl::StatusOr<std::string> bytes = config_group_.Get(kMapRow, kMapColumn);
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError("config store: no cluster map yet (initialize the cluster first)");
  }
  if (!bytes.ok()) return bytes.status();
  return ClusterMap::Parse(*bytes);
}

absl::StatusOr<ClusterMap> ConfigStore::Initialize(cluster::ClusterMap first) {
  if (first.version() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("config store: the first map has version 1, not ", first.version()));
  }
  absl::StatusOr<ClusterMap> map = ClusterMap::FromProto(std::move(first));
  if (!map.ok()) return map.status();
  absl::StatusOr<bool> written =
      config_group_.CPut(kMapRow, kMapColumn, std::nullopt, map->bytes());
  if (!written.ok()) return written.status();
  if (!*written) {
    // A retried CPut whose first attempt landed also reports false: if the stored map is
    // ours, the initialization did happen.
    absl::StatusOr<ClusterMap> stored = Read();
    if (stored.ok() && stored->bytes() == map->bytes()) return stored;
    return absl::AlreadyExistsError("config store: the cluster map already exists");
  }
  return map;
}

absl::StatusOr<ClusterMap> ConfigStore::Propose(const ClusterMap& current,
                                                cluster::ClusterMap next) {
  if (next.version() != current.version() + 1) {
    return absl::InvalidArgumentError(absl::StrCat("config store: map version ", next.version(),
                                                   " does not follow ", current.version()));
  }
  absl::StatusOr<ClusterMap> map = ClusterMap::FromProto(std::move(next));
  if (!map.ok()) return map.status();
  absl::StatusOr<bool> written =
      config_group_.CPut(kMapRow, kMapColumn, current.bytes(), map->bytes());
  if (!written.ok()) return written.status();
  if (!*written) {
    absl::StatusOr<ClusterMap> stored = Read();
    if (!stored.ok()) return stored.status();
    // Our own earlier attempt may have landed before a retry reported false.
    if (stored->bytes() == map->bytes()) return stored;
    return absl::AbortedError(
        absl::StrCat("config store: the map changed concurrently (now version ", stored->version(),
                     ", expected ", current.version(), ")"));
  }
  return map;
}

absl::StatusOr<ClusterMap> ConfigStore::Update(
    const std::function<absl::StatusOr<cluster::ClusterMap>(const ClusterMap&)>& plan,
    int attempts) {
  absl::Status last = absl::AbortedError("config store: no attempt made");
  for (int i = 0; i < attempts; ++i) {
    absl::StatusOr<ClusterMap> current = Read();
    if (!current.ok()) return current.status();
    absl::StatusOr<cluster::ClusterMap> next = plan(*current);
    if (!next.ok()) return next.status();
    next->set_version(current->version() + 1);
    absl::StatusOr<ClusterMap> stored = Propose(*current, *std::move(next));
    if (stored.ok() || !absl::IsAborted(stored.status())) return stored;
    last = stored.status();
  }
  return last;
}

}  // namespace penncloud::kvs::shard
