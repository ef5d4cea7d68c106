#include "kvs/ctl/kvsctl_cluster.h"

#include <unistd.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/shard/cluster_map.h"
#include "kvs/shard/cluster_status.h"
#include "kvs/shard/config_store.h"
#include "kvs/shard/describe.h"
#include "kvs/shard/grpc_group_steps.h"
#include "kvs/shard/node_membership.h"
#include "kvs/shard/rebalancer.h"
#include "kvs/shard/rebalancer_lease.h"

// Rebalancer flags live here, with the commands that read them.
ABSL_FLAG(int, parallel, 4, "rebalance, group add/remove: ranges moved at once (1..64).");
ABSL_FLAG(bool, abort, false,
          "rebalance: undo the rebalance in progress instead (only before any range is "
          "switched).");
ABSL_FLAG(int, lease_s, 30,
          "rebalance: seconds of the rebalancer lease (renewed while working; another "
          "rebalancer may take over that long after this one dies).");

namespace penncloud::kvs::kvsctl {
namespace {

int Fail(const std::string& what, const absl::Status& status) {
  std::cerr << "kvsctl: " << what << ": " << status << "\n";
  return 1;
}

int Usage(const std::string& why) {
  std::cerr << "kvsctl: " << why << " (see kvsctl --help)\n";
  return 2;
}

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  for (absl::string_view a : absl::StrSplit(list, ',', absl::SkipWhitespace())) out.emplace_back(a);
  return out;
}

// "ID@1=host:port,2=host:port,..." -> a serving group.
absl::StatusOr<cluster::Group> ParseGroupArg(const std::string& arg) {
  const size_t at = arg.find('@');
  uint64_t id = 0;
  if (at == std::string::npos || !absl::SimpleAtoi(arg.substr(0, at), &id) || id == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad group '", arg, "' (want ID@1=host:port,2=host:port,...)"));
  }
  return shard::ParseGroup(id, arg.substr(at + 1));
}

// Every group in `map` is told to apply it; one that is down now reads it from the config
// group later, which is reported, not fatal.
void PushMap(const shard::ClusterMap& map, const ClusterFlags& flags) {
  shard::PushMapToGroups(map, std::chrono::milliseconds(std::min(flags.timeout_ms, 3000)),
                         [](std::string_view line) { std::cerr << "kvsctl: " << line << "\n"; });
}

std::string LeaseOwner() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat("kvsctl@", host, ":", getpid());
}

// Drives the rebalance recorded in the map to its end (or undoes it with --abort), holding
// the rebalancer lease, printing progress.
int Rebalance(shard::ConfigStore& store, Client& config, const ClusterFlags& flags) {
  ReplicaGroupOptions options;
  options.deadline = std::chrono::milliseconds(flags.timeout_ms);
  shard::GrpcGroupSteps steps(store, options);
  const int parallel = absl::GetFlag(FLAGS_parallel);
  if (parallel < 1 || parallel > 64) return Usage("--parallel must be 1..64");
  shard::RebalancerLease lease(config, LeaseOwner(), absl::Seconds(absl::GetFlag(FLAGS_lease_s)));
  shard::Rebalancer rebalancer(store, steps, {.parallel = parallel, .lease = &lease});
  if (absl::GetFlag(FLAGS_abort)) {
    absl::Status s = rebalancer.Abort();
    if (!s.ok()) return Fail("rebalance --abort", s);
    absl::StatusOr<shard::ClusterMap> map = store.Read();
    std::cerr << "kvsctl: rebalance aborted; every range is back with its old group\n";
    if (map.ok()) std::cout << shard::DescribeMap(*map);
    return 0;
  }
  absl::Status s = rebalancer.Run([](const shard::RebalanceProgress& p) {
    std::cerr << "map version " << p.map_version << ": " << p.ranges_done << "/" << p.ranges_total
              << " ranges moved (" << p.ranges_in_flight << " in flight), " << p.bytes_done
              << " bytes\n";
  });
  if (!s.ok()) {
    return Fail("rebalance stopped (run 'kvsctl rebalance' to resume from where it stopped)", s);
  }
  absl::StatusOr<shard::ClusterMap> map = store.Read();
  if (map.ok()) std::cout << shard::DescribeMap(*map);
  return 0;
}

}  // namespace

int RunClusterCommand(const std::vector<std::string>& args, const ClusterFlags& flags) {
  if (flags.config.empty()) {
    return Usage("cluster commands need --config=host:port,... (or $PENNCLOUD_KVS_CONFIG)");
  }
  ReplicaGroupOptions options;
  options.deadline = std::chrono::milliseconds(flags.timeout_ms);
  ReplicaGroupClient config(Split(flags.config), options);
  shard::ConfigStore store(config);
  const std::string what = args.size() >= 2 ? args[0] + " " + args[1] : args[0];

  if (what == "cluster init") {
    if (args.size() < 3) return Usage("cluster init takes ID@1=host:port,... for each group");
    cluster::ClusterMap first;
    first.set_version(1);
    first.set_virtual_nodes(flags.virtual_nodes);
    first.set_next_migration_id(1);
    for (size_t i = 2; i < args.size(); ++i) {
      absl::StatusOr<cluster::Group> group = ParseGroupArg(args[i]);
      if (!group.ok()) return Fail("cluster init", group.status());
      *first.add_groups() = std::move(*group);
    }
    absl::StatusOr<shard::ClusterMap> map = store.Initialize(std::move(first));
    if (!map.ok()) return Fail("cluster init", map.status());
    PushMap(*map, flags);
    std::cout << shard::DescribeMap(*map);
    return 0;
  }
  if (what == "cluster show" || what == "rebalance progress" || what == "cluster status") {
    if (args.size() != 2) return Usage(what + " takes no arguments");
    absl::StatusOr<shard::ClusterStatus> status;
    absl::StatusOr<shard::ClusterMap> map;
    if (what == "cluster status") {
      status = shard::ReadClusterStatus(store, config, shard::GrpcGroupProber(absl::Seconds(1)),
                                        absl::Now());
      map = status.ok() ? absl::StatusOr<shard::ClusterMap>(status->map)
                        : absl::StatusOr<shard::ClusterMap>(status.status());
    } else {
      map = store.Read();
    }
    if (absl::IsNotFound(map.status())) {
      std::cerr << "kvsctl: no cluster map yet: run 'kvsctl cluster init' first\n";
      return 3;
    }
    if (!map.ok()) return Fail(what, map.status());
    if (what == "cluster status") {
      std::cout << shard::DescribeClusterStatus(*status);
    } else if (what == "cluster show") {
      std::cout << shard::DescribeMap(*map);
    } else {
      std::cout << shard::DescribeRebalance(shard::EstimateRebalance(*map, absl::Now())) << "\n";
    }
    return 0;
  }
  if (what == "group add" || what == "group remove") {
    const bool add = what == "group add";
    if (args.size() != 3) {
      return Usage(add ? "group add takes ID@1=host:port,2=host:port,..."
                       : "group remove takes ID");
    }
    absl::StatusOr<cluster::Group> group;
    uint64_t id = 0;
    if (add) {
      group = ParseGroupArg(args[2]);
      if (!group.ok()) return Fail(what, group.status());
    } else if (!absl::SimpleAtoi(args[2], &id) || id == 0) {
      return Usage("group remove takes a group id (a number > 0)");
    }
    absl::StatusOr<shard::ClusterMap> map = store.Update([&](const shard::ClusterMap& current) {
      return add ? shard::PlanAddGroup(current, *group) : shard::PlanRemoveGroup(current, id);
    });
    if (!map.ok()) return Fail(what, map.status());
    PushMap(*map, flags);
    // Planned migrations keep every range at its current group (docs/sharding.md section 2),
    // so the map is safe as it stands; moving the data is the rebalance's job.
    std::cerr << "kvsctl: planned " << map->proto().migrations_size() << " range moves\n";
    if (flags.no_wait) {
      std::cout << shard::DescribeMap(*map);
      return 0;
    }
    return Rebalance(store, config, flags);
  }
  if (args[0] == "rebalance" && args.size() == 1) return Rebalance(store, config, flags);
  return Usage("unknown cluster command '" + what + "'");
}

}  // namespace penncloud::kvs::kvsctl
