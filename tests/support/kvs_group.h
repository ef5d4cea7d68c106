// A real KVS replica group for whole-system tests: N kvs_server processes on free loopback
// ports, in a temporary directory, with kill / restart / pause / resume per replica and
// (optionally) a FaultProxy on every peer link so a test can cut a replica off.
//
//   auto group = KvsGroup::Start();                // 3 replicas, waits for a leader
//   auto client = penncloud::kvs::Connect((*group)->spec());
//   (*group)->Kill((*group)->Leader().value());
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"

namespace penncloud::testing {

struct KvsGroupOptions {
  int replicas = 3;
  // Route every replica-to-replica connection through its own FaultProxy (for Isolate()).
  bool proxied_peers = false;
  // Extra kvs_server flags for every replica, e.g. "--snapshot_interval=50".
  std::vector<std::string> extra_flags;
  // Wait until a leader is elected before Start returns.
  bool wait_for_leader = true;
  std::chrono::milliseconds start_timeout{20000};
  // If set, every launch writes `<run_dir>/<record_prefix><id>.json` (launch_record.h), so a
  // coordinator with --run_dir can stop and start the replicas.
  std::string run_dir;
  std::string record_prefix = "kvs-r";
  // Every replica serves /metrics on a free port of its own (metrics_port(i)).
  bool serve_metrics = false;
  // A benchmark that keeps a filled store between runs: the replicas' data lives in this
  // folder (made if missing, never removed) instead of a fresh temporary one, and they listen
  // on these client ports (one per replica; the ports a kept store was made with) instead of
  // free ones.
  std::string data_dir;
  std::vector<int> ports;
};

class KvsGroup {
 public:
  static absl::StatusOr<std::unique_ptr<KvsGroup>> Start(KvsGroupOptions options = {});
  ~KvsGroup();  // SIGKILLs every replica; keeps the directory if $PENNCLOUD_KEEP_TEST_DIRS

  // The Connect() spec of the group: "127.0.0.1:p1,127.0.0.1:p2,...".
  const std::string& spec() const { return spec_; }
  int size() const { return static_cast<int>(replicas_.size()); }
  std::string address(int i) const;  // client address of replica i (0-based)
  const std::string& dir() const { return dir_; }
  int metrics_port(int i) const { return metrics_ports_.at(i); }  // with serve_metrics

  // Starts one more replica (index size(), --id size() + 1) on `port` and a fresh data folder
  // with --join and --peers naming every replica started so far; returns its index once it
  // listens. The group's log must still add it (kvs::shard::AddReplica). Not with
  // proxied_peers.
  absl::StatusOr<int> StartJoining(int port = 0);  // 0: a free port

  // Replica i is 0-based; its kvs_server --id is i + 1.
  void Kill(int i);  // SIGKILL (a crash); Restart() brings it back on the same port/dir
  // `more_flags` go after the group's extra_flags, for this start only.
  absl::Status Restart(int i, const std::vector<std::string>& more_flags = {});
  void Stop(int i);      // SIGSTOP
  void Continue(int i);  // SIGCONT
  bool running(int i) const;
  // Replica i's exit status (as from waitpid) once it exits, or -1 if it still runs after
  // `timeout`.
  int Wait(int i, std::chrono::milliseconds timeout);

  // The index of the replica that is leader according to a majority of Status replies
  // (the leader itself included), waiting up to `timeout`.
  absl::StatusOr<int> Leader(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Only with proxied_peers: cut every peer link to and from replica i / restore them all.
  void Isolate(int i);
  void Heal();
  // Only with proxied_peers: the link replica `from` dials to reach replica `to` (its
  // KvsPeer calls to `to` and their answers), to cut or hold one direction between two
  // replicas. Heal() also unblocks it (a hold is the caller's to release).
  FaultProxy& peer_link(int from, int to) { return *proxies_.at(from).at(to); }

 private:
  KvsGroup() = default;
  absl::Status Launch(int i, const std::vector<std::string>& more_flags = {});

  KvsGroupOptions options_;
  std::string dir_;
  std::string spec_;
  std::vector<int> ports_;
  std::vector<int> metrics_ports_;  // kept across restarts
  std::vector<Process> replicas_;
  int initial_ = 0;  // replicas started with the group; the others joined later
  // proxies_[from][to]: what replica `from` dials to reach replica `to`.
  std::vector<std::vector<std::unique_ptr<FaultProxy>>> proxies_;
};

}  // namespace penncloud::testing
