// Everything a replica is told at start-up (kvs_server's flags map onto this one to one).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "kvs/server/compaction_policy.h"

namespace penncloud::kvs::server {

struct ReplicaOptions {
  uint64_t id = 0;
  // How this replica reaches every member of the group (its own entry included), by id.
  std::map<uint64_t, std::string> peers;
  // The client-facing address of every member, for leader hints (default: `peers`). They
  // differ when peer traffic goes through a proxy, as in the partition tests.
  std::map<uint64_t, std::string> client_addresses;
  std::string listen;  // host:port to serve on (default: peers[id])
  std::string data_dir;
  // A replica added to a running group (docs/sharding.md section 7): it starts with no
  // membership and waits to be named a learner by the group's log; `peers` must name the
  // current members (to fetch a snapshot from) and this replica. Ignored once it has state.
  bool join = false;

  int tick_ms = 10;
  int election_ticks = 30;
  int heartbeat_ticks = 5;
  bool lease_reads = true;
  uint32_t window = 32;  // Paxos pipelining window, fixed when the group is created
  // Take a snapshot (and compact the log) every this many applied slots, keeping the last
  // `log_keep_slots` slots in the log for followers that are only a little behind.
  uint64_t snapshot_interval = 10000;
  uint64_t log_keep_slots = 1000;
  // ... and as soon as the applied entries since the last snapshot hold this many bytes
  // (0 = no byte bound), so that the log and the replay at start stay small whatever the
  // value sizes (compaction_policy.h).
  uint64_t snapshot_log_bytes = kDefaultLogBytes;
  // The leader refuses client writes (RESOURCE_EXHAUSTED) while fewer bytes than this are
  // free under `data_dir`, rather than accept them and stop when the persist finds no space.
  uint64_t disk_reserve_bytes = 64ull << 20;
  // A write not chosen within this time is answered UNAVAILABLE (the client retries it).
  int write_timeout_ms = 3000;
  // The leader proposes a client write with a deadline (Command.apply_by_ms) only until
  // that time plus this slack, for clock skew between hosts (assumed NTP-synchronised);
  // later it refuses it, not applied (docs/kvs.md "Write deadlines").
  int apply_by_slack_ms = 500;
  // A pass over the whole store with checksums checked (scrubber.h) this long after the
  // start, then every `scrub_interval_ms`; 0 = never.
  int64_t scrub_first_ms = 10 * 60 * 1000;
  int64_t scrub_interval_ms = 24 * 60 * 60 * 1000;
  // A pass reads at most this many bytes a second (0 = as fast as the disk goes), so that
  // it leaves the disk to the log's fsyncs and the reads that serve clients.
  uint64_t scrub_bytes_per_s = 32ull << 20;
  // Watches parked at once (docs/kvs.md "Watches"); more are refused RESOURCE_EXHAUSTED.
  size_t max_watches = 10000;
  // The leader drops at-most-once sessions idle (in log time) longer than this, and for
  // half of it refuses writes of unknown sessions stamped before the horizon (docs/kvs.md
  // "The at-most-once table"). 0 = never.
  int64_t session_idle_ms = 3600000;

  // Sharding (docs/sharding.md section 5). This replica's group id in the cluster map; 0 =
  // not sharded: every row is served whatever map is applied.
  uint64_t group = 0;
  // The config group's client addresses ("host:port,..."); when set, the group's leader
  // reads the cluster map there every `map_poll_ms` and applies a newer one.
  std::string config;
  int map_poll_ms = 1000;
};

// Parses "1=host:port,2=host:port,...".
absl::StatusOr<std::map<uint64_t, std::string>> ParseMembers(const std::string& text);

}  // namespace penncloud::kvs::server
