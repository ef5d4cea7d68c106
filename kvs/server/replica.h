// One replica of a KVS group: glues the Multi-Paxos core (kvs/paxos/node.h) to gRPC, the
// durable log and the state machine (kvs/storage/replica_store.h).
//
// Threads. One loop thread owns the core: it drains an inbox (peer messages, client
// writes and reads, snapshot reports), ticks the core, and handles each Ready in the
// order the core's contract asks (install snapshot, persist with one fsync, send, apply,
// serve reads, Advance). Everything a client or peer sent while the loop was busy with
// the previous fsync lands in the next one: that is the group commit. gRPC's callback
// threads only validate a request and put it in the inbox; the loop answers it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "kvs/machine/ownership.h"
#include "kvs/paxos/node.h"
#include "kvs/server/compaction_policy.h"
#include "kvs/server/peer_transport.h"
#include "kvs/server/replica_options.h"
#include "kvs/shard/cluster_map.h"
#include "kvs/storage/replica_store.h"
#include "proto/kvs.grpc.pb.h"

namespace penncloud::kvs::server {

class Replica {
 public:
  static absl::StatusOr<std::unique_ptr<Replica>> Start(const ReplicaOptions& options);
  ~Replica();

  // Stops serving and joins every thread.
  void Shutdown();
  // Blocks until Shutdown() (from another thread or a signal handler's helper).
  void Wait();

 private:
  class ClientService;
  class PeerService;

  // One KvsService.Batch call: answered when the last of its items is (replica.cc).
  struct BatchCall;
  struct PendingWrite {
    grpc::ServerUnaryReactor* reactor;  // unused for a batch item
    pb::WriteResponse* response;
    std::chrono::steady_clock::time_point deadline;
    BatchCall* batch = nullptr;  // set: item `index` of this batch
    int index = 0;
    // Answers the write: its own call, or its item of the batch.
    void Finish(const grpc::Status& status);
  };
  struct PendingRead {
    grpc::ServerUnaryReactor* reactor = nullptr;  // unused for a batch item
    BatchCall* batch = nullptr;                   // set: get item `index` of this batch
    int index = 0;
    void Finish(const grpc::Status& status);
    const pb::GetRequest* get = nullptr;  // one of get/list is set
    pb::GetResponse* get_response = nullptr;
    const pb::ListRequest* list = nullptr;
    pb::ListResponse* list_response = nullptr;
    const pb::ListRowsRequest* rows = nullptr;
    pb::ListRowsResponse* rows_response = nullptr;
    pb::LeaderHint* hint() const {
      return get_response != nullptr    ? get_response->mutable_hint()
             : list_response != nullptr ? list_response->mutable_hint()
                                        : rows_response->mutable_hint();
    }
  };
  // A node membership change (docs/sharding.md section 7) on its way through the log:
  // first the OP_SET_PEER that tells every replica the node's addresses (if it is added),
  // then the membership entry; answered once that entry is chosen.
  struct PendingChange {
    grpc::ServerUnaryReactor* reactor = nullptr;
    pb::ChangeMembershipResponse* response = nullptr;
    pb::ChangeMembershipRequest request;
    std::chrono::steady_clock::time_point deadline;
    uint64_t peer_nonce = 0;                  // the OP_SET_PEER still awaited (0: none)
    std::optional<paxos::Membership> target;  // proposed, waiting to be chosen
  };
  struct Proposal {
    std::string command;  // serialized pb::Command
    uint64_t session;
    uint64_t seq;
    PendingWrite write;
  };
  struct IncomingSnapshot {
    paxos::Message message;
    std::string dir;    // a finished storage::SnapshotDownload
    uint64_t slot = 0;  // the applied slot its data was dumped at
  };
  struct Inbox {
    std::vector<paxos::Message> messages;
    std::vector<Proposal> proposals;
    std::vector<PendingRead> reads;
    std::vector<std::pair<uint64_t, bool>> snapshot_reports;
    std::vector<IncomingSnapshot> snapshots;
    std::vector<PendingChange> changes;
    bool empty() const {
      return messages.empty() && proposals.empty() && reads.empty() && snapshot_reports.empty() &&
             snapshots.empty() && changes.empty();
    }
  };

  explicit Replica(const ReplicaOptions& options);
  absl::Status Init();
  void Loop();
  class ReadyHandler;  // the hooks of the Ready driver (kvs/paxos/ready_driver.h)
  void HandleReady();
  void InstallSnapshot(const paxos::SnapshotMeta& meta);
  void ApplyEntry(const paxos::Entry& entry);
  void ServeRead(PendingRead& read);
  void MaybeCompact();
  // At-most-once session expiry (docs/kvs.md): the leader's stamp and periodic sweep.
  static std::string StampNow();
  void MaybeExpireSessions();
  void FailPendingWrites(const grpc::Status& status);
  void SweepPendingWrites();
  // Publishes the core's status for gRPC threads (at most every 20 ms unless `now_please`).
  void PublishStatus(bool now_please = false);
  void FetchSnapshot(paxos::Message message);
  // Sharding (docs/sharding.md section 5): the applied map, ownership, map polling.
  void LoadMap(const std::string& bytes);
  bool Serves(const std::string& row) const;
  // "" if the group serves `row` now; else why not: kWrongGroup or an UNAVAILABLE reason.
  using Verdict = machine::Verdict;
  Verdict Judge(const std::string& row, bool write, std::string* why) const;
  void PollMap();
  // Node membership (docs/sharding.md section 7).
  void LoadPeers();
  void ApplySetPeer(const pb::Member& member);
  void StartChange(PendingChange change);
  void ProposeChange();
  void FinishChange(const grpc::Status& status);
  paxos::Membership LatestMembership() const;
  std::string ClientAddress(uint64_t id) const;

  // Called from gRPC threads.
  grpc::Status AuthorizePeer(const grpc::ServerContextBase& context, absl::string_view rpc,
                             uint64_t from) const;
  bool WasRemoved(uint64_t id) const;
  grpc::Status AuthorizeInstallMap(const grpc::ServerContextBase& context) const;
  void CountRequest() { client_requests_.fetch_add(1, std::memory_order_relaxed); }
  void Enqueue(const std::function<void(Inbox&)>& add);
  void FillHint(pb::LeaderHint* hint) const;
  void FillHint(pb::LeaderHint* hint, std::optional<uint64_t> leader) const;
  pb::StatusResponse StatusNow() const;

  const ReplicaOptions options_;
  std::unique_ptr<storage::ReplicaStore> store_;
  std::unique_ptr<paxos::Node> node_;  // loop thread only (after Init)
  std::unique_ptr<PeerTransport> transport_;
  std::unique_ptr<ClientService> client_service_;
  std::unique_ptr<PeerService> peer_service_;
  std::unique_ptr<grpc::Server> server_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable poll_cv_;  // wakes the map poller (never the loop) at shutdown
  Inbox inbox_;                      // GUARDED_BY(mu_)
  bool stop_ = false;                // GUARDED_BY(mu_)
  bool loop_sleeping_ = false;       // GUARDED_BY(mu_): the loop waits on cv_
  std::thread loop_;

  // Loop-thread state.
  absl::flat_hash_map<std::pair<uint64_t, uint64_t>, std::vector<PendingWrite>> pending_writes_;
  absl::flat_hash_map<uint64_t, PendingRead> pending_reads_;
  uint64_t next_read_id_ = 1;
  std::optional<IncomingSnapshot> held_snapshot_;  // its message was stepped
  CompactionPolicy compaction_;
  paxos::Ballot durable_promise_;  // the promised ballot last made durable
  bool was_leader_ = false;
  std::chrono::steady_clock::time_point next_expiry_;  // earliest next sweep proposal
  std::optional<shard::ClusterMap> map_;  // the applied cluster map, parsed (none: serve all)
  std::optional<PendingChange> change_;   // at most one membership change at a time
  storage::ApplyHooks hooks_;

  // Published by the loop for gRPC threads.
  std::atomic<bool> is_leader_{false};
  std::atomic<uint64_t> leader_id_{0};
  mutable std::mutex status_mu_;
  paxos::NodeStatus status_;  // GUARDED_BY(status_mu_)
  std::atomic<uint64_t> map_version_{0};
  // How to reach every replica the group ever named (--peers, then OP_SET_PEER), by id.
  mutable std::mutex book_mu_;
  std::map<uint64_t, pb::Member> book_;  // GUARDED_BY(book_mu_)
  const int64_t started_unix_ms_;
  std::atomic<uint64_t> client_requests_{0};
  std::atomic<uint64_t> applied_commands_{0};
  std::atomic<bool> fetching_snapshot_{false};
  std::thread map_poller_;
  std::thread snapshot_thread_;
  std::mutex shutdown_mu_;
  std::condition_variable shutdown_cv_;
  bool shut_down_ = false;
};

}  // namespace penncloud::kvs::server
