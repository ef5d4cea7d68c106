// kvs_server: one replica of a PennCloud key-value replica group.
//
//   kvs_server --id=1 --peers=1=127.0.0.1:7011,2=127.0.0.1:7012,3=127.0.0.1:7013
//              --data_dir=state/kvs-1
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/config.h"
#include "common/grpc_metrics.h"
#include "common/grpc_tls.h"
#include "common/log.h"
#include "common/node_name.h"
#include "common/stop_signal.h"
#include "http/metrics_server.h"
#include "kvs/server/disk_repair.h"
#include "kvs/server/fatal.h"
#include "kvs/server/replica.h"
#include "kvs/server/self_restart.h"
#include "kvs/server/status_metrics.h"
#include "kvs/storage/disk.h"
#include "kvs/storage/fault_control.h"

ABSL_FLAG(uint64_t, id, 0, "This replica's id (>= 1); must be one of the ids in --peers.");
ABSL_FLAG(std::string, peers, "",
          "Every member of the group as id=host:port, comma-separated, this replica "
          "included: the addresses this replica uses to reach its peers.");
ABSL_FLAG(std::string, client_addrs, "",
          "Client-facing address of every member (id=host:port,...), sent to clients as "
          "leader hints. Default: --peers. Differs only when peer traffic is proxied.");
ABSL_FLAG(std::string, listen, "",
          "host:port to serve clients and peers on. Default: this replica's --peers entry.");
ABSL_FLAG(std::string, data_dir, "",
          "Directory of this replica's durable state (log, hard state, state machine). "
          "Created if missing; reused on restart.");
ABSL_FLAG(bool, join, false,
          "Start as a replica being added to a running group (docs/sharding.md section 7): "
          "no membership of its own until the group's log names it a learner. --peers must "
          "name the group's current members and this replica. Ignored once --data_dir holds "
          "state.");
ABSL_FLAG(int, tick_ms, 10, "Length of one consensus tick in milliseconds.");
ABSL_FLAG(int, election_ticks, 30,
          "Ticks without a leader before a follower stands for election (randomized up to "
          "twice this). Also bounds the leader's read lease.");
ABSL_FLAG(int, heartbeat_ticks, 5, "Ticks between a leader's heartbeats.");
ABSL_FLAG(bool, lease_reads, true,
          "Serve linearizable reads under the leader's lease (no round trip); false: confirm "
          "leadership with a heartbeat round for every batch of reads.");
ABSL_FLAG(uint32_t, window, 32,
          "Paxos pipelining window (slots in flight). Fixed when the group is created.");
ABSL_FLAG(uint64_t, snapshot_interval, 10000,
          "Compact the log after this many applied slots beyond the last snapshot.");
ABSL_FLAG(uint64_t, snapshot_log_bytes, penncloud::kvs::server::kDefaultLogBytes,
          "Also compact the log as soon as the entries applied since the last snapshot hold "
          "this many bytes (0: no byte bound), so that the log, the replay at start and the "
          "log's memory stay small whatever the value sizes.");
ABSL_FLAG(uint64_t, log_keep_slots, 1000,
          "Slots kept in the log after compaction for followers that lag a little.");
ABSL_FLAG(uint64_t, disk_reserve_mb, 64,
          "As leader, refuse client writes (RESOURCE_EXHAUSTED) while fewer MiB than this are "
          "free under --data_dir.");
ABSL_FLAG(int, write_timeout_ms, 3000,
          "A write not chosen within this time is answered UNAVAILABLE (clients retry it).");
ABSL_FLAG(int, apply_by_slack_ms, 500,
          "Clock skew allowed between hosts: a client write is proposed only until its "
          "deadline plus this many milliseconds (docs/kvs.md \"Write deadlines\").");
ABSL_FLAG(int64_t, scrub_first_s, 600,
          "Read the whole store with checksums checked this long after the start (damage no "
          "request has read yet is then repaired from the peers).");
ABSL_FLAG(int64_t, scrub_interval_s, 86400,
          "Then again this often after each pass ends; 0 = never scrub.");
ABSL_FLAG(uint64_t, scrub_mib_per_s, 32,
          "A scrub reads at most this many MiB a second, leaving the disk to the log and to "
          "client reads; 0 = no limit.");
ABSL_FLAG(uint64_t, max_watches, 10000,
          "As leader, park at most this many Watch calls at once (more: RESOURCE_EXHAUSTED).");
ABSL_FLAG(int64_t, session_idle_ms, 3600000,
          "Drop at-most-once sessions idle longer than this (log time; 0: never). Must exceed "
          "twice the clients' retry deadline (10 s) plus the clock skew between replicas.");
ABSL_FLAG(uint64_t, group, 0,
          "This replica's group id in the cluster map (0: unsharded, serve every row).");
ABSL_FLAG(std::string, config, "",
          "The config group's client addresses (host:port,...): the leader polls the cluster "
          "map there and applies newer versions. Empty: maps arrive only by InstallMap.");
ABSL_FLAG(int, map_poll_ms, 1000, "How often the leader reads the cluster map (with --config).");
ABSL_FLAG(std::string, log_level, "info", "Log level: debug, info, warn or error.");
ABSL_FLAG(int, slow_rpc_ms, 500,
          "RPCs at least this slow are logged with the caller's request id (0: log every RPC).");
ABSL_FLAG(int, drain_ms, 5000, "On SIGTERM, exit after at most this long.");
ABSL_FLAG(int, repair_timeout_ms, 600000,
          "A replica whose store is damaged rebuilds it from its peers before it serves "
          "(docs/kvs.md \"Disk faults\"); it gives up (exit 1) after this long without "
          "every voter of the group answering.");
ABSL_FLAG(std::string, fault_fs_control, "",
          "TESTS ONLY, never set by scripts/start.sh: run this replica's disk through a "
          "fault-injecting file system driven by the file DIR/replica-<id> (words sync_fails, "
          "no_space, crash; kvs/storage/fault_control.h).");

namespace {

using penncloud::kvs::server::Replica;
using penncloud::kvs::server::ReplicaOptions;

// Starts the replica, first rebuilding a damaged store from the peers, and waiting while
// the disk is full (the store cannot even open then). Exits on any other failure.
std::unique_ptr<Replica> StartReplica(const ReplicaOptions& options) {
  namespace server = penncloud::kvs::server;
  bool disk_full_logged = false;
  for (int repairs = 0;;) {
    if (server::NeedsRepair(options.data_dir)) {
      // The survey must see every promise the damaged store's last messages won (docs/kvs.md
      // "Repair"). Those messages may still be on their way when this image started the
      // instant the old one ended, as a restart of its own does.
      server::WaitOutRestartGrace(std::chrono::seconds(2));
      PC_LOG(kWarn, "kvs.repair_started")("data_dir", options.data_dir);
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::milliseconds(absl::GetFlag(FLAGS_repair_timeout_ms));
      if (absl::Status s = server::RepairFromPeers(options, deadline); !s.ok()) {
        std::cerr << "kvs_server: " << s.message() << "\n";
        std::exit(1);
      }
    }
    auto replica = Replica::Start(options);
    if (replica.ok()) return std::move(*replica);
    const absl::Status& s = replica.status();
    if (s.code() == absl::StatusCode::kDataLoss && repairs++ == 0) {
      // Damage found while opening: the replica must not serve (or vote) from this store.
      PC_LOG(kError, "kvs.store_corrupt")("error", s.ToString());
      if (absl::Status marked = server::MarkForRepair(options.data_dir, s.ToString());
          !marked.ok()) {
        server::Fatal("kvs.repair_mark_failed", marked);
      }
      continue;
    }
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      if (!disk_full_logged) {
        PC_LOG(kError, "kvs.disk_full")("error", s.ToString())("retry_ms", 1000);
        std::cerr << "kvs_server: " << s.message() << "; waiting for space\n";
        disk_full_logged = true;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    std::cerr << "kvs_server: " << s << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  penncloud::kvs::server::RememberCommandLine(argc, argv);
  absl::SetProgramUsageMessage(
      "One replica of a PennCloud KVS replica group (Multi-Paxos, durable, linearizable).\n"
      "Example: kvs_server --id=1 "
      "--peers=1=127.0.0.1:7011,2=127.0.0.1:7012,3=127.0.0.1:7013 --data_dir=state/kvs-1");
  penncloud::config::ParseFlags(argc, argv, "kvs_server");
  // gRPC locks absl::Mutex on every call; Debian's absl tracks lock order for deadlock
  // reports on each of those, which costs a few percent of CPU on the hot path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  using penncloud::kvs::server::ParseMembers;
  penncloud::kvs::server::ReplicaOptions options;
  options.id = absl::GetFlag(FLAGS_id);
  auto peers = ParseMembers(absl::GetFlag(FLAGS_peers));
  if (!peers.ok()) {
    std::cerr << "kvs_server: --peers: " << peers.status().message() << "\n";
    return 2;
  }
  options.peers = *peers;
  if (!absl::GetFlag(FLAGS_client_addrs).empty()) {
    auto clients = ParseMembers(absl::GetFlag(FLAGS_client_addrs));
    if (!clients.ok()) {
      std::cerr << "kvs_server: --client_addrs: " << clients.status().message() << "\n";
      return 2;
    }
    options.client_addresses = *clients;
  }
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.join = absl::GetFlag(FLAGS_join);
  if (options.data_dir.empty()) {
    std::cerr << "kvs_server: --data_dir is required\n";
    return 2;
  }
  options.tick_ms = absl::GetFlag(FLAGS_tick_ms);
  options.election_ticks = absl::GetFlag(FLAGS_election_ticks);
  options.heartbeat_ticks = absl::GetFlag(FLAGS_heartbeat_ticks);
  options.lease_reads = absl::GetFlag(FLAGS_lease_reads);
  options.window = absl::GetFlag(FLAGS_window);
  options.snapshot_interval = absl::GetFlag(FLAGS_snapshot_interval);
  options.log_keep_slots = absl::GetFlag(FLAGS_log_keep_slots);
  options.snapshot_log_bytes = absl::GetFlag(FLAGS_snapshot_log_bytes);
  options.write_timeout_ms = absl::GetFlag(FLAGS_write_timeout_ms);
  options.apply_by_slack_ms = absl::GetFlag(FLAGS_apply_by_slack_ms);
  options.scrub_first_ms = absl::GetFlag(FLAGS_scrub_first_s) * 1000;
  options.scrub_interval_ms = absl::GetFlag(FLAGS_scrub_interval_s) * 1000;
  options.scrub_bytes_per_s = absl::GetFlag(FLAGS_scrub_mib_per_s) << 20;
  options.disk_reserve_bytes = absl::GetFlag(FLAGS_disk_reserve_mb) << 20;
  options.session_idle_ms = absl::GetFlag(FLAGS_session_idle_ms);
  options.max_watches = absl::GetFlag(FLAGS_max_watches);
  if (options.scrub_first_ms < 0 || options.scrub_interval_ms < 0) {
    std::cerr << "kvs_server: --scrub_first_s and --scrub_interval_s must be at least 0\n";
    return 2;
  }
  if (options.apply_by_slack_ms < 0) {
    std::cerr << "kvs_server: --apply_by_slack_ms must be at least 0\n";
    return 2;
  }
  if (options.session_idle_ms != 0 && options.session_idle_ms < 1000) {
    std::cerr << "kvs_server: --session_idle_ms must be 0 (never) or at least 1000\n";
    return 2;
  }
  options.group = absl::GetFlag(FLAGS_group);
  options.config = absl::GetFlag(FLAGS_config);
  options.map_poll_ms = std::max(10, absl::GetFlag(FLAGS_map_poll_ms));
  if (options.tick_ms < 1 || options.election_ticks < 2 || options.heartbeat_ticks < 1 ||
      options.heartbeat_ticks >= options.election_ticks || options.window < 1) {
    std::cerr << "kvs_server: need tick_ms >= 1, election_ticks >= 2, "
                 "1 <= heartbeat_ticks < election_ticks, window >= 1\n";
    return 2;
  }

  const std::string level = absl::GetFlag(FLAGS_log_level);
  using penncloud::log::Level;
  penncloud::log::SetLevel(level == "debug"   ? Level::kDebug
                           : level == "warn"  ? Level::kWarn
                           : level == "error" ? Level::kError
                                              : Level::kInfo);
  const std::string node_name = penncloud::InitNodeName(
      options.group > 0 ? absl::StrCat("kvs-g", options.group, "-", options.id)
                        : absl::StrCat("kvs-", options.id));
  penncloud::BlockStopSignals();  // before any thread starts: the TLS file watcher is one
  if (absl::Status s = penncloud::tls::InitProcess(
          node_name, penncloud::tls::Identity::Replica(options.group, options.id));
      !s.ok()) {
    std::cerr << "kvs_server: " << s.message() << "\n";
    return 2;
  }
  penncloud::metrics::InstallGrpcServerMetricsEverywhere(
      {.slow_ms = absl::GetFlag(FLAGS_slow_rpc_ms)});
  auto metrics_server = penncloud::metrics::StartFromFlag();
  if (!metrics_server.ok()) return 2;

  std::unique_ptr<penncloud::kvs::storage::FaultControl> fault_control;
  if (const std::string dir = absl::GetFlag(FLAGS_fault_fs_control); !dir.empty()) {
    auto fault =
        std::make_shared<penncloud::kvs::storage::FaultFileSystem>(rocksdb::FileSystem::Default());
    penncloud::kvs::storage::UseFileSystem(fault);
    const std::string path = absl::StrCat(dir, "/replica-", options.id);
    fault_control = std::make_unique<penncloud::kvs::storage::FaultControl>(path, fault);
    PC_LOG(kWarn, "kvs.fault_fs")("control", path);
  }

  // Everything acknowledged is already fsync'd; a clean stop lets RPCs in flight finish
  // (or fail, for the client to retry elsewhere) instead of cutting them off. Before the
  // replica serves (a repair, a full disk) there is nothing to drain.
  std::atomic<Replica*> serving{nullptr};
  std::chrono::steady_clock::time_point drain_deadline;  // set before Wait returns
  penncloud::OnStopSignal(
      [&serving, &drain_deadline] {
        drain_deadline = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(absl::GetFlag(FLAGS_drain_ms));
        if (Replica* r = serving.load()) {
          r->Shutdown();
        } else {
          std::_Exit(0);
        }
      },
      std::chrono::milliseconds(absl::GetFlag(FLAGS_drain_ms)));
  std::unique_ptr<Replica> replica = StartReplica(options);
  // Damage found while serving: mark the store and start again, which rebuilds it.
  penncloud::kvs::storage::OnCorruption([dir = options.data_dir](const absl::Status& s) {
    namespace server = penncloud::kvs::server;
    PC_LOG(kError, "kvs.store_corrupt")("error", s.ToString());
    if (server::MarkForRepair(dir, s.ToString()).ok()) server::RestartFromDisk("kvs.store_corrupt");
    std::abort();
  });
  serving = replica.get();
  penncloud::kvs::server::ExportStatusMetrics(options.listen.empty() ? options.peers.at(options.id)
                                                                     : options.listen);
  replica->Wait();
  // /metrics last, so that the drain above can be watched there.
  if (*metrics_server) (*metrics_server)->Drain(drain_deadline);
  PC_LOG(kInfo, "kvs.stopped");
  std::_Exit(0);
}
