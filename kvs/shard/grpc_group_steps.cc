#include "kvs/shard/grpc_group_steps.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"

namespace penncloud::kvs::shard {
namespace {

pb::MigrationEntry EntryOf(const cluster::Migration& m) {
  pb::MigrationEntry e;
  e.set_id(m.id());
  e.set_start(m.range().start());
  e.set_end(m.range().end());
  e.set_from_group(m.from_group());
  e.set_to_group(m.to_group());
  return e;
}

}  // namespace

absl::StatusOr<const cluster::Group*> GrpcGroupSteps::FindGroup(GroupId id) {
  // mu_ held.
  if (!map_.has_value() || map_->FindGroup(id) == nullptr) {
    absl::StatusOr<ClusterMap> map = store_.Read();
    if (!map.ok()) return map.status();
    map_ = std::move(*map);
  }
  const cluster::Group* group = map_->FindGroup(id);
  if (group == nullptr)
    return absl::NotFoundError(absl::StrCat("group ", id, " is not in the map"));
  return group;
}

absl::StatusOr<ReplicaGroupClient*> GrpcGroupSteps::Client(GroupId id) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<const cluster::Group*> group = FindGroup(id);
  if (!group.ok()) return group.status();
  std::vector<std::string> addresses;
  for (const cluster::Replica& r : (*group)->replicas()) addresses.push_back(r.address());
  auto it = clients_.find(id);
  if (it != clients_.end() && it->second->addresses() == addresses) return it->second.get();
  // New group, or its replicas changed (docs/sharding.md section 7): a client of the old
  // list may never reach a leader among the new replicas. The old client stays alive for
  // calls still using it.
  if (it != clients_.end()) retired_.push_back(std::move(it->second));
  auto client = std::make_unique<ReplicaGroupClient>(std::move(addresses), options_);
  ReplicaGroupClient* out = client.get();
  clients_[id] = std::move(client);
  return out;
}

absl::Status GrpcGroupSteps::InstallMap(GroupId group, const ClusterMap& map) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!map_.has_value() || map_->version() < map.version()) map_ = map;
  }
  absl::StatusOr<ReplicaGroupClient*> client = Client(group);
  if (!client.ok()) return client.status();
  return (*client)->InstallMap(map.bytes());
}

absl::Status GrpcGroupSteps::Step(GroupId group, pb::MigrateKind kind,
                                  const cluster::Migration& m) {
  absl::StatusOr<ReplicaGroupClient*> client = Client(group);
  if (!client.ok()) return client.status();
  pb::MigrateStep step;
  step.set_kind(kind);
  *step.mutable_migration() = EntryOf(m);
  return (*client)->Migrate(step);
}

absl::Status GrpcGroupSteps::Freeze(const cluster::Migration& m) {
  return Step(m.from_group(), pb::MIGRATE_FREEZE, m);
}
absl::Status GrpcGroupSteps::Release(const cluster::Migration& m) {
  return Step(m.from_group(), pb::MIGRATE_RELEASE, m);
}
absl::Status GrpcGroupSteps::Activate(const cluster::Migration& m) {
  return Step(m.to_group(), pb::MIGRATE_ACTIVATE, m);
}
absl::Status GrpcGroupSteps::Drop(const cluster::Migration& m) {
  return Step(m.from_group(), pb::MIGRATE_DROP, m);
}
absl::Status GrpcGroupSteps::Discard(const cluster::Migration& m) {
  return Step(m.to_group(), pb::MIGRATE_DISCARD, m);
}
absl::Status GrpcGroupSteps::Unfreeze(const cluster::Migration& m) {
  return Step(m.from_group(), pb::MIGRATE_UNFREEZE, m);
}

absl::StatusOr<InstallResult> GrpcGroupSteps::Install(const cluster::Migration& m) {
  absl::StatusOr<ReplicaGroupClient*> destination = Client(m.to_group());
  if (!destination.ok()) return destination.status();
  std::vector<std::string> sources;
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<const cluster::Group*> group = FindGroup(m.from_group());
    if (!group.ok()) return group.status();
    for (const cluster::Replica& r : (*group)->replicas()) sources.push_back(r.address());
  }
  grpc::Status last(grpc::StatusCode::UNAVAILABLE, "no source replica tried");
  // Any source replica that has applied FREEZE holds the final range; a lagging one
  // refuses and the next is tried.
  for (const std::string& address : sources) {
    auto stub = pb::KvsPeer::NewStub(grpc::CreateChannel(address, tls::ChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    pb::FetchRangeRequest request;
    *request.mutable_migration() = EntryOf(m);
    auto reader = stub->FetchRange(&context, request);
    InstallResult result;
    pb::RangeChunk chunk;
    bool first = true;
    // A fresh attempt number per copy (see pb::MigrateStep.attempt): chunks of an earlier
    // try that are still in flight can then never mix with this one.
    const uint64_t attempt = static_cast<uint64_t>(absl::ToUnixMicros(absl::Now()));
    uint64_t index = 0;
    bool complete = false;
    absl::Status sent;
    while (sent.ok() && reader->Read(&chunk)) {
      pb::MigrateStep step;
      step.set_kind(pb::MIGRATE_INSTALL_CHUNK);
      *step.mutable_migration() = EntryOf(m);
      step.set_reset(first);
      step.set_last(chunk.last());
      step.set_attempt(attempt);
      step.set_chunk(index++);
      for (pb::RangeCell& cell : *chunk.mutable_cells()) {
        ++result.cells;
        result.bytes += cell.row().size() + cell.column().size() + cell.value().size();
      }
      *step.mutable_cells() = std::move(*chunk.mutable_cells());
      *step.mutable_sessions() = std::move(*chunk.mutable_sessions());
      sent = (*destination)->Migrate(step);
      complete = chunk.last();
      first = false;
      chunk.Clear();
    }
    if (!sent.ok()) {
      context.TryCancel();
      reader->Finish().IgnoreError();
      return sent;
    }
    last = reader->Finish();
    if (last.ok() && complete) return result;
  }
  return absl::UnavailableError(absl::StrCat("install of migration ", m.id(), " from group ",
                                             m.from_group(),
                                             " failed: no replica gave the frozen range; last "
                                             "error: ",
                                             last.error_message()));
}

}  // namespace penncloud::kvs::shard
