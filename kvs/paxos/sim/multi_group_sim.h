// The multi-group simulation's parts, shared by its source files: the messages between
// callers (clients, the rebalancer) and replicas, the callers' state, and the simulation
// itself, built on the replica harness (replica_harness.h) that it shares with the
// single-group simulator (multi_group.cc: requests, faults, checks and the run;
// multi_group_callers.cc: the clients and the rebalancer). Internal to the simulator.
#pragma once

#include <algorithm>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "kvs/lincheck/history.h"
#include "kvs/paxos/node.h"
#include "kvs/paxos/sim/client_ops.h"
#include "kvs/paxos/sim/multi_group.h"
#include "kvs/paxos/sim/replica_harness.h"
#include "kvs/shard/cluster_map.h"

namespace penncloud::paxos::sim::multi {

namespace shard = kvs::shard;

// What a client or the rebalancer asks of one replica.
enum class ReqKind { kGet, kWrite, kConfigRead, kCommand, kFetch };

struct Request {
  ReqKind kind = ReqKind::kGet;
  int caller = 0;
  uint64_t token = 0;    // names the request; a reply for an older one is ignored
  kvs::pb::Command cmd;  // kWrite, kCommand: what is proposed; kFetch: migrate().migration()
  std::string key;       // kGet
};

enum class RepStatus { kOk, kNotLeader, kWrongGroup, kUnavailable, kRefused };

struct Reply {
  int caller = 0;
  uint64_t token = 0;
  RepStatus status = RepStatus::kOk;
  std::optional<NodeId> hint;
  std::optional<std::string> value;
  bool cput_ok = false;
  bool expired = false;         // refused as a late retry of an expired session: outcome unknown
  uint64_t version = 0;         // wrong group: the version of the group's map
  uint64_t map = 0;             // config read: the stored map (registration number)
  kvs::pb::RangeChunk payload;  // fetch
};

// What the simulation keeps per group beside the harness's ReplicaGroup.
struct GroupModel {
  std::shared_ptr<const SimMachine> initial;  // the state at slot 0
  SimMachine oracle;                          // the state after the chosen prefix
  int64_t next_reconfig = 0;
};

// One request at a time toward a group, retried at other replicas until answered.
struct Call {
  int group = 0;
  int target = 0;  // replica index within the group
  std::optional<NodeId> hint;
  Request req;
  uint64_t timer = 0;
};

// A client's operation in flight.
struct ClientOp {
  char op = 'P';  // 'P' put, 'C' cput, 'D' delete, 'X' cdelete (writes)
  uint64_t seq = 0;
  std::string key, value;
  std::optional<std::string> expected;  // CPUT: nullopt = the key must be absent
};

struct Client : ClientOps {
  Call call;
  bool reading_map = false;
  bool reroute = false;     // the next timer routes afresh instead of resending
  uint64_t cached_map = 0;  // registration number; 0 = none yet
  uint64_t seq = 0;
  ReqKind kind = ReqKind::kGet;
  ClientOp op;
};

struct Rebalancer {
  Call call;
  bool down = false, finished = false;
  std::shared_ptr<const shard::ClusterMap> map;  // the map as last read or written
  uint64_t map_id = 0;
  std::deque<uint64_t> push_left;  // groups still to get `map`
  int sub = 0;                     // step within the current migration state
  kvs::pb::RangeChunk payload;     // the fetched range
  uint64_t attempt = 0;            // the install attempt of `payload`
  bool push_after_write = false;
  // The operator's script (it outlives rebalancer restarts): (add?, group id), in order.
  std::vector<std::pair<bool, uint64_t>> changes;
  size_t next_change = 0;
};

// The one column of every simulated row: a key of the history is a row.
inline constexpr char kColumn[] = "c";

// A map or migration command: what can change which rows a group serves.
inline bool IsControl(kvs::pb::Op op) {
  return op == kvs::pb::OP_SET_MAP || op == kvs::pb::OP_MIGRATE;
}

class MultiGroupSimulation : public ReplicaHarness<SimMachine, Request, Reply> {
 public:
  explicit MultiGroupSimulation(const MultiOptions& o)
      : ReplicaHarness(o.seed, o.seed * 0x9e3779b97f4a7c15ULL + 11, o.verbose), opt_(o) {}

  MultiResult Run();

 private:
  // The harness's hooks.
  std::string Name(int i) const override {
    return "g" + std::to_string(reps_[i].group) + "n" + std::to_string(reps_[i].id);
  }
  void ApplyCommand(int i, const std::string& command, bool first) override;
  void SlotApplied(int i, bool first) override;
  WriteKey KeyOf(const std::string& command) const override {
    kvs::pb::Command c;
    c.ParseFromString(command);
    return {c.session(), c.seq()};
  }
  void AnswerRead(int i, const Request& q) override;
  void AnswerNotLeader(int i, const Request& q) override;
  void InjectFault() override;
  void HealAll() override;
  void OnRequest(int i, const Request& req) override;
  void OnReply(const Reply& rep) override;
  void OnTimer(int caller, uint64_t token) override;
  void OnEvent(SimEvent& ev) override;
  bool Done() const override;

  int Rebal() const { return int(clients_.size()); }  // the rebalancer's caller index

  // Maps.
  // The registration number of `proto` (the same for the same bytes); 0 if invalid.
  uint64_t Register(cluster::ClusterMap proto);
  uint64_t VersionOf(uint64_t map) const { return map == 0 ? 0 : maps_.at(map)->version(); }
  // The registration number of a serialized map; 0 for none.
  uint64_t IdOf(const std::string& bytes) const {
    auto it = map_ids_.find(bytes);
    return it == map_ids_.end() ? 0 : it->second;
  }
  cluster::Group GroupProto(uint64_t id) const;

  // Replicas.
  void Respond(Reply reply) { SendReply(reply.caller, std::move(reply)); }
  void CheckExclusive(int g);
  // At a leader, proposes an expiry sweep of the at-most-once table when one is due.
  void MaybeExpireSessions(int i);

  // Callers (clients and the rebalancer).
  // A random replica of group g that was not replaced: callers know the group's members
  // (the map lists them).
  int PickReplica(int g) {
    const ReplicaGroup& group = groups_[g];
    for (;;) {
      const int k = int(rng_.Below(group.nodes.size()));
      if (!group.retired.count(NodeId(k + 1))) return k;
    }
  }
  void Send(int caller);
  void Retry(int caller, int64_t delay);
  Call& CallOf(int caller) { return caller == Rebal() ? rebal_.call : clients_[caller].call; }

  void StartOp(int c);
  void Route(int c);
  void FinishOp(int c, bool completed, const Reply* rep);
  void OnClientReply(int c, const Reply& rep);

  void RebalancerNext();
  void RebalancerAsk(int group, Request req);
  void RebalancerWrite(absl::StatusOr<cluster::ClusterMap> next, bool push);
  void OnRebalancerReply(const Reply& rep);

  void Reconfigure(int g);
  void FinalCheck();
  // The rebalance made a step (stored a map, or finished): after the heal, how long it took.
  void NoteRebalanceStep();
  // After the clients' bound: runs on while the rebalance keeps stepping, up to the cap.
  void RunRebalanceToEnd();

  MultiOptions opt_;
  MultiResult result_;
  std::map<uint64_t, std::shared_ptr<const shard::ClusterMap>> maps_;  // by registration number
  MapsByBytes maps_by_bytes_;                // the same maps, for the groups' machines
  std::map<std::string, uint64_t> map_ids_;  // serialized map -> registration number
  std::vector<GroupModel> models_;           // by group, beside the harness's groups_
  std::vector<Client> clients_;
  Rebalancer rebal_;
  std::vector<std::string> rows_;
  std::map<std::string, std::set<int>> serving_;  // row -> groups whose chosen state serves it
  std::vector<std::string> written_values_;
  uint64_t next_token_ = 0, next_nonce_ = 0;
  bool control_chosen_ = false;  // the slot being applied first holds a map/migration command

  double rebalancer_crash_ = 0;
  bool churn_ = false;
  uint32_t window_ = 4;
  int install_chunks_ = 1;
  uint64_t next_attempt_ = 0;  // install attempts only grow, like the real rebalancer's clock
  int64_t session_idle_ = 0;   // in time units; sessions idle longer are dropped
  int64_t last_step_ = 0;      // when the rebalancer last stored a map
};

}  // namespace penncloud::paxos::sim::multi
