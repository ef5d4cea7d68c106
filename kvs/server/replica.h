// One replica of a KVS group: glues the Multi-Paxos core (kvs/paxos/node.h) to gRPC, the
// durable log and the state machine (kvs/storage/replica_store.h).
//
// Its parts, one file each: the node (replica.cc: start-up, the loop, the inbox; the Ready
// hooks in ready_handler.cc), the apply queue (apply_queue.h, replica_apply.cc), the
// snapshot executor (snapshot_executor.h, replica_snapshots.cc), the configuration manager
// (configuration.cc, membership_change.h, peer_book.h) and the services (client_service.cc,
// peer_service.cc, replica_status.cc; request_checks.h).
//
// Threads. One loop thread owns the core and polls the one completion queue on which the
// replica serves every call and sends every peer batch (loop_queue.h): it takes the calls
// that arrived (checked and put in the inbox of its turn), ticks the core, and handles each
// Ready in the order the core's contract asks (install snapshot, persist with one fsync,
// send, apply, serve reads, Advance), answering calls as they are done. Everything a
// client or peer sent while the loop was busy with the previous fsync lands in the next
// one: that is the group commit. Other threads (snapshot downloads and dumps, the map
// poller) hand their results over through a locked inbox and wake the queue.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
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
#include "kvs/server/apply_queue.h"
#include "kvs/server/compaction_policy.h"
#include "kvs/server/disk_space.h"
#include "kvs/server/loop_queue.h"
#include "kvs/server/peer_book.h"
#include "kvs/server/peer_transport.h"
#include "kvs/server/pending_call.h"
#include "kvs/server/persist_thread.h"
#include "kvs/server/replica_options.h"
#include "kvs/server/scrubber.h"
#include "kvs/server/snapshot_executor.h"
#include "kvs/server/watch_table.h"
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
  // A gRPC service whose calls the loop serves from its queue.
  class LoopService {
   public:
    virtual ~LoopService() = default;
    virtual grpc::Service* service() = 0;
    // Asks for the first call of each method (once the server has started).
    virtual void Listen() = 0;
  };
  class ClientService;  // client_service.cc
  class PeerService;    // peer_service.cc
  static std::unique_ptr<LoopService> NewClientService(Replica* replica, LoopQueue* queue);
  static std::unique_ptr<LoopService> NewPeerService(Replica* replica, LoopQueue* queue);

  // A node membership change (docs/sharding.md section 7) on its way through the log:
  // first the OP_SET_PEER that tells every replica the node's addresses (if it is added),
  // then the membership entry; answered once that entry is chosen.
  struct PendingChange {
    CallHandle* call = nullptr;
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
    int64_t apply_by_ms;  // Command.apply_by_ms: not proposed after it (0: no deadline)
    PendingWrite write;
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
    // Appends everything `other` holds, and empties it.
    void Take(Inbox& other);
  };

  explicit Replica(const ReplicaOptions& options);
  absl::Status Init();

  // --- The node (replica.cc): the loop that owns the core, and its Ready handling.
  void Loop();
  // Steps what the inbox brought: snapshots, messages, changes, proposals, reads.
  void Drain(Inbox& in);
  class ReadyHandler;  // the hooks of the Ready driver (ready_handler.cc)
  void HandleReady();
  // The polling thread, as a call arrives: `add` puts it in the loop's next turn, or, once
  // the loop has stopped, in an inbox that is refused at once.
  template <typename Add>
  void Accept(Add&& add) {
    if (!loop_stopped_) {
      add(arrived_);
      return;
    }
    Inbox refused;
    add(refused);
    Refuse(refused);
  }
  void Enqueue(const std::function<void(Inbox&)>& add);  // threads other than the loop's
  // Answers the calls in `in` UNAVAILABLE: the loop has stopped and will never serve them,
  // and an unanswered call holds gRPC's shutdown until the drain bound ends the process.
  static void Refuse(Inbox& in);
  // After the loop stopped: polls the queue on a thread of its own while the server shuts
  // down, then closes and empties it.
  void StopServing();

  // --- Applying (replica_apply.cc): committed entries to the state machine, and reads.
  void ApplyEntry(const paxos::Entry& entry);
  void ServeRead(PendingRead& read);
  // A watch released by the read index: answered now if a cell differs, else parked.
  void ServeWatch(PendingRead& read);
  // After a slot is applied: the watches its commands concern (watch_table.h).
  void WakeWatches(const std::vector<pb::Command>& commands);
  // At-most-once session expiry (docs/kvs.md): the leader's stamp and periodic sweep.
  static std::string StampNow();
  void MaybeExpireSessions();

  // --- Snapshots (replica_snapshots.cc): compaction, fetching and installing.
  void MaybeCompact();
  void FetchSnapshot(paxos::Message message);  // gRPC threads
  void InstallSnapshot(const paxos::SnapshotMeta& meta);

  // --- Configuration (configuration.cc): the cluster map, ownership, map polling
  // (docs/sharding.md section 5) and node membership (section 7).
  void LoadMap(const std::string& bytes);
  bool Serves(const std::string& row) const;
  using Verdict = machine::Verdict;
  Verdict Judge(const std::string& row, bool write, std::string* why) const;
  void PollMap();
  void LoadPeers();
  void ApplySetPeer(const pb::Member& member);
  void StartChange(PendingChange change);
  void ProposeChange();
  void FinishChange(const grpc::Status& status);
  paxos::Membership LatestMembership() const;
  // Called from gRPC threads.
  grpc::Status AuthorizePeer(const grpc::ServerContextBase& context, absl::string_view rpc,
                             uint64_t from) const;
  bool WasRemoved(uint64_t id) const;
  grpc::Status AuthorizeInstallMap(const grpc::ServerContextBase& context) const;

  // --- Status (replica_status.cc).
  // Publishes the core's status for gRPC threads (at most every 20 ms unless `now_please`).
  void PublishStatus(bool now_please = false);
  void CountRequest() { client_requests_.fetch_add(1, std::memory_order_relaxed); }
  void FillHint(pb::LeaderHint* hint) const;
  void FillHint(pb::LeaderHint* hint, std::optional<uint64_t> leader) const;
  pb::StatusResponse StatusNow() const;

  const ReplicaOptions options_;
  std::unique_ptr<storage::ReplicaStore> store_;
  std::unique_ptr<paxos::Node> node_;  // loop thread only (after Init)
  std::unique_ptr<LoopQueue> queue_;
  std::unique_ptr<PersistThread> persist_;  // the loop's fsyncs
  std::unique_ptr<PeerTransport> transport_;
  std::unique_ptr<LoopService> client_service_;
  std::unique_ptr<LoopService> peer_service_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<int> streams_running_{0};  // snapshot and range streams with a thread

  std::mutex mu_;
  std::condition_variable poll_cv_;  // wakes the map poller at shutdown
  Inbox inbox_;                      // GUARDED_BY(mu_): from threads other than the loop's
  bool stop_ = false;                // GUARDED_BY(mu_)
  std::thread loop_;

  // Loop-thread state (the polling thread's, once the loop has stopped).
  Inbox arrived_;              // what the calls taken in this turn brought
  bool loop_stopped_ = false;  // calls that arrive now are refused
  ApplyQueue apply_queue_;
  absl::flat_hash_map<uint64_t, PendingRead> pending_reads_;
  uint64_t next_read_id_ = 1;
  std::unique_ptr<SnapshotExecutor> snapshots_;
  CompactionPolicy compaction_;
  paxos::Ballot durable_promise_;  // the promised ballot last made durable
  // The core's last hard state when it moved only the commit: written with the next
  // synced write (ready_handler.cc), empty once written.
  std::string unwritten_hard_state_;
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
  PeerBook book_;
  DiskSpace disk_space_;
  WatchTable watches_;  // parked by the loop, cancelled from gRPC threads
  const int64_t started_unix_ms_;
  std::atomic<uint64_t> client_requests_{0};
  std::atomic<uint64_t> applied_commands_{0};
  std::thread map_poller_;
  std::unique_ptr<Scrubber> scrubber_;  // reads store_: goes before it
  std::mutex shutdown_mu_;
  std::condition_variable shutdown_cv_;
  bool shut_down_ = false;
};

}  // namespace penncloud::kvs::server
