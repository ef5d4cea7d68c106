// Drives simulated replica groups exactly as the Ready contract (kvs/paxos/node.h) says,
// over the simulated network, with crash-restarts (also in the middle of a Ready: only what
// was persisted survives) and the per-group checks: every replica applies the slots in
// order, no two apply different values in one slot, and their states agree after every
// slot and after every snapshot install. Both simulators derive from it (simulator.cc: one
// group and its clients; multi_group.cc: groups, clients and a rebalancer) and add what is
// theirs through the hooks below: what a command does, how a request is answered, which
// faults to inject, and the events of their callers.
#pragma once

#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kvs/paxos/message_check.h"
#include "kvs/paxos/node.h"
#include "kvs/paxos/ready_driver.h"
#include "kvs/paxos/rng.h"
#include "kvs/paxos/sim/draws.h"
#include "kvs/paxos/sim/event_queue.h"
#include "kvs/paxos/sim/garbage.h"
#include "kvs/paxos/sim/network.h"
#include "kvs/paxos/sim/op_history.h"
#include "kvs/paxos/sim/run_counts.h"
#include "kvs/paxos/sim/sim_replica.h"

namespace penncloud::paxos::sim {

template <class Machine, class Request, class Reply>
class ReplicaHarness {
 public:
  using SimEvent = Event<Machine, Request, Reply>;
  using SimReplica = Replica<Machine, Request>;

  virtual ~ReplicaHarness() = default;

 protected:
  ReplicaHarness(uint64_t seed, uint64_t rng_seed, bool verbose)
      : seed_(seed), verbose_(verbose), rng_(rng_seed) {}

  // --- hooks
  // Name of replica i in traces and failures.
  virtual std::string Name(int i) const = 0;
  // Applies one command of the entry replica i applies now (`first`: no replica applied
  // this slot before) and answers its pending write, if any.
  virtual void ApplyCommand(int i, const std::string& command, bool first) = 0;
  // Replica i applied a slot and it agreed with the others.
  virtual void SlotApplied(int /*i*/, bool /*first*/) {}
  // The write key a command carries, to find the request that proposed it.
  virtual WriteKey KeyOf(const std::string& command) const = 0;
  // Answers a read request whose read was released (every slot up to its index applied).
  virtual void AnswerRead(int i, const Request& q) = 0;
  // Answers a request the core refused or dropped: not the leader (any more).
  virtual void AnswerNotLeader(int i, const Request& q) = 0;
  virtual void InjectFault() = 0;
  virtual void HealAll() = 0;
  // A caller's request reached replica i (which may be down).
  virtual void OnRequest(int i, const Request& q) = 0;
  virtual void OnReply(const Reply& rep) = 0;
  // Caller c's timer, numbered `token`.
  virtual void OnTimer(int c, uint64_t token) = 0;
  // Any other event of the simulator's own.
  virtual void OnEvent(SimEvent& /*ev*/) {}
  // True once the run can stop early (after the heal, everything finished).
  virtual bool Done() const = 0;

  // --- plumbing
  SimEvent& Schedule(int64_t at, EventType type, int node = 0) {
    return queue_.Schedule(at, type, node);
  }
  bool Chance(double p) { return sim::Chance(rng_, p); }
  int64_t Between(int64_t lo, int64_t hi) { return sim::Between(rng_, lo, hi); }
  int64_t NetDelay() { return net_.Delay(rng_); }
  bool ok() const { return failure_.empty(); }
  const std::string& failure() const { return failure_; }
  void Fail(const std::string& why) {
    if (!ok()) return;
    std::ostringstream s;
    s << "t=" << now_ / kTick << ": " << why;
    failure_ = s.str();
  }
  void Trace(const std::string& what) const {
    if (verbose_) std::cerr << "[t=" << now_ / kTick << "] " << what << "\n";
  }

  // --- replicas
  // Appends replica `id` of group `g` (down until StartNode); returns its index.
  int AddReplica(int g, NodeId id) {
    const int i = int(reps_.size());
    SimReplica& r = reps_.emplace_back();
    r.group = g;
    r.id = id;
    groups_[g].nodes.push_back(i);
    return i;
  }
  bool Retired(int i) const { return groups_[reps_[i].group].retired.count(reps_[i].id) > 0; }
  Config NodeConfig(const SimReplica& r) const;
  // Starts (or restarts) replica i from its disk.
  void StartNode(int i);
  void Crash(int i);
  void ScheduleReady(int i);
  // A caller's request toward replica i, unless the network loses it.
  void SendRequest(int i, const Request& q) {
    if (net_.Lost(rng_)) return;
    Schedule(now_ + NetDelay(), EventType::kRequest, i).request = q;
  }
  // An answer toward caller `to`, unless the network loses it.
  void SendReply(int to, Reply rep) {
    if (net_.Lost(rng_)) return;
    Schedule(now_ + NetDelay(), EventType::kReply, to).reply = std::move(rep);
  }
  // Takes the request that proposed the write `key` at replica r, if it is still owed.
  std::optional<Request> TakeWrite(SimReplica& r, const WriteKey& key) {
    auto it = r.pending_writes.find(key);
    if (it == r.pending_writes.end()) return std::nullopt;
    std::optional<Request> q = std::move(it->second);
    r.pending_writes.erase(it);
    return q;
  }
  // The voters and learners a membership change at replica i (a leader) starts from: the
  // membership being changed to when a change is under way, else the current one.
  std::pair<std::vector<NodeId>, std::vector<NodeId>> MembersToChange(int i) const {
    const NodeStatus st = reps_[i].node->Status();
    const Membership& m = st.config.next_from() ? st.config.next() : st.config.current();
    return {{m.voters().begin(), m.voters().end()}, {m.learners().begin(), m.learners().end()}};
  }
  // Proposes a new membership at replica i; false if its core refused.
  bool ProposeMembers(int i, const std::vector<NodeId>& voters,
                      const std::vector<NodeId>& learners) {
    Membership want;
    for (NodeId v : voters) want.add_voters(v);
    for (NodeId l : learners) want.add_learners(l);
    if (!reps_[i].node->ProposeMembership(want).ok()) return false;
    ++counts_.reconfigs;
    Trace("reconfig proposed at " + Name(i));
    ScheduleReady(i);
    return true;
  }
  // Draws the seed's fault rates, each uniform below its maximum (in thousandths); a
  // quarter of the seeds lose nothing.
  void DrawFaultRates(uint64_t max_loss, uint64_t max_long_delay, uint64_t max_crash) {
    net_.loss = rng_.Below(4) == 0 ? 0 : double(rng_.Below(max_loss)) / 1000;
    net_.dup = double(rng_.Below(60)) / 1000;
    net_.long_delay = double(rng_.Below(max_long_delay)) / 1000;
    crash_rate_ = double(rng_.Below(max_crash)) / 1000;
    partition_rate_ = double(rng_.Below(25)) / 1000;
    mid_ready_crash_ = double(rng_.Below(5)) / 1000;
    if (garbage_on_) garbage_rate_ = double(rng_.Below(100)) / 1000;
  }
  // Cuts links inside group g (see Network::Partition) until a heal event; returns what.
  std::string Partition(int g);
  // Ends every fault: the network heals and every crashed replica (not retired) restarts.
  void HealReplicas();
  // Runs the events in time order up to `end` (then now_ = end), a failure, or Done().
  void RunEvents(int64_t end);
  // The end of a run: dumps the history when verbose, then checks it (unless `lincheck` is
  // off or the run failed already).
  void CheckHistory(bool lincheck) {
    if (verbose_) history_.Dump(std::cerr, kTick);
    if (!ok() || !lincheck) return;
    if (std::optional<std::string> why = history_.Check()) Fail(*why);
  }
  // Fills a result's verdict and counts.
  template <class Result>
  void Report(Result& result) const {
    static_cast<RunCounts&>(result) = counts_;
    result.ops_completed = history_.completed();
    result.ops_incomplete = history_.given_up();
    result.ok = ok();
    result.failure = failure();
  }

  uint64_t seed_;
  bool verbose_;
  uint64_t next_read_id_ = 0;  // names the reads requested from the cores
  Rng rng_;
  int64_t now_ = 0;
  int64_t heal_time_ = 0;        // 0 until the heal
  std::deque<SimReplica> reps_;  // a deque: replicas join mid-run while others are referenced
  std::vector<ReplicaGroup> groups_;
  Network net_;
  double crash_rate_ = 0, partition_rate_ = 0, mid_ready_crash_ = 0;
  bool garbage_on_ = true;   // the garbage sender is part of the fault menu
  double garbage_rate_ = 0;  // per peer message: the chance it has a bad companion
  size_t max_batch_ = 8, max_entries_msg_ = 8;
  RunCounts counts_;   // but the operations, which history_ counts
  OpHistory history_;  // the clients' operations

 private:
  class SimReadyHooks;
  void ProcessReady(int i);
  void ApplyEntry(int i, const Entry& e);
  void SendPeer(int from, Message m);
  // The garbage sender: a bad message made from `real`, toward replica `to`.
  void SendGarbage(int to, const Message& real);
  // Steps a delivered message and checks what the core did with it.
  void Deliver(int i, SimEvent& ev);
  // Hands an event to its handler; false for the simulator's own kinds.
  bool Dispatch(SimEvent& ev);

  EventQueue<SimEvent> queue_;
  std::string failure_;
};

// ----------------------------------------------------------------------------------------

template <class M, class Q, class P>
Config ReplicaHarness<M, Q, P>::NodeConfig(const SimReplica& r) const {
  Config c;
  c.id = r.id;
  c.election_ticks = 10;
  c.heartbeat_ticks = 2;
  c.lease_margin_ticks = 2;
  c.seed = seed_ * 1000003 + uint64_t(r.group) * 7919 + r.id * 101 + uint64_t(r.restarts);
  c.max_batch_commands = max_batch_;
  c.max_entries_per_message = max_entries_msg_;
  c.snapshot_retry_ticks = 20;
  c.learner_catchup_slots = 8;
  return c;
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::StartNode(int i) {
  SimReplica& r = reps_[i];
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
  Schedule(now_ + Between(1, r.tick_period), EventType::kTick, i).token = r.epoch;
  ScheduleReady(i);
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::Crash(int i) {
  SimReplica& r = reps_[i];
  if (!r.up) return;
  Trace("crash " + Name(i));
  ++counts_.crashes;
  r.up = false;
  r.node.reset();
  r.epoch++;
  r.restarts++;
  r.incoming_snapshots.clear();
  r.pending_writes.clear();
  r.pending_reads.clear();
  r.ready_scheduled = false;
  Schedule(now_ + Between(2, 60) * kTick, EventType::kRestart, i).token = r.epoch;
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::ScheduleReady(int i) {
  SimReplica& r = reps_[i];
  if (!r.up || r.ready_scheduled || !r.node->HasReady()) return;
  r.ready_scheduled = true;
  Schedule(now_ + Between(0, 3), EventType::kReady, i).token = r.epoch;
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::SendPeer(int from, Message m) {
  ++counts_.messages;
  const SimReplica& r = reps_[from];
  std::shared_ptr<const M> data;
  if (m.type() == MSG_SNAPSHOT) {
    if (m.snapshot().slot() != r.disk.snapshot.slot()) {
      Fail("MSG_SNAPSHOT names a snapshot the server does not hold");
      return;
    }
    data = r.disk.snapshot_data;
  }
  const std::vector<int>& nodes = groups_[r.group].nodes;
  if (m.to() < 1 || m.to() > nodes.size()) return;
  const int to = nodes[m.to() - 1];
  if (net_.Drops(rng_, from, to)) return;
  const int copies = net_.Copies(rng_);
  for (int k = 0; k < copies; ++k) {
    SimEvent& e = Schedule(now_ + NetDelay(), EventType::kDeliver, to);
    e.msg = m;
    e.snapshot_data = data;
  }
  if (net_.faults_on && Chance(garbage_rate_)) SendGarbage(to, m);
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::SendGarbage(int to, const Message& real) {
  Garbage g = MakeGarbage(rng_, real, GarbageLimits{max_entries_msg_, max_batch_});
  // Replays come late too: a long delay reorders them behind newer traffic.
  SimEvent& e = Schedule(now_ + Between(1, 40 * kTick), EventType::kDeliver, to);
  e.msg = std::move(g.msg);
  e.garbage = true;
  e.must_drop = g.must_drop;
  e.forged_sender = g.forged_sender;
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::Deliver(int i, SimEvent& ev) {
  SimReplica& r = reps_[i];
  if (ev.garbage) {
    // A replica that joined with an empty disk knows no members yet: it relies on the
    // server's authentication alone (docs/paxos.md), so no garbage is sent to it.
    const NodeStatus st = r.node->Status();
    if (st.config.current().voters_size() == 0) return;
    if (ev.forged_sender && !JudgesMembership(ev.msg, st.commit, st.first_slot - 1)) {
      ++counts_.garbage_authn;  // the server refuses a peer without a certificate
      return;
    }
    ++counts_.garbage;
  }
  if (ev.msg.type() == MSG_SNAPSHOT && ev.snapshot_data) {
    r.incoming_snapshots[ev.msg.snapshot().slot()] = ev.snapshot_data;
  }
  // The message goes into the core; keep what a failure would print.
  const std::string garbage = ev.must_drop ? ev.msg.ShortDebugString() : std::string();
  const int type = ev.msg.type();
  const NodeId from = ev.msg.from(), to = ev.msg.to();
  const DropReason why = r.node->Step(std::move(ev.msg));
  if (ev.garbage && ev.must_drop && why == DropReason::kNone) {
    Fail(Name(i) + " stepped a malformed message: " + garbage);
  } else if (!ev.garbage && why == DropReason::kNotMember) {
    ++counts_.honest_not_member;
  } else if (!ev.garbage && why != DropReason::kNone) {
    Fail(Name(i) + " dropped a message of a core (" + DropReasonName(why) + "): type " +
         std::to_string(type) + " from " + std::to_string(from) + " to " + std::to_string(to));
  }
}

// The harness's side of the Ready driver (kvs/paxos/ready_driver.h) that the replica
// server uses too; a simulated crash stops the Ready where it happens.
template <class M, class Q, class P>
class ReplicaHarness<M, Q, P>::SimReadyHooks final : public ReadyHooks {
 public:
  SimReadyHooks(ReplicaHarness& h, int i) : h_(h), i_(i) {}

  bool InstallSnapshot(const SnapshotMeta& meta) override {
    if (!Begin()) return false;
    SimReplica& r = h_.reps_[i_];
    const Slot slot = meta.slot();
    auto it = r.incoming_snapshots.find(slot);
    if (it == r.incoming_snapshots.end()) {
      h_.Fail(h_.Name(i_) + " asked to install a snapshot it never received");
      return false;
    }
    r.sm = *it->second;
    r.applied = slot;
    r.disk.snapshot = meta;
    r.disk.snapshot_data = it->second;
    r.disk.entries.erase(r.disk.entries.begin(), r.disk.entries.upper_bound(slot));
    r.incoming_snapshots.clear();
    ++h_.counts_.snapshots_installed;
    if (!h_.groups_[r.group].ledger.Matches(slot, r.sm.Digest())) {
      h_.Fail(h_.Name(i_) + " installed a snapshot at slot " + std::to_string(slot) +
              " whose state differs from the state applied there");
    }
    return true;
  }
  bool Persist(const std::vector<EntryPtr>& entries,
               const std::optional<HardState>& hard_state) override {
    if (!Begin()) return false;
    SimReplica& r = h_.reps_[i_];
    for (const EntryPtr& e : entries) {
      if (e->slot() > r.disk.snapshot.slot()) r.disk.entries[e->slot()] = *e;
    }
    if (hard_state) r.disk.hard_state = *hard_state;
    if (h_.net_.faults_on && h_.Chance(h_.mid_ready_crash_)) {
      h_.Crash(i_);  // durable, but nothing more sent or applied
      return false;
    }
    return true;
  }
  bool Send(Message m) override {
    if (!Begin()) return false;
    h_.SendPeer(i_, std::move(m));
    return h_.ok();
  }
  bool Apply(const Entry& e) override {
    if (!Begin()) return false;
    h_.ApplyEntry(i_, e);
    return h_.ok();
  }
  bool ReleaseRead(const ReadState& rs) override {
    SimReplica& r = h_.reps_[i_];
    auto it = r.pending_reads.find(rs.id);
    if (it == r.pending_reads.end()) return true;
    if (r.applied < rs.index) h_.Fail("read released before its index was applied");
    const Q q = std::move(it->second);
    r.pending_reads.erase(it);
    h_.AnswerRead(i_, q);
    return h_.ok();
  }
  void FailRead(uint64_t id) override {
    SimReplica& r = h_.reps_[i_];
    auto it = r.pending_reads.find(id);
    if (it == r.pending_reads.end()) return;
    const Q q = std::move(it->second);
    r.pending_reads.erase(it);
    h_.AnswerNotLeader(i_, q);
  }
  void Dropped(const std::string& c) override {
    if (std::optional<Q> q = h_.TakeWrite(h_.reps_[i_], h_.KeyOf(c))) h_.AnswerNotLeader(i_, *q);
  }

 private:
  // Before the Ready's first effect, the replica may crash: nothing of it is durable.
  bool Begin() {
    if (begun_) return true;
    begun_ = true;
    if (h_.net_.faults_on && h_.Chance(h_.mid_ready_crash_)) {
      h_.Crash(i_);
      return false;
    }
    return true;
  }

  ReplicaHarness& h_;
  const int i_;
  bool begun_ = false;
};

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::ProcessReady(int i) {
  SimReplica& r = reps_[i];
  Node& node = *r.node;
  SimReadyHooks hooks(*this, i);
  if (!HandleReady(node, r.id, hooks)) return;
  // Then maybe snapshot.
  if (r.applied >= r.disk.snapshot.slot() + r.snapshot_every) {
    auto meta = node.Compact(r.applied);
    if (!meta.ok()) {
      Fail("Compact refused: " + std::string(meta.status().message()));
      return;
    }
    r.disk.snapshot = *meta;
    r.disk.snapshot_data = std::make_shared<M>(r.sm);
    r.disk.entries.erase(r.disk.entries.begin(), r.disk.entries.upper_bound(meta->slot()));
  }
  ReplicaGroup& g = groups_[r.group];
  if (node.is_leader() && g.last_leader != r.id) {
    g.last_leader = r.id;
    ++counts_.leader_changes;
    Trace("leader " + Name(i) + " ballot " + std::to_string(node.Status().ballot.round()));
  }
  ScheduleReady(i);
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::ApplyEntry(int i, const Entry& e) {
  SimReplica& r = reps_[i];
  ReplicaGroup& g = groups_[r.group];
  const Slot s = e.slot();
  if (s != r.applied + 1) {
    Fail(Name(i) + " applied slot " + std::to_string(s) + " after " + std::to_string(r.applied));
    return;
  }
  const SlotLedger::Value value = g.ledger.Applied(s, Fingerprint(e));
  if (value == SlotLedger::Value::kDifferent) {
    Fail("slot " + std::to_string(s) + ": " + Name(i) +
         " applied a value different from another replica's");
    return;
  }
  const bool first = value == SlotLedger::Value::kFirst;
  for (const std::string& c : e.commands()) ApplyCommand(i, c, first);
  r.applied = s;
  if (!g.ledger.StateAfter(s, r.sm.Digest())) {
    Fail("slot " + std::to_string(s) + ": " + Name(i) +
         " has a state different from another replica's after applying it");
  }
  SlotApplied(i, first);
}

template <class M, class Q, class P>
std::string ReplicaHarness<M, Q, P>::Partition(int g) {
  const std::vector<int>& nodes = groups_[g].nodes;
  std::vector<bool> leads(nodes.size());
  for (size_t k = 0; k < nodes.size(); ++k) {
    leads[k] = reps_[nodes[k]].up && reps_[nodes[k]].node->is_leader();
  }
  ++counts_.partitions;
  const Network::Cut cut = net_.Partition(rng_, nodes, leads);
  Schedule(now_ + Between(5, 80) * kTick, EventType::kHealPartition).token = net_.partition();
  return cut.isolated < 0 ? cut.what : cut.what + " " + Name(nodes[cut.isolated]);
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::HealReplicas() {
  net_.faults_on = false;
  net_.HealPartition();
  heal_time_ = now_;
  Trace("heal");
  for (int i = 0; i < int(reps_.size()); ++i) {
    if (!reps_[i].up && !Retired(i)) StartNode(i);
  }
}

template <class M, class Q, class P>
bool ReplicaHarness<M, Q, P>::Dispatch(SimEvent& ev) {
  const int i = ev.node;
  switch (ev.type) {
    case EventType::kDeliver: {
      if (!reps_[i].up) break;
      Deliver(i, ev);
      ScheduleReady(i);
      break;
    }
    case EventType::kTick: {
      SimReplica& r = reps_[i];
      if (!r.up || ev.token != r.epoch) break;
      r.node->Tick();
      ScheduleReady(i);
      Schedule(now_ + r.tick_period, EventType::kTick, i).token = r.epoch;
      break;
    }
    case EventType::kReady: {
      SimReplica& r = reps_[i];
      if (!r.up || ev.token != r.epoch) break;
      r.ready_scheduled = false;
      if (r.node->HasReady()) ProcessReady(i);
      break;
    }
    case EventType::kRestart:
      if (!reps_[i].up && reps_[i].epoch == ev.token && !Retired(i)) {
        Trace("restart " + Name(i));
        StartNode(i);
      }
      break;
    case EventType::kHealPartition:
      if (ev.token == net_.partition()) {
        net_.HealPartition();
        Trace("partition healed");
      }
      break;
    case EventType::kFault:
      if (net_.faults_on) {
        InjectFault();
        Schedule(now_ + kTick, EventType::kFault);
      }
      break;
    case EventType::kHeal:
      HealAll();
      break;
    case EventType::kRequest:
      OnRequest(i, ev.request);
      break;
    case EventType::kReply:
      OnReply(ev.reply);
      break;
    case EventType::kTimer:
      OnTimer(i, ev.token);
      break;
    default:
      return false;
  }
  return true;
}

template <class M, class Q, class P>
void ReplicaHarness<M, Q, P>::RunEvents(int64_t end) {
  // An event past `end` stays queued: a run may go on from where it stopped.
  while (!queue_.empty() && ok() && queue_.next_time() <= end) {
    std::unique_ptr<SimEvent> ev = queue_.Pop();
    now_ = ev->time;
    if (!Dispatch(*ev)) OnEvent(*ev);
    if (Done()) return;
  }
  now_ = std::max(now_, end);
}

}  // namespace penncloud::paxos::sim
