#include "kvs/shard/rebalancer.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace penncloud::kvs::shard {
namespace {

RebalanceProgress ProgressOf(const ClusterMap& m) {
  RebalanceProgress p{m.version(), m.proto().rebalance_ranges_total(),
                      m.proto().rebalance_ranges_done(), m.proto().rebalance_bytes_done(), 0};
  for (const cluster::Migration& migration : m.proto().migrations()) {
    if (migration.state() != cluster::MIGRATION_PLANNED &&
        migration.state() != cluster::MIGRATION_DONE) {
      ++p.ranges_in_flight;
    }
  }
  return p;
}

// The map before the rebalance in `current` was planned: no migrations, and the ring of
// before (the group being added leaves, the group being removed serves again).
absl::StatusOr<cluster::ClusterMap> PlanAbort(const ClusterMap& current) {
  cluster::ClusterMap next = current.proto();
  for (const cluster::Migration& m : next.migrations()) {
    if (m.state() >= cluster::MIGRATION_SWITCHED) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot abort: migration ", m.id(), " is already switched to group ",
                       m.to_group(), "; run 'kvsctl rebalance' to finish the rebalance instead"));
    }
  }
  if (next.migrations().empty()) return absl::NotFoundError("no rebalance in progress");
  std::vector<cluster::Group> groups;
  bool leaving = false;
  for (const cluster::Group& g : next.groups()) {
    if (g.state() == cluster::GROUP_LEAVING) leaving = true;
  }
  const GroupId added = next.migrations(0).to_group();
  for (cluster::Group g : next.groups()) {
    if (g.state() == cluster::GROUP_LEAVING) {
      g.set_state(cluster::GROUP_SERVING);
    } else if (!leaving && g.id() == added) {
      continue;  // the group this rebalance was adding
    }
    groups.push_back(std::move(g));
  }
  next.clear_groups();
  for (cluster::Group& g : groups) *next.add_groups() = std::move(g);
  next.clear_migrations();
  next.set_rebalance_ranges_total(0);
  next.set_rebalance_ranges_done(0);
  next.set_rebalance_bytes_done(0);
  next.set_rebalance_started_unix_ms(0);
  return next;
}

}  // namespace

absl::Status Rebalancer::PushToAll(const ClusterMap& map) {
  // One Paxos round per group, all at once: a push per switched range is on the critical
  // path of every migration (measured in docs/benchmarks.md).
  const auto& groups = map.proto().groups();
  std::vector<absl::Status> results(groups.size());
  std::vector<std::thread> threads;
  for (int i = 1; i < groups.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = steps_.InstallMap(groups[i].id(), map); });
  }
  if (!groups.empty()) results[0] = steps_.InstallMap(groups[0].id(), map);
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Rebalancer::Renew() {
  if (options_.lease == nullptr) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(lease_mu_);
  return options_.lease->Renew(absl::Now());
}

absl::StatusOr<ClusterMap> Rebalancer::WriteBatch(const std::vector<PendingRecord*>& batch) {
  if (absl::Status s = Renew(); !s.ok()) return s;
  return store_.Update([&](const ClusterMap& current) -> absl::StatusOr<cluster::ClusterMap> {
    absl::StatusOr<ClusterMap> map = current;
    absl::StatusOr<cluster::ClusterMap> next = current.proto();
    for (const PendingRecord* r : batch) {
      next = AdvanceMigration(*map, r->id, r->state, r->counts.cells, r->counts.bytes);
      if (!next.ok()) return next;
      map = ClusterMap::FromProto(*next);
      if (!map.ok()) return map.status();
    }
    // The first recorded step starts the clock of the time-left estimate.
    if (next->rebalance_started_unix_ms() == 0) {
      next->set_rebalance_started_unix_ms(absl::ToUnixMillis(absl::Now()));
    }
    // AdvanceMigration added one version per record; the batch is one change.
    next->set_version(current.version() + 1);
    return next;
  });
}

absl::StatusOr<ClusterMap> Rebalancer::Record(uint64_t id, cluster::MigrationState state,
                                              InstallResult counts, bool push) {
  // Group commit: every worker queues its record; whoever finds no write in progress
  // writes all queued records as one map version while the others wait for it. Map
  // writes are serial Paxos rounds in the config group, so with several ranges in flight
  // this is what keeps them from being the bottleneck of a rebalance.
  PendingRecord mine{id, state, counts};
  std::unique_lock<std::mutex> lock(record_mu_);
  pending_.push_back(&mine);
  while (!mine.done) {
    if (writing_) {
      record_cv_.wait(lock);
      continue;
    }
    writing_ = true;
    std::vector<PendingRecord*> batch;
    batch.swap(pending_);
    lock.unlock();
    absl::StatusOr<ClusterMap> written = WriteBatch(batch);
    lock.lock();
    for (PendingRecord* r : batch) {
      r->result = written;
      r->done = true;
    }
    writing_ = false;
    if (written.ok() && progress_) progress_(ProgressOf(*written));
    record_cv_.notify_all();
  }
  lock.unlock();
  if (!mine.result.ok()) return mine.result.status();
  // Outside the lock: groups only ever apply newer maps, so pushes may overlap.
  if (push) {
    if (absl::Status s = PushToAll(*mine.result); !s.ok()) return s;
  }
  return mine.result;
}

absl::Status Rebalancer::Drive(cluster::Migration m) {
  InstallResult counts{m.cells_copied(), m.bytes_copied()};
  // Each case falls through to the next step: the map says where to resume.
  switch (m.state()) {
    case cluster::MIGRATION_PLANNED: {
      if (absl::Status s = Renew(); !s.ok()) return s;
      if (absl::Status s = steps_.Freeze(m); !s.ok()) return s;
      if (auto map = Record(m.id(), cluster::MIGRATION_FROZEN, counts, false); !map.ok()) {
        return map.status();
      }
    }
      [[fallthrough]];
    case cluster::MIGRATION_FROZEN: {
      if (absl::Status s = Renew(); !s.ok()) return s;
      absl::StatusOr<InstallResult> installed = steps_.Install(m);
      if (!installed.ok()) return installed.status();
      counts = *installed;
      if (auto map = Record(m.id(), cluster::MIGRATION_INSTALLED, counts, false); !map.ok()) {
        return map.status();
      }
    }
      [[fallthrough]];
    case cluster::MIGRATION_INSTALLED:
      // Routing moves to the destination, which answers "arriving" until Activate.
      if (auto map = Record(m.id(), cluster::MIGRATION_SWITCHED, counts, true); !map.ok()) {
        return map.status();
      }
      [[fallthrough]];
    case cluster::MIGRATION_SWITCHED:
      // The source stops before the destination starts: never both serve the range.
      if (absl::Status s = Renew(); !s.ok()) return s;
      if (absl::Status s = steps_.Release(m); !s.ok()) return s;
      {
        // Once the source has released the range, the destination's start and the
        // source's delete are independent (the destination holds the range durably since
        // INSTALLED), so they run side by side.
        absl::Status dropped;
        std::thread drop([&] { dropped = steps_.Drop(m); });
        absl::Status activated = steps_.Activate(m);
        drop.join();
        if (!activated.ok()) return activated;
        if (!dropped.ok()) return dropped;
      }
      if (auto map = Record(m.id(), cluster::MIGRATION_DONE, counts, false); !map.ok()) {
        return map.status();
      }
      return absl::OkStatus();
    case cluster::MIGRATION_DONE:
      return absl::OkStatus();
    default:
      return absl::InternalError("rebalancer: migration without state");
  }
}

absl::Status Rebalancer::Run(const std::function<void(const RebalanceProgress&)>& progress) {
  progress_ = progress;
  if (options_.lease != nullptr) {
    if (absl::Status s = options_.lease->Acquire(absl::Now()); !s.ok()) return s;
  }
  absl::StatusOr<ClusterMap> map = store_.Read();
  if (!map.ok()) return map.status();
  // Every group must know the plan before any of its ranges freezes (and a group that
  // missed a push while we were down catches up here).
  if (absl::Status s = PushToAll(*map); !s.ok()) return s;
  const std::vector<cluster::Migration> migrations(map->proto().migrations().begin(),
                                                   map->proto().migrations().end());
  // Workers take the migrations in map order; the first error stops every worker before
  // its next migration (the steps already taken are recorded, so a new run resumes).
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  absl::Status first_error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (size_t i = next++; i < migrations.size() && !failed.load(); i = next++) {
      absl::Status s = Drive(migrations[i]);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = s;
        failed = true;
      }
    }
  };
  const size_t workers = std::clamp<size_t>(options_.parallel, 1, 64);
  if (workers == 1) {
    work();
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < std::min(workers, migrations.size()); ++i) threads.emplace_back(work);
    for (std::thread& t : threads) t.join();
  }
  if (!first_error.ok()) return first_error;
  map = store_.Read();
  if (!map.ok()) return map.status();
  if (!Tidy(*map).has_value()) {
    if (options_.lease != nullptr) options_.lease->Release();
    return absl::OkStatus();
  }
  absl::StatusOr<ClusterMap> tidy = store_.Update([](const ClusterMap& current) {
    std::optional<cluster::ClusterMap> next = Tidy(current);
    if (!next.has_value()) return absl::StatusOr<cluster::ClusterMap>(current.proto());
    if (next->migrations().empty()) next->set_rebalance_started_unix_ms(0);
    return absl::StatusOr<cluster::ClusterMap>(*std::move(next));
  });
  if (!tidy.ok()) return tidy.status();
  if (progress_) progress_(ProgressOf(*tidy));
  absl::Status pushed = PushToAll(*tidy);
  if (options_.lease != nullptr) options_.lease->Release();
  return pushed;
}

absl::Status Rebalancer::Abort() {
  if (options_.lease != nullptr) {
    if (absl::Status s = options_.lease->Acquire(absl::Now()); !s.ok()) return s;
  }
  absl::StatusOr<ClusterMap> map = store_.Read();
  if (!map.ok()) return map.status();
  // Refuse before touching any group if a range is already switched.
  if (absl::StatusOr<cluster::ClusterMap> check = PlanAbort(*map); !check.ok()) {
    return check.status();
  }
  // The destination never served a range, so it goes first; then the source takes writes
  // again. PLANNED ranges too: a run may have frozen one and died before recording it (a
  // step that finds nothing to undo changes nothing).
  for (const cluster::Migration& m : map->proto().migrations()) {
    if (absl::Status s = steps_.Discard(m); !s.ok()) return s;
    if (absl::Status s = steps_.Unfreeze(m); !s.ok()) return s;
  }
  const ClusterMap before = *map;
  map = store_.Update(PlanAbort);
  if (!map.ok()) return map.status();
  // The groups of the aborted plan learn the map too (an added group then serves nothing).
  absl::Status pushed = PushToAll(*map);
  // The group an aborted add was bringing in learns it too (then it serves nothing); it
  // also reads the map itself, so a failure here is not an error.
  for (const cluster::Group& g : before.proto().groups()) {
    if (map->FindGroup(g.id()) == nullptr) steps_.InstallMap(g.id(), *map).IgnoreError();
  }
  if (options_.lease != nullptr) options_.lease->Release();
  return pushed;
}

}  // namespace penncloud::kvs::shard
