#include "kvs/paxos/sim/simulator.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "kvs/machine/session_expiry.h"
#include "kvs/paxos/sim/client_ops.h"
#include "kvs/paxos/sim/replica_harness.h"
#include "kvs/paxos/sim/sim_machine.h"
#include "proto/kvs.pb.h"

namespace penncloud::paxos::sim {
namespace {

// The one column of every simulated row: a key of the history is a row.
constexpr char kColumn[] = "c";

struct ClientRequest {
  int client = 0;
  uint64_t seq = 0;
  char op = 'G';  // 'G' get, 'P' put, 'C' cput, 'D' delete, 'X' cdelete
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
  // The write was refused as a late retry of an expired session: its outcome is unknown.
  bool expired = false;
};

struct ClientState : ClientOps {
  ClientRequest req;  // the operation in flight
  int target = 0;     // the replica it goes to next
  std::optional<NodeId> hint;
  uint64_t timer_token = 0;
};

// One group of replicas (replica index = Paxos id - 1) and its clients.
class Simulation : public ReplicaHarness<SimMachine, ClientRequest, ClientReply> {
 public:
  explicit Simulation(const SimOptions& o)
      : ReplicaHarness(o.seed, o.seed * 0x9e3779b97f4a7c15ULL + 7, o.verbose), opt_(o) {}

  SimResult Run();

 private:
  // --- the harness's hooks
  std::string Name(int i) const override { return "n" + std::to_string(reps_[i].id); }
  void ApplyCommand(int i, const std::string& command, bool first) override;
  WriteKey KeyOf(const std::string& command) const override {
    kvs::pb::Command c;
    c.ParseFromString(command);
    return {c.session(), c.seq()};
  }
  void AnswerRead(int i, const ClientRequest& q) override;
  void AnswerNotLeader(int i, const ClientRequest& q) override;
  void InjectFault() override;
  void HealAll() override;
  void OnRequest(int i, const ClientRequest& req) override;
  void OnReply(const ClientReply& rep) override;
  void OnTimer(int c, uint64_t token) override;
  bool Done() const override {
    return heal_time_ > 0 && std::all_of(clients_.begin(), clients_.end(),
                                         [](const ClientState& c) { return c.done; });
  }

  void Reply(ClientReply rep) { SendReply(rep.client, std::move(rep)); }
  void SetTimer(int c, int64_t delay) {
    Schedule(now_ + delay, EventType::kTimer, c).token = ++clients_[c].timer_token;
  }

  // --- clients
  void StartOp(int c);
  void SendOp(int c);
  void FinishOp(int c, bool completed, const ClientReply* rep);

  void Reconfigure();
  // At a leader, proposes an expiry sweep of the at-most-once table when one is due.
  void MaybeExpireSessions(int i);
  void DumpStuck(int c) const;

  SimOptions opt_;
  std::vector<ClientState> clients_;
  std::vector<std::string> written_values_;
  bool reconfig_ = false;
  int64_t next_reconfig_ = 0;
  int num_keys_ = 3;
  uint32_t window_ = 4;
  int64_t session_idle_ = 0;  // in time units; sessions idle longer are dropped
  uint64_t next_nonce_ = 0;   // the seq of sweeps (no session)
};

void Simulation::ApplyCommand(int i, const std::string& command, bool first) {
  SimReplica& r = reps_[i];
  kvs::pb::Command cmd;
  cmd.ParseFromString(command);
  const uint64_t records_before = r.sm.session_records();
  const kvs::machine::ApplyOutcome outcome = r.sm.Apply(command);
  if (first) {
    counts_.CountOp(cmd.op());
    if (cmd.op() == kvs::pb::OP_EXPIRE_SESSIONS) {
      counts_.sessions_expired += int64_t(records_before - r.sm.session_records());
    }
    if (outcome.expired) ++counts_.expired_refusals;
  }
  if (std::optional<ClientRequest> q = TakeWrite(r, {cmd.session(), cmd.seq()})) {
    ClientReply rep;
    rep.client = q->client;
    rep.seq = q->seq;
    rep.cput_ok = outcome.result.cput_succeeded();
    rep.expired = outcome.expired;
    Reply(std::move(rep));
  }
}

void Simulation::MaybeExpireSessions(int i) {
  SimReplica& r = reps_[i];
  std::optional<kvs::pb::SessionExpiry> due = kvs::machine::ExpiryDue(r.sm.clock(), session_idle_);
  if (!due) return;
  kvs::pb::Command c;
  c.set_op(kvs::pb::OP_EXPIRE_SESSIONS);
  c.set_seq(++next_nonce_);
  *c.mutable_expire() = *due;
  r.node->Propose(c.SerializeAsString()).IgnoreError();
}

void Simulation::AnswerRead(int i, const ClientRequest& q) {
  ClientReply rep;
  rep.client = q.client;
  rep.seq = q.seq;
  rep.observed = reps_[i].sm.Get(q.key, kColumn);
  Reply(std::move(rep));
}

void Simulation::AnswerNotLeader(int /*i*/, const ClientRequest& q) {
  ClientReply rep;
  rep.client = q.client;
  rep.seq = q.seq;
  rep.not_leader = true;
  Reply(std::move(rep));
}

void Simulation::OnRequest(int i, const ClientRequest& req) {
  SimReplica& r = reps_[i];
  if (!r.up) return;
  absl::Status st;
  if (req.op == 'G') {
    const uint64_t id = ++next_read_id_;
    st = r.node->RequestRead(id);
    if (st.ok()) r.pending_reads[id] = req;
  } else {
    // As the server's client API: one session per client, stamped by the leader that
    // proposes it (the log's clock for session expiry).
    kvs::pb::Command c;
    c.set_op(req.op == 'P'   ? kvs::pb::OP_PUT
             : req.op == 'C' ? kvs::pb::OP_CPUT
             : req.op == 'D' ? kvs::pb::OP_DELETE
                             : kvs::pb::OP_CDELETE);
    c.set_session(uint64_t(req.client));
    c.set_seq(req.seq);
    c.set_row(req.key);
    c.set_column(kColumn);
    c.set_value(req.value);
    if (req.expected) {
      c.set_expected(*req.expected);
    } else if (req.op == 'C') {
      c.set_expect_absent(true);
    }
    c.set_stamp_ms(now_);
    st = r.node->Propose(c.SerializeAsString());
    if (st.ok()) {
      r.pending_writes[{c.session(), c.seq()}] = req;
      MaybeExpireSessions(i);
    }
  }
  if (!st.ok()) {
    ClientReply rep;
    rep.client = req.client;
    rep.seq = req.seq;
    rep.not_leader = true;
    rep.hint = LeaderHint(st);
    Reply(std::move(rep));
  }
  ScheduleReady(i);
}

// ----------------------------------------------------------------------------------------
// Clients.

void Simulation::StartOp(int c) {
  ClientState& cl = clients_[c];
  if (!cl.TakeNext()) return;
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
         : dice < reads + rest * 4 / 6 ? 'C'
         : dice < reads + rest * 5 / 6 ? 'X'
                                       : 'D';
  if (q.op == 'P' || q.op == 'C') {
    q.value = "c" + std::to_string(c + 1) + "s" + std::to_string(q.seq);
  }
  if (q.op == 'X') {
    // A compare-and-delete always names the value it expects, mostly one written lately.
    q.expected = written_values_.empty() || rng_.Below(5) == 0
                     ? std::string("never-written")
                     : written_values_[written_values_.size() - 1 -
                                       rng_.Below(std::min<size_t>(3, written_values_.size()))];
  } else if (q.op == 'C' && !written_values_.empty() && rng_.Below(4) != 0) {
    q.expected = written_values_[written_values_.size() - 1 -
                                 rng_.Below(std::min<size_t>(3, written_values_.size()))];
  }
  if (!q.value.empty()) written_values_.push_back(q.value);
  const lincheck::OpKind kind = q.op == 'G'   ? lincheck::OpKind::kGet
                                : q.op == 'P' ? lincheck::OpKind::kPut
                                : q.op == 'C' ? lincheck::OpKind::kCPut
                                : q.op == 'X' ? lincheck::OpKind::kCDelete
                                              : lincheck::OpKind::kDelete;
  cl.Begin(history_, c + 1, q.key, kind, q.value, q.expected, now_, now_ + 80 * kTick);
  SendOp(c);
}

void Simulation::SendOp(int c) {
  ClientState& cl = clients_[c];
  SendRequest(cl.target, cl.req);
  SetTimer(c, 15 * kTick);
}

void Simulation::FinishOp(int c, bool completed, const ClientReply* rep) {
  ClientState& cl = clients_[c];
  if (completed) {
    cl.Complete(history_, now_, rep->observed, rep->cput_ok);
  } else {
    cl.GiveUp(history_, now_);
  }
  SetTimer(c, Between(0, 3 * kTick));  // think a little, then the next operation
}

void Simulation::OnReply(const ClientReply& rep) {
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
    SetTimer(c, Between(kTick, 3 * kTick));  // retry soon, at the hinted or another replica
    return;
  }
  if (rep.expired) return FinishOp(c, false, nullptr);  // outcome unknown
  FinishOp(c, true, &rep);
}

void Simulation::OnTimer(int c, uint64_t token) {
  ClientState& cl = clients_[c];
  if (token != cl.timer_token || cl.done) return;
  switch (cl.OnTimer(net_.faults_on, now_)) {
    case ClientOps::Due::kNextOp:
      return StartOp(c);
    case ClientOps::Due::kGiveUp:
      return FinishOp(c, false, nullptr);
    case ClientOps::Due::kResend:
      break;
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
  if (Chance(crash_rate_)) Crash(int(rng_.Below(reps_.size())));
  if (Chance(partition_rate_)) Trace("partition " + Partition(0));
  if (reconfig_ && now_ >= next_reconfig_) {
    next_reconfig_ = now_ + Between(20, 60) * kTick;
    Reconfigure();
  }
}

// Remove a voter, then (later) add it back as a learner and promote it.
void Simulation::Reconfigure() {
  const size_t n = reps_.size();
  for (int i = 0; i < int(n); ++i) {
    const SimReplica& r = reps_[i];
    if (!r.up || !r.node->is_leader()) continue;
    auto [voters, learners] = MembersToChange(i);
    if (!learners.empty()) {
      voters.push_back(learners.back());
      learners.pop_back();
    } else if (voters.size() == n) {
      const NodeId victim = voters[rng_.Below(voters.size())];
      voters.erase(std::find(voters.begin(), voters.end(), victim));
    } else {
      for (NodeId k = 1; k <= n; ++k) {
        if (std::find(voters.begin(), voters.end(), k) == voters.end()) {
          learners.push_back(k);
          break;
        }
      }
    }
    ProposeMembers(i, voters, learners);
    return;
  }
}

void Simulation::HealAll() {
  HealReplicas();
  // After healing, everyone finishes the current operation plus a few more.
  for (int c = 0; c < int(clients_.size()); ++c) {
    if (clients_[c].Heal()) SetTimer(c, 1);
  }
}

void Simulation::DumpStuck(int c) const {
  const ClientState& cl = clients_[c];
  std::cerr << "client " << c + 1 << " active=" << cl.active << " seq=" << cl.req.seq
            << " op=" << cl.req.op << " target=n" << cl.target + 1 << "\n";
  for (const SimReplica& r : reps_) {
    if (!r.up) continue;
    const NodeStatus st = r.node->Status();
    std::cerr << "n" << r.id << " role=" << int(st.role) << " ballot=" << st.ballot.round() << "."
              << st.ballot.node() << " leader=" << st.leader.value_or(0) << " commit=" << st.commit
              << " applied=" << st.applied << " last=" << st.last_slot
              << " writes=" << r.pending_writes.size() << " reads=" << r.pending_reads.size()
              << "\n";
  }
}

SimResult Simulation::Run() {
  const int n = opt_.replicas;
  // Per-seed parameters.
  max_batch_ = 1 + rng_.Below(8);
  max_entries_msg_ = 1 + rng_.Below(8);
  num_keys_ = 1 + int(rng_.Below(4));
  window_ = 1 + uint32_t(rng_.Below(6));
  net_.max_delay = 1 + Between(1, 3 * kTick);
  garbage_on_ = opt_.garbage;
  if (opt_.faults) {
    DrawFaultRates(/*max_loss=*/150, /*max_long_delay=*/30, /*max_crash=*/20);
    reconfig_ = rng_.Below(3) == 0;
  }
  const bool drift = rng_.Below(2) == 0;
  // Longer than twice a client's retry deadline (80 ticks), as the server's flag must be.
  session_idle_ = Between(170, 400) * kTick;

  Membership initial;
  for (int i = 1; i <= n; ++i) initial.add_voters(NodeId(i));
  initial.set_window(window_);
  groups_.resize(1);
  for (int k = 1; k <= n; ++k) {
    const int i = AddReplica(0, NodeId(k));
    SimReplica& r = reps_[i];
    r.tick_period = drift ? kTick + Between(-1, 1) : kTick;
    r.snapshot_every = Slot(Between(3, 40));
    *r.disk.snapshot.mutable_config()->mutable_current() = initial;
    r.disk.snapshot_data = std::make_shared<SimMachine>();
    StartNode(i);
  }
  const int num_clients = 1 + int(rng_.Below(5));
  clients_.resize(num_clients);
  for (int c = 0; c < num_clients; ++c) {
    clients_[c].ops_left = 1000000;
    clients_[c].target = int(rng_.Below(n));
    clients_[c].read_percent = rng_.Below(2) == 0 ? 35 : 90;
    SetTimer(c, Between(0, 10 * kTick));
  }
  net_.faults_on = opt_.faults;
  Schedule(int64_t(opt_.chaos_ticks) * kTick, EventType::kHeal);
  if (net_.faults_on) Schedule(kTick, EventType::kFault);
  RunEvents(int64_t(opt_.chaos_ticks + opt_.liveness_ticks) * kTick);

  for (int c = 0; c < num_clients && ok(); ++c) {
    if (clients_[c].done) continue;
    if (opt_.verbose) DumpStuck(c);
    Fail("liveness: client " + std::to_string(c + 1) + " did not finish within " +
         std::to_string(opt_.liveness_ticks) + " ticks after the faults healed");
  }
  CheckHistory(opt_.lincheck);
  SimResult result;
  Report(result);
  result.slots_chosen = int64_t(groups_[0].ledger.highest());
  return result;
}

}  // namespace

SimResult RunSimulation(const SimOptions& options) { return Simulation(options).Run(); }

}  // namespace penncloud::paxos::sim
