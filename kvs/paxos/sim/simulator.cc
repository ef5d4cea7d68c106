#include "kvs/paxos/sim/simulator.h"

#include <algorithm>
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
#include "kvs/paxos/sim/kv_machine.h"

namespace penncloud::paxos::sim {
namespace {

constexpr int64_t kTick = 10;  // time units per tick

struct ClientRequest {
  int client = 0;
  uint64_t seq = 0;
  char op = 'G';
  std::string key, value;
  std::optional<std::string> expected;
};

struct ClientReply {
  int client = 0;
  uint64_t seq = 0;
  bool not_leader = false;
  std::optional<NodeId> hint;
  std::optional<std::string> observed;
  bool cput_ok = false;
};

enum class EventType {
  kDeliver,
  kTick,
  kReady,
  kClientRequest,
  kClientReply,
  kClientTimer,
  kRestart,
  kHealPartition,
  kFault,
  kHeal
};

struct Event {
  int64_t time = 0;
  uint64_t order = 0;
  EventType type = EventType::kTick;
  int node = 0;  // replica index, or client index
  uint64_t token = 0;
  Message msg;
  std::shared_ptr<const KvMachine> snapshot_data;
  ClientRequest request;
  ClientReply reply;
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
  std::shared_ptr<const KvMachine> snapshot_data = std::make_shared<KvMachine>();
};

struct Replica {
  NodeId id = 0;
  bool up = true;
  int restarts = 0;
  int64_t tick_period = kTick;
  std::unique_ptr<Node> node;
  Disk disk;
  KvMachine sm;
  Slot applied = 0;
  bool ready_scheduled = false;
  uint64_t epoch = 0;  // bumps on crash: stale timers of a crashed incarnation are ignored
  std::map<Slot, std::shared_ptr<const KvMachine>> incoming_snapshots;
  std::set<std::pair<int, uint64_t>> pending_writes;
  std::map<uint64_t, ClientRequest> pending_reads;
  Slot snapshot_every = 20;
};

struct ClientState {
  bool active = false;  // has an operation in flight
  bool done = false;
  ClientRequest req;
  int64_t call = 0;
  int64_t deadline = 0;
  int target = 0;
  std::optional<NodeId> hint;
  int ops_left = 0;
  uint64_t timer_token = 0;
  uint64_t read_percent = 35;  // some clients mostly read: they linger at a deposed leader
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opt_(o), rng_(o.seed * 0x9e3779b97f4a7c15ULL + 7) {}

  SimResult Run();

 private:
  // --- plumbing
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
    if (result_.ok) {
      result_.ok = false;
      std::ostringstream s;
      s << "t=" << now_ / kTick << ": " << why;
      result_.failure = s.str();
    }
  }
  void Trace(const std::string& what) {
    if (opt_.verbose) std::cerr << "[t=" << now_ / kTick << "] " << what << "\n";
  }
  int64_t NetDelay() {
    if (faults_on_ && Chance(long_delay_)) return Between(kTick, 40 * kTick);
    return Between(1, max_delay_);
  }
  bool Blocked(int from, int to) const { return blocked_.count({from, to}) > 0; }

  // --- replicas
  Config NodeConfig(const Replica& r) {
    Config c;
    c.id = r.id;
    c.election_ticks = 10;
    c.heartbeat_ticks = 2;
    c.lease_margin_ticks = 2;
    c.seed = opt_.seed * 1000003 + r.id * 101 + r.restarts;
    c.max_batch_commands = max_batch_;
    c.max_entries_per_message = max_entries_msg_;
    c.snapshot_retry_ticks = 20;
    c.learner_catchup_slots = 8;
    return c;
  }
  void StartNode(int i);
  void Crash(int i);
  void ScheduleReady(int i) {
    Replica& r = reps_[i];
    if (!r.up || r.ready_scheduled || !r.node->HasReady()) return;
    r.ready_scheduled = true;
    Event& e = Schedule(now_ + Between(0, 3), EventType::kReady, i);
    e.token = r.epoch;
  }
  void ProcessReady(int i);
  void ApplyEntry(int i, const Entry& e);
  void SendPeer(int from, Message m, std::shared_ptr<const KvMachine> data);
  void ReplyToClient(int i, ClientReply reply);
  void OnClientRequest(int i, const ClientRequest& req);

  // --- clients
  void StartOp(int c);
  void SendOp(int c);
  void OnClientReply(const ClientReply& rep);
  void OnClientTimer(int c, uint64_t token);
  void FinishOp(int c, bool completed, const ClientReply* rep);

  // --- faults
  void InjectFault();
  void HealAll();

  SimOptions opt_;
  Rng rng_;
  int64_t now_ = 0;
  uint64_t next_order_ = 0;
  std::vector<std::unique_ptr<Event>> queue_;
  std::vector<Replica> reps_;
  std::vector<ClientState> clients_;
  std::vector<lincheck::Operation> history_;
  std::vector<size_t> open_op_;  // client -> index in history_ of its op in flight
  SimResult result_;

  // Faults.
  bool faults_on_ = false;
  double loss_ = 0, dup_ = 0, long_delay_ = 0, crash_rate_ = 0, partition_rate_ = 0;
  double mid_ready_crash_ = 0;
  bool reconfig_ = false;
  int64_t max_delay_ = 5;
  std::set<std::pair<int, int>> blocked_;
  uint64_t partition_token_ = 0;
  int64_t heal_time_ = 0;

  // Tunables drawn per seed.
  size_t max_batch_ = 8;
  size_t max_entries_msg_ = 8;
  int num_keys_ = 3;
  uint32_t window_ = 4;

  // Checks.
  std::vector<std::string> chosen_;  // slot -> fingerprint of the value applied there
  std::vector<uint64_t> digest_;     // slot -> state digest after applying it
  std::optional<NodeId> last_leader_;
  uint64_t next_read_id_ = 0;
  std::vector<std::string> written_values_;
  // Membership.
  int64_t next_reconfig_ = 0;
};

std::string Fingerprint(const Entry& e) {
  std::string f = std::to_string(int(e.type()));
  f += ':';
  for (const std::string& c : e.commands()) {
    f += c;
    f += '\x1e';
  }
  for (NodeId v : e.membership().voters()) {
    f += 'v';
    f += std::to_string(v);
  }
  for (NodeId v : e.membership().learners()) {
    f += 'l';
    f += std::to_string(v);
  }
  return f;
}

void Simulation::StartNode(int i) {
  Replica& r = reps_[i];
  PersistentState st;
  st.hard_state = r.disk.hard_state;
  for (const auto& [slot, e] : r.disk.entries) st.entries.push_back(e);
  st.snapshot = r.disk.snapshot;
  st.applied = r.disk.snapshot.slot();
  r.sm = *r.disk.snapshot_data;
  r.applied = r.disk.snapshot.slot();
  r.node = std::make_unique<Node>(NodeConfig(r), std::move(st));
  r.up = true;
  r.ready_scheduled = false;
  Event& t = Schedule(now_ + Between(1, r.tick_period), EventType::kTick, i);
  t.token = r.epoch;
  ScheduleReady(i);
}

void Simulation::Crash(int i) {
  Replica& r = reps_[i];
  if (!r.up) return;
  Trace("crash n" + std::to_string(r.id));
  ++result_.crashes;
  r.up = false;
  r.node.reset();
  r.epoch++;
  r.restarts++;
  r.incoming_snapshots.clear();
  r.pending_writes.clear();
  r.pending_reads.clear();
  r.ready_scheduled = false;
  Event& e = Schedule(now_ + Between(2, 60) * kTick, EventType::kRestart, i);
  e.token = r.epoch;
}

void Simulation::SendPeer(int from, Message m, std::shared_ptr<const KvMachine> data) {
  ++result_.messages;
  const int to = int(m.to()) - 1;
  if (to < 0 || to >= int(reps_.size())) return;
  if (faults_on_ && (Chance(loss_) || Blocked(from, to))) return;
  const int copies = faults_on_ && Chance(dup_) ? 2 : 1;
  for (int k = 0; k < copies; ++k) {
    Event& e = Schedule(now_ + NetDelay(), EventType::kDeliver, to);
    e.msg = m;
    e.snapshot_data = data;
  }
}

void Simulation::ReplyToClient(int i, ClientReply reply) {
  if (faults_on_ && Chance(loss_)) return;
  (void)i;
  Event& e = Schedule(now_ + NetDelay(), EventType::kClientReply, reply.client);
  e.reply = std::move(reply);
}

void Simulation::ProcessReady(int i) {
  Replica& r = reps_[i];
  Node& node = *r.node;
  Ready rd = node.TakeReady();
  if (faults_on_ && Chance(mid_ready_crash_)) {
    Crash(i);  // before anything was made durable: the whole Ready is lost
    return;
  }
  // 1. Snapshot.
  if (rd.snapshot) {
    const Slot slot = rd.snapshot->slot();
    auto it = r.incoming_snapshots.find(slot);
    if (it == r.incoming_snapshots.end()) {
      Fail("n" + std::to_string(r.id) + " asked to install a snapshot it never received");
      return;
    }
    r.sm = *it->second;
    r.applied = slot;
    r.disk.snapshot = *rd.snapshot;
    r.disk.snapshot_data = it->second;
    r.disk.entries.erase(r.disk.entries.begin(), r.disk.entries.upper_bound(slot));
    r.incoming_snapshots.clear();
    ++result_.snapshots_installed;
    if (slot < digest_.size() && digest_[slot] != 0 && digest_[slot] != (r.sm.Digest() | 1)) {
      Fail("n" + std::to_string(r.id) + " installed a snapshot at slot " + std::to_string(slot) +
           " whose state differs from the state applied there");
    }
  }
  // 2. Persist.
  for (const EntryPtr& e : rd.entries) {
    if (e->slot() > r.disk.snapshot.slot()) r.disk.entries[e->slot()] = *e;
  }
  if (rd.hard_state) r.disk.hard_state = *rd.hard_state;
  if (faults_on_ && Chance(mid_ready_crash_)) {
    Crash(i);  // durable, but nothing sent or applied
    return;
  }
  // 3. Send.
  for (Message& m : rd.messages) {
    std::shared_ptr<const KvMachine> data;
    if (m.type() == MSG_SNAPSHOT) {
      if (m.snapshot().slot() != r.disk.snapshot.slot()) {
        Fail("MSG_SNAPSHOT names a snapshot the server does not hold");
        return;
      }
      data = r.disk.snapshot_data;
    }
    SendPeer(i, std::move(m), data);
  }
  // 4. Apply.
  for (const EntryPtr& e : rd.committed) {
    ApplyEntry(i, *e);
    if (!result_.ok) return;
  }
  // 5. Reads and refusals.
  for (const ReadState& rs : rd.reads) {
    auto it = r.pending_reads.find(rs.id);
    if (it == r.pending_reads.end()) continue;
    if (r.applied < rs.index) Fail("read released before its index was applied");
    ClientReply rep;
    rep.client = it->second.client;
    rep.seq = it->second.seq;
    rep.observed = r.sm.Get(it->second.key);
    r.pending_reads.erase(it);
    ReplyToClient(i, std::move(rep));
  }
  for (uint64_t id : rd.failed_reads) {
    auto it = r.pending_reads.find(id);
    if (it == r.pending_reads.end()) continue;
    ClientReply rep;
    rep.client = it->second.client;
    rep.seq = it->second.seq;
    rep.not_leader = true;
    r.pending_reads.erase(it);
    ReplyToClient(i, std::move(rep));
  }
  for (const std::string& c : rd.dropped) {
    const KvCommand cmd = Decode(c);
    if (r.pending_writes.erase({int(cmd.client), cmd.seq})) {
      ClientReply rep;
      rep.client = int(cmd.client);
      rep.seq = cmd.seq;
      rep.not_leader = true;
      ReplyToClient(i, std::move(rep));
    }
  }
  // 6. Advance, then maybe snapshot.
  node.Advance();
  if (r.applied >= r.disk.snapshot.slot() + r.snapshot_every) {
    auto meta = node.Compact(r.applied);
    if (!meta.ok()) {
      Fail("Compact refused: " + std::string(meta.status().message()));
      return;
    }
    r.disk.snapshot = *meta;
    r.disk.snapshot_data = std::make_shared<KvMachine>(r.sm);
    r.disk.entries.erase(r.disk.entries.begin(), r.disk.entries.upper_bound(meta->slot()));
  }
  const std::optional<NodeId> leader =
      node.is_leader() ? std::optional<NodeId>(r.id) : std::nullopt;
  if (leader && leader != last_leader_) {
    last_leader_ = leader;
    ++result_.leader_changes;
    Trace("leader n" + std::to_string(r.id) + " ballot " +
          std::to_string(node.Status().ballot.round()));
  }
  ScheduleReady(i);
}

void Simulation::ApplyEntry(int i, const Entry& e) {
  Replica& r = reps_[i];
  const Slot s = e.slot();
  if (s != r.applied + 1) {
    Fail("n" + std::to_string(r.id) + " applied slot " + std::to_string(s) + " after " +
         std::to_string(r.applied));
    return;
  }
  if (chosen_.size() <= s) {
    chosen_.resize(s + 1);
    digest_.resize(s + 1, 0);
  }
  const std::string fp = Fingerprint(e);
  if (chosen_[s].empty()) {
    chosen_[s] = fp;
    result_.slots_chosen = std::max<int64_t>(result_.slots_chosen, s);
  } else if (chosen_[s] != fp) {
    Fail("slot " + std::to_string(s) + ": n" + std::to_string(r.id) +
         " applied a value different from the one applied by another replica");
    return;
  }
  for (const std::string& c : e.commands()) {
    const KvCommand cmd = Decode(c);
    bool fresh = false;
    const bool ok = r.sm.Apply(cmd, &fresh);
    if (r.pending_writes.erase({int(cmd.client), cmd.seq})) {
      ClientReply rep;
      rep.client = int(cmd.client);
      rep.seq = cmd.seq;
      rep.cput_ok = ok;
      ReplyToClient(i, std::move(rep));
    }
  }
  r.applied = s;
  const uint64_t d = r.sm.Digest() | 1;
  if (digest_[s] == 0) {
    digest_[s] = d;
  } else if (digest_[s] != d) {
    Fail("slot " + std::to_string(s) + ": n" + std::to_string(r.id) +
         " has a state different from another replica's after applying it");
  }
}

void Simulation::OnClientRequest(int i, const ClientRequest& req) {
  Replica& r = reps_[i];
  if (!r.up) return;
  ClientReply rep;
  rep.client = req.client;
  rep.seq = req.seq;
  absl::Status st;
  if (req.op == 'G') {
    const uint64_t id = ++next_read_id_;
    st = r.node->RequestRead(id);
    if (st.ok()) r.pending_reads[id] = req;
  } else {
    KvCommand c;
    c.op = req.op;
    c.client = uint64_t(req.client);
    c.seq = req.seq;
    c.key = req.key;
    c.value = req.value;
    c.expected = req.expected;
    st = r.node->Propose(Encode(c));
    if (st.ok()) r.pending_writes.insert({req.client, req.seq});
  }
  if (!st.ok()) {
    rep.not_leader = true;
    rep.hint = LeaderHint(st);
    ReplyToClient(i, std::move(rep));
  }
  ScheduleReady(i);
}

// ----------------------------------------------------------------------------------------
// Clients.

void Simulation::StartOp(int c) {
  ClientState& cl = clients_[c];
  if (cl.ops_left <= 0) {
    cl.done = true;
    return;
  }
  --cl.ops_left;
  ClientRequest& q = cl.req;
  q.client = c + 1;
  q.seq++;
  q.key = "k" + std::to_string(rng_.Below(num_keys_));
  q.expected.reset();
  q.value.clear();
  const uint64_t dice = rng_.Below(100);
  const uint64_t reads = cl.read_percent;
  const uint64_t rest = 100 - reads;
  q.op = dice < reads                  ? 'G'
         : dice < reads + rest / 2     ? 'P'
         : dice < reads + rest * 5 / 6 ? 'C'
                                       : 'D';
  if (q.op == 'P' || q.op == 'C') {
    q.value = "c" + std::to_string(c + 1) + "s" + std::to_string(q.seq);
  }
  if (q.op == 'C' && !written_values_.empty() && rng_.Below(4) != 0) {
    q.expected = written_values_[written_values_.size() - 1 -
                                 rng_.Below(std::min<size_t>(3, written_values_.size()))];
  }
  if (!q.value.empty()) written_values_.push_back(q.value);
  lincheck::Operation op;
  op.client = c + 1;
  op.key = q.key;
  op.kind = q.op == 'G'   ? lincheck::OpKind::kGet
            : q.op == 'P' ? lincheck::OpKind::kPut
            : q.op == 'C' ? lincheck::OpKind::kCPut
                          : lincheck::OpKind::kDelete;
  if (q.op == 'P' || q.op == 'C') op.value = q.value;
  if (q.op == 'C') op.expected = q.expected;
  op.call = now_;
  op.completed = false;
  open_op_[c] = history_.size();
  history_.push_back(std::move(op));
  cl.active = true;
  cl.call = now_;
  cl.deadline = now_ + 80 * kTick;
  SendOp(c);
}

void Simulation::SendOp(int c) {
  ClientState& cl = clients_[c];
  if (!faults_on_ || !Chance(loss_)) {
    Event& e = Schedule(now_ + NetDelay(), EventType::kClientRequest, cl.target);
    e.request = cl.req;
  }
  Event& t = Schedule(now_ + 15 * kTick, EventType::kClientTimer, c);
  t.token = ++cl.timer_token;
}

void Simulation::FinishOp(int c, bool completed, const ClientReply* rep) {
  ClientState& cl = clients_[c];
  lincheck::Operation& op = history_[open_op_[c]];
  op.completed = completed;
  op.ret = now_;
  if (completed) {
    ++result_.ops_completed;
    if (op.kind == lincheck::OpKind::kGet) op.observed = rep->observed;
    if (op.kind == lincheck::OpKind::kCPut) op.cput_succeeded = rep->cput_ok;
  } else {
    ++result_.ops_incomplete;
  }
  cl.active = false;
  cl.timer_token++;
  // Think a little, then the next operation.
  Event& t = Schedule(now_ + Between(0, 3 * kTick), EventType::kClientTimer, c);
  t.token = ++cl.timer_token;
}

void Simulation::OnClientReply(const ClientReply& rep) {
  const int c = rep.client - 1;
  ClientState& cl = clients_[c];
  if (!cl.active || rep.seq != cl.req.seq) return;
  if (rep.not_leader) {
    if (rep.hint) {
      cl.hint = rep.hint;
    } else {
      cl.hint.reset();
      cl.target = int(rng_.Below(reps_.size()));
    }
    // Retry soon, at the hinted or another replica.
    Event& t = Schedule(now_ + Between(kTick, 3 * kTick), EventType::kClientTimer, c);
    t.token = ++cl.timer_token;
    return;
  }
  FinishOp(c, true, &rep);
}

void Simulation::OnClientTimer(int c, uint64_t token) {
  ClientState& cl = clients_[c];
  if (token != cl.timer_token || cl.done) return;
  if (!cl.active) {
    StartOp(c);
    return;
  }
  if (faults_on_ && now_ >= cl.deadline) {
    FinishOp(c, false, nullptr);  // gave up: the outcome stays unknown
    return;
  }
  if (cl.hint && *cl.hint >= 1 && *cl.hint <= reps_.size()) {
    cl.target = int(*cl.hint) - 1;
  } else {
    cl.target = int(rng_.Below(reps_.size()));
  }
  cl.hint.reset();
  SendOp(c);
}

// ----------------------------------------------------------------------------------------
// Faults.

void Simulation::InjectFault() {
  const int n = int(reps_.size());
  if (Chance(crash_rate_)) {
    const int i = int(rng_.Below(n));
    Crash(i);
  }
  if (Chance(partition_rate_)) {
    blocked_.clear();
    ++result_.partitions;
    const uint64_t kind = rng_.Below(4);
    std::string what;
    if (kind == 0) {  // split in two
      std::vector<int> side(n);
      for (int i = 0; i < n; ++i) side[i] = int(rng_.Below(2));
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b)
          if (side[a] != side[b]) blocked_.insert({a, b});
      what = "split";
    } else if (kind == 1 || kind == 3) {  // isolate one replica (kind 3: the leader)
      int x = int(rng_.Below(n));
      for (int k = 0; kind == 3 && k < n; ++k) {
        if (reps_[k].up && reps_[k].node->is_leader()) x = k;
      }
      for (int b = 0; b < n; ++b)
        if (b != x) blocked_.insert({x, b}), blocked_.insert({b, x});
      what = "isolate n" + std::to_string(x + 1);
    } else {  // one-way links
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b)
          if (a != b && rng_.Below(3) == 0) blocked_.insert({a, b});
      what = "asymmetric";
    }
    Trace("partition " + what);
    Event& e = Schedule(now_ + Between(5, 80) * kTick, EventType::kHealPartition);
    e.token = ++partition_token_;
  }
  if (reconfig_ && now_ >= next_reconfig_) {
    // Remove a voter, then (later) add it back as a learner and promote it.
    next_reconfig_ = now_ + Between(20, 60) * kTick;
    for (Replica& r : reps_) {
      if (!r.up || !r.node->is_leader()) continue;
      const NodeStatus st = r.node->Status();
      Membership m = st.config.next_from() ? st.config.next() : st.config.current();
      std::vector<NodeId> voters(m.voters().begin(), m.voters().end());
      std::vector<NodeId> learners(m.learners().begin(), m.learners().end());
      Membership want;
      if (!learners.empty()) {
        voters.push_back(learners.back());
        learners.pop_back();
      } else if (voters.size() == size_t(n)) {
        const NodeId victim = voters[rng_.Below(voters.size())];
        voters.erase(std::find(voters.begin(), voters.end(), victim));
      } else {
        for (int k = 1; k <= n; ++k) {
          if (std::find(voters.begin(), voters.end(), NodeId(k)) == voters.end()) {
            learners.push_back(NodeId(k));
            break;
          }
        }
      }
      for (NodeId v : voters) want.add_voters(v);
      for (NodeId l : learners) want.add_learners(l);
      if (r.node->ProposeMembership(want).ok()) {
        ++result_.reconfigs;
        Trace("reconfig proposed at n" + std::to_string(r.id));
        ScheduleReady(int(r.id) - 1);
      }
      break;
    }
  }
}

void Simulation::HealAll() {
  faults_on_ = false;
  blocked_.clear();
  heal_time_ = now_;
  Trace("heal");
  for (int i = 0; i < int(reps_.size()); ++i) {
    if (!reps_[i].up) StartNode(i);
  }
  // After healing, everyone finishes the current operation plus a few more.
  for (int c = 0; c < int(clients_.size()); ++c) {
    clients_[c].ops_left = 2;
    clients_[c].done = false;
    if (!clients_[c].active) {
      Event& t = Schedule(now_ + 1, EventType::kClientTimer, c);
      t.token = ++clients_[c].timer_token;
    }
  }
}

SimResult Simulation::Run() {
  const int n = opt_.replicas;
  // Per-seed parameters.
  max_batch_ = 1 + rng_.Below(8);
  max_entries_msg_ = 1 + rng_.Below(8);
  num_keys_ = 1 + int(rng_.Below(4));
  window_ = 1 + uint32_t(rng_.Below(6));
  max_delay_ = 1 + Between(1, 3 * kTick);
  if (opt_.faults) {
    loss_ = rng_.Below(4) == 0 ? 0 : double(rng_.Below(150)) / 1000;
    dup_ = double(rng_.Below(60)) / 1000;
    long_delay_ = double(rng_.Below(30)) / 1000;
    crash_rate_ = double(rng_.Below(20)) / 1000;
    partition_rate_ = double(rng_.Below(25)) / 1000;
    mid_ready_crash_ = double(rng_.Below(5)) / 1000;
    reconfig_ = rng_.Below(3) == 0;
  }
  const bool drift = rng_.Below(2) == 0;

  Membership initial;
  for (int i = 1; i <= n; ++i) initial.add_voters(NodeId(i));
  initial.set_window(window_);
  reps_.resize(n);
  for (int i = 0; i < n; ++i) {
    Replica& r = reps_[i];
    r.id = NodeId(i + 1);
    r.tick_period = drift ? kTick + Between(-1, 1) : kTick;
    r.snapshot_every = Slot(Between(3, 40));
    *r.disk.snapshot.mutable_config()->mutable_current() = initial;
    StartNode(i);
  }
  const int num_clients = 1 + int(rng_.Below(5));
  clients_.resize(num_clients);
  open_op_.resize(num_clients);
  for (int c = 0; c < num_clients; ++c) {
    clients_[c].ops_left = 1000000;
    clients_[c].target = int(rng_.Below(n));
    clients_[c].read_percent = rng_.Below(2) == 0 ? 35 : 90;
    Event& t = Schedule(Between(0, 10 * kTick), EventType::kClientTimer, c);
    t.token = ++clients_[c].timer_token;
  }
  faults_on_ = opt_.faults;
  Schedule(int64_t(opt_.chaos_ticks) * kTick, EventType::kHeal);
  if (faults_on_) Schedule(kTick, EventType::kFault);
  const int64_t end = int64_t(opt_.chaos_ticks + opt_.liveness_ticks) * kTick;

  while (!queue_.empty() && result_.ok) {
    std::pop_heap(queue_.begin(), queue_.end(), EventLater());
    std::unique_ptr<Event> ev = std::move(queue_.back());
    queue_.pop_back();
    now_ = ev->time;
    if (now_ > end) break;
    const int i = ev->node;
    switch (ev->type) {
      case EventType::kDeliver: {
        Replica& r = reps_[i];
        if (!r.up) break;
        if (ev->msg.type() == MSG_SNAPSHOT && ev->snapshot_data) {
          r.incoming_snapshots[ev->msg.snapshot().slot()] = ev->snapshot_data;
        }
        r.node->Step(std::move(ev->msg));
        ScheduleReady(i);
        break;
      }
      case EventType::kTick: {
        Replica& r = reps_[i];
        if (!r.up || ev->token != r.epoch) break;
        r.node->Tick();
        ScheduleReady(i);
        Event& t = Schedule(now_ + r.tick_period, EventType::kTick, i);
        t.token = r.epoch;
        break;
      }
      case EventType::kReady: {
        Replica& r = reps_[i];
        if (!r.up || ev->token != r.epoch) break;
        r.ready_scheduled = false;
        if (r.node->HasReady()) ProcessReady(i);
        break;
      }
      case EventType::kClientRequest:
        OnClientRequest(i, ev->request);
        break;
      case EventType::kClientReply:
        OnClientReply(ev->reply);
        break;
      case EventType::kClientTimer:
        OnClientTimer(i, ev->token);
        break;
      case EventType::kRestart:
        if (!reps_[i].up && reps_[i].epoch == ev->token) {
          Trace("restart n" + std::to_string(reps_[i].id));
          StartNode(i);
        }
        break;
      case EventType::kHealPartition:
        if (ev->token == partition_token_) {
          blocked_.clear();
          Trace("partition healed");
        }
        break;
      case EventType::kFault:
        if (faults_on_) {
          InjectFault();
          Schedule(now_ + kTick, EventType::kFault);
        }
        break;
      case EventType::kHeal:
        HealAll();
        break;
    }
    if (heal_time_ > 0 && std::all_of(clients_.begin(), clients_.end(),
                                      [](const ClientState& c) { return c.done; })) {
      break;
    }
  }
  if (result_.ok) {
    for (int c = 0; c < num_clients; ++c) {
      if (!clients_[c].done) {
        if (opt_.verbose) {
          const ClientState& cl = clients_[c];
          std::cerr << "client " << c + 1 << " active=" << cl.active << " seq=" << cl.req.seq
                    << " op=" << cl.req.op << " target=n" << cl.target + 1 << "\n";
          for (const Replica& r : reps_) {
            if (!r.up) continue;
            const NodeStatus st = r.node->Status();
            std::cerr << "n" << r.id << " role=" << int(st.role) << " ballot=" << st.ballot.round()
                      << "." << st.ballot.node() << " leader=" << st.leader.value_or(0)
                      << " commit=" << st.commit << " applied=" << st.applied
                      << " last=" << st.last_slot << " writes=" << r.pending_writes.size()
                      << " reads=" << r.pending_reads.size() << "\n";
          }
        }
        Fail("liveness: client " + std::to_string(c + 1) + " did not finish within " +
             std::to_string(opt_.liveness_ticks) + " ticks after the faults healed");
        break;
      }
    }
  }
  if (opt_.verbose) {
    for (const lincheck::Operation& op : history_) {
      static const char* kKinds[] = {"GET", "PUT", "CPUT", "DELETE"};
      std::cerr << "op client=" << op.client << " " << kKinds[int(op.kind)] << "(" << op.key
                << (op.value ? "=" + *op.value : "")
                << (op.kind == lincheck::OpKind::kCPut ? " if " + op.expected.value_or("<absent>")
                                                       : "")
                << ") [" << op.call / kTick << ", "
                << (op.completed ? std::to_string(op.ret / kTick) : "?") << "]";
      if (op.completed && op.kind == lincheck::OpKind::kGet) {
        std::cerr << " -> " << op.observed.value_or("<absent>");
      }
      if (op.completed && op.kind == lincheck::OpKind::kCPut) {
        std::cerr << " -> " << (op.cput_succeeded ? "ok" : "failed");
      }
      std::cerr << "\n";
    }
  }
  if (result_.ok && opt_.lincheck) {
    const lincheck::CheckResult check = lincheck::CheckKv(history_, std::chrono::seconds(20));
    if (!check.ok()) {
      Fail(std::string(check.verdict == lincheck::CheckResult::Verdict::kUnknown
                           ? "linearizability check ran out of time"
                           : "history not linearizable") +
           " (key " + check.key + "): " + check.explanation);
    }
  }
  return result_;
}

}  // namespace

SimResult RunSimulation(const SimOptions& options) { return Simulation(options).Run(); }

}  // namespace penncloud::paxos::sim
