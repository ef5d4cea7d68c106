// The multi-group simulation's parts, shared by its source files: the messages between
// callers (clients, the rebalancer) and replicas, the simulated replicas and groups, and
// the simulation itself (multi_group.cc: replicas, faults, checks and the event loop;
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
#include "kvs/paxos/rng.h"
#include "kvs/paxos/sim/multi_group.h"
#include "kvs/shard/cluster_map.h"

namespace penncloud::paxos::sim::multi {

namespace shard = kvs::shard;
constexpr int64_t kTick = 10;  // time units per tick

// What a client or the rebalancer asks of one replica.
enum class ReqKind { kGet, kWrite, kConfigRead, kCommand, kFetch };

struct Request {
  ReqKind kind = ReqKind::kGet;
  int caller = 0;
  uint64_t token = 0;  // names the request; a reply for an older one is ignored
  ShardCommand cmd;    // kWrite, kCommand; kFetch: the migration (id and range)
  std::string key;     // kGet
};

enum class RepStatus { kOk, kNotLeader, kWrongGroup, kUnavailable, kRefused };

struct Reply {
  int caller = 0;
  uint64_t token = 0;
  RepStatus status = RepStatus::kOk;
  std::optional<NodeId> hint;
  std::optional<std::string> value;
  bool cput_ok = false;
  uint64_t version = 0;  // wrong group: the version of the group's map
  uint64_t map = 0;      // config read: the stored map
  std::string payload;   // fetch
};

enum class EventType {
  kDeliver,
  kTick,
  kReady,
  kRequest,
  kReply,
  kTimer,
  kRestart,
  kHealPartition,
  kFault,
  kHeal,
  kRebalancerRestart
};

struct Event {
  int64_t time = 0;
  uint64_t order = 0;
  EventType type = EventType::kTick;
  int node = 0;  // global replica index, or caller index
  uint64_t token = 0;
  Message msg;
  std::shared_ptr<const ShardMachine> snapshot_data;
  Request request;
  Reply reply;
};

struct EventLater {
  bool operator()(const std::unique_ptr<Event>& a, const std::unique_ptr<Event>& b) const {
    return std::tie(a->time, a->order) > std::tie(b->time, b->order);
  }
};

struct Disk {
  HardState hard_state;
  std::map<Slot, Entry> entries;
  SnapshotMeta snapshot;
  std::shared_ptr<const ShardMachine> snapshot_data;
};

struct Replica {
  int group = 0;  // index in groups_ (= group id; 0 is the config group)
  NodeId id = 0;  // Paxos id within the group
  bool up = true;
  int restarts = 0;
  int64_t tick_period = kTick;
  std::unique_ptr<Node> node;
  Disk disk;
  ShardMachine sm;
  Slot applied = 0;
  bool ready_scheduled = false;
  uint64_t epoch = 0;
  std::map<Slot, std::shared_ptr<const ShardMachine>> incoming_snapshots;
  std::map<std::pair<uint64_t, uint64_t>, std::pair<int, uint64_t>> pending_writes;
  std::map<uint64_t, Request> pending_reads;
  Slot snapshot_every = 20;
};

struct Group {
  std::vector<int> nodes;                       // global replica indices, by Paxos id - 1
  std::set<NodeId> retired;                     // replaced: stopped for good
  std::shared_ptr<const ShardMachine> initial;  // the state at slot 0
  std::vector<std::string> chosen;              // slot -> fingerprint of the value applied there
  std::vector<uint64_t> digest;                 // slot -> state digest after it
  ShardMachine oracle;                          // the state after the chosen prefix
  std::optional<NodeId> last_leader;
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

struct Client {
  Call call;
  bool active = false, done = false, reading_map = false;
  bool reroute = false;  // the next timer routes afresh instead of resending
  int ops_left = 0;
  int64_t deadline = 0;
  uint64_t cached_map = 0;  // registration number; 0 = none yet
  uint64_t seq = 0;
  ReqKind kind = ReqKind::kGet;
  ShardCommand op;  // the operation in flight (key, op, value, expected)
  size_t history_index = 0;
  uint64_t read_percent = 35;
};

struct Rebalancer {
  Call call;
  bool down = false, finished = false;
  std::shared_ptr<const shard::ClusterMap> map;  // the map as last read or written
  uint64_t map_id = 0;
  std::deque<uint64_t> push_left;  // groups still to get `map`
  int sub = 0;                     // step within the current migration state
  std::string payload;             // the fetched range
  uint64_t attempt = 0;            // the install attempt of `payload`
  bool push_after_write = false;
  // The operator's script (it outlives rebalancer restarts): (add?, group id), in order.
  std::vector<std::pair<bool, uint64_t>> changes;
  size_t next_change = 0;
};

inline std::string Fingerprint(const Entry& e) {
  std::string f = std::to_string(int(e.type()));
  f += ':';
  for (const std::string& c : e.commands()) {
    f += c;
    f += '\x1e';
  }
  for (NodeId v : e.membership().voters()) f += "v" + std::to_string(v);
  for (NodeId v : e.membership().learners()) f += "l" + std::to_string(v);
  return f;
}

inline bool IsControl(char op) { return op != 'P' && op != 'C' && op != 'D'; }

class MultiGroupSimulation {
 public:
  explicit MultiGroupSimulation(const MultiOptions& o)
      : opt_(o), rng_(o.seed * 0x9e3779b97f4a7c15ULL + 11) {}

  MultiResult Run();

 private:
  Event& Schedule(int64_t at, EventType type, int node = 0) {
    auto e = std::make_unique<Event>();
    e->time = at;
    e->order = next_order_++;
    e->type = type;
    e->node = node;
    Event& ref = *e;
    queue_.push_back(std::move(e));
    std::push_heap(queue_.begin(), queue_.end(), EventLater());
    return ref;
  }
  bool Chance(double p) { return p > 0 && double(rng_.Below(1000000)) < p * 1e6; }
  int64_t Between(int64_t lo, int64_t hi) { return lo + int64_t(rng_.Below(hi - lo + 1)); }
  void Fail(const std::string& why) {
    if (!result_.ok) return;
    result_.ok = false;
    std::ostringstream s;
    s << "t=" << now_ / kTick << ": " << why;
    result_.failure = s.str();
  }
  void Trace(const std::string& what) {
    if (opt_.verbose) std::cerr << "[t=" << now_ / kTick << "] " << what << "\n";
  }
  int64_t NetDelay() {
    if (faults_on_ && Chance(long_delay_)) return Between(kTick, 40 * kTick);
    return Between(1, max_delay_);
  }
  std::string Name(int i) const {
    return "g" + std::to_string(reps_[i].group) + "n" + std::to_string(reps_[i].id);
  }
  int Rebal() const { return int(clients_.size()); }  // the rebalancer's caller index

  // Maps.
  // The registration number of `proto` (the same for the same bytes); 0 if invalid.
  uint64_t Register(cluster::ClusterMap proto);
  uint64_t VersionOf(uint64_t map) const { return map == 0 ? 0 : maps_.at(map)->version(); }
  cluster::Group GroupProto(uint64_t id) const;

  // Replicas.
  Config NodeConfig(const Replica& r) const;
  void StartNode(int i);
  void Crash(int i);
  void ScheduleReady(int i);
  void ProcessReady(int i);
  void ApplyEntry(int i, const Entry& e);
  void Respond(Reply reply);
  void OnRequest(int i, const Request& req);
  void CheckExclusive(int g);

  // Callers (clients and the rebalancer).
  // A random replica of group g that was not replaced: callers know the group's members
  // (the map lists them).
  int PickReplica(int g) {
    const Group& group = groups_[g];
    for (;;) {
      const int k = int(rng_.Below(group.nodes.size()));
      if (!group.retired.count(NodeId(k + 1))) return k;
    }
  }
  void Send(int caller);
  void Retry(int caller, int64_t delay);
  Call& CallOf(int caller) { return caller == Rebal() ? rebal_.call : clients_[caller].call; }
  void OnReply(const Reply& rep);
  void OnTimer(int caller, uint64_t token);

  void StartOp(int c);
  void Route(int c);
  void FinishOp(int c, bool completed, const Reply* rep);
  void OnClientReply(int c, const Reply& rep);

  void RebalancerNext();
  void RebalancerAsk(int group, Request req);
  void RebalancerWrite(absl::StatusOr<cluster::ClusterMap> next, bool push);
  void OnRebalancerReply(const Reply& rep);

  void InjectFault();
  void Reconfigure(int g);
  void HealAll();
  void FinalCheck();

  MultiOptions opt_;
  Rng rng_;
  int64_t now_ = 0;
  uint64_t next_order_ = 0;
  std::vector<std::unique_ptr<Event>> queue_;
  MultiResult result_;
  MapRegistry maps_;
  std::map<std::string, uint64_t> map_ids_;  // serialized map -> registration number
  std::deque<Replica> reps_;  // a deque: replicas join mid-run while others are referenced
  std::vector<Group> groups_;
  std::vector<Client> clients_;
  Rebalancer rebal_;
  std::vector<std::string> rows_;
  std::map<std::string, std::set<int>> serving_;  // row -> groups whose chosen state serves it
  std::vector<lincheck::Operation> history_;
  std::vector<std::string> written_values_;
  uint64_t next_token_ = 0, next_read_id_ = 0, next_nonce_ = 0;

  bool faults_on_ = false;
  double loss_ = 0, dup_ = 0, long_delay_ = 0, crash_rate_ = 0, partition_rate_ = 0;
  double mid_ready_crash_ = 0, rebalancer_crash_ = 0;
  bool churn_ = false;
  int64_t max_delay_ = 5;
  std::set<std::pair<int, int>> blocked_;
  uint64_t partition_token_ = 0;
  int64_t heal_time_ = 0;
  size_t max_batch_ = 8, max_entries_msg_ = 8;
  uint32_t window_ = 4;
  int install_chunks_ = 1;
  uint64_t next_attempt_ = 0;  // install attempts only grow, like the real rebalancer's clock
};

}  // namespace penncloud::paxos::sim::multi
