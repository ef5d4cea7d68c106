#include "kvs/machine/session_expiry.h"
#include "kvs/paxos/sim/multi_group_sim.h"
#include "kvs/shard/config_store.h"

namespace penncloud::paxos::sim {
namespace multi {

// ----------------------------------------------------------------------------------------
// Maps: commands and replies name a map by its registration number, standing for the
// serialized map the real ones carry.

uint64_t MultiGroupSimulation::Register(cluster::ClusterMap proto) {
  absl::StatusOr<shard::ClusterMap> map = shard::ClusterMap::FromProto(std::move(proto));
  if (!map.ok()) {
    Fail("invalid map: " + std::string(map.status().message()));
    return 0;
  }
  auto [it, fresh] = map_ids_.emplace(map->bytes(), maps_.size() + 1);
  if (fresh) {
    auto shared = std::make_shared<const shard::ClusterMap>(*std::move(map));
    maps_[it->second] = shared;
    maps_by_bytes_[it->first] = std::move(shared);
  }
  return it->second;
}

cluster::Group MultiGroupSimulation::GroupProto(uint64_t id) const {
  cluster::Group g;
  g.set_id(id);
  g.set_state(cluster::GROUP_SERVING);
  for (int r = 1; r <= opt_.replicas; ++r) {
    cluster::Replica* rep = g.add_replicas();
    rep->set_id(uint64_t(r));
    rep->set_address("g" + std::to_string(id) + "n" + std::to_string(r) + ":1");
  }
  return g;
}

// ----------------------------------------------------------------------------------------
// Replicas: what their commands do and how they answer (the harness drives the cores).

void MultiGroupSimulation::ApplyCommand(int i, const std::string& command, bool first) {
  SimReplica& r = reps_[i];
  kvs::pb::Command cmd;
  cmd.ParseFromString(command);
  const uint64_t records_before = r.sm.session_records();
  const kvs::machine::ApplyOutcome out = r.sm.Apply(cmd);
  if (first) {
    models_[r.group].oracle.Apply(cmd);
    counts_.CountOp(cmd.op());
    if (cmd.op() == kvs::pb::OP_EXPIRE_SESSIONS) {
      counts_.sessions_expired += int64_t(records_before - r.sm.session_records());
    }
    if (out.expired) ++counts_.expired_refusals;
    control_chosen_ = control_chosen_ || IsControl(cmd.op());
    if (cmd.op() == kvs::pb::OP_MIGRATE) {
      const kvs::pb::MigrateStep& step = cmd.migrate();
      Trace("group " + std::to_string(r.group) + " chose " +
            kvs::pb::MigrateKind_Name(step.kind()) + " m" + std::to_string(step.migration().id()) +
            (step.reset() ? " reset" : "") + (step.last() ? " last" : ""));
    }
  }
  std::optional<Request> q = TakeWrite(r, {cmd.session(), cmd.seq()});
  if (!q) return;
  Reply rep;
  rep.caller = q->caller;
  rep.token = q->token;
  rep.cput_ok = out.result.cput_succeeded();
  rep.expired = out.expired;
  rep.version = r.sm.map_version();
  rep.status = !out.unavailable.empty()   ? RepStatus::kUnavailable
               : out.result.wrong_group() ? RepStatus::kWrongGroup
                                          : RepStatus::kOk;
  Respond(std::move(rep));
}

void MultiGroupSimulation::MaybeExpireSessions(int i) {
  SimReplica& r = reps_[i];
  std::optional<kvs::pb::SessionExpiry> due = kvs::machine::ExpiryDue(r.sm.clock(), session_idle_);
  if (!due) return;
  kvs::pb::Command c;
  c.set_op(kvs::pb::OP_EXPIRE_SESSIONS);
  c.set_seq(++next_nonce_);
  *c.mutable_expire() = *due;
  r.node->Propose(c.SerializeAsString()).IgnoreError();
}

void MultiGroupSimulation::SlotApplied(int i, bool /*first*/) {
  if (!control_chosen_) return;
  control_chosen_ = false;
  CheckExclusive(reps_[i].group);
}

void MultiGroupSimulation::AnswerRead(int i, const Request& q) {
  const SimMachine& sm = reps_[i].sm;
  Reply rep;
  rep.caller = q.caller;
  rep.token = q.token;
  rep.version = sm.map_version();
  if (q.kind == ReqKind::kConfigRead) {
    const std::optional<std::string> stored =
        sm.Get(std::string(shard::kMapRow), std::string(shard::kMapColumn));
    rep.map = IdOf(stored.value_or(""));
  } else {
    const kvs::machine::Verdict v = sm.Judge(q.key, /*write=*/false);
    rep.status = v == kvs::machine::Verdict::kServe        ? RepStatus::kOk
                 : v == kvs::machine::Verdict::kWrongGroup ? RepStatus::kWrongGroup
                                                           : RepStatus::kUnavailable;
    if (v == kvs::machine::Verdict::kServe) rep.value = sm.Get(q.key, kColumn);
  }
  Respond(std::move(rep));
}

void MultiGroupSimulation::AnswerNotLeader(int /*i*/, const Request& q) {
  Reply rep;
  rep.caller = q.caller;
  rep.token = q.token;
  rep.status = RepStatus::kNotLeader;
  Respond(std::move(rep));
}

// Called when a slot with a map or migration command is first applied in group g, i.e. in
// the order slots are chosen: no row may start being served by g while another group's
// chosen state still serves it.
void MultiGroupSimulation::CheckExclusive(int g) {
  if (g == 0) return;
  for (const std::string& row : rows_) {
    std::set<int>& holders = serving_[row];
    if (!models_[g].oracle.Serves(row)) {
      holders.erase(g);
      continue;
    }
    for (int other : holders) {
      if (other == g) continue;
      Fail("row " + row + " served by groups " + std::to_string(other) + " and " +
           std::to_string(g) + " at once (their maps: v" +
           std::to_string(models_[other].oracle.map_version()) + ", v" +
           std::to_string(models_[g].oracle.map_version()) + ")");
      return;
    }
    holders.insert(g);
  }
}

void MultiGroupSimulation::OnRequest(int i, const Request& req) {
  SimReplica& r = reps_[i];
  if (!r.up) return;
  Reply rep;
  rep.caller = req.caller;
  rep.token = req.token;
  absl::Status st;
  switch (req.kind) {
    case ReqKind::kFetch: {
      // Any replica that applied the freeze can answer: its copy of the range is final.
      std::optional<kvs::pb::RangeChunk> dump = r.sm.Dump(req.cmd.migrate().migration());
      rep.status = dump ? RepStatus::kOk : RepStatus::kRefused;
      if (dump) rep.payload = *std::move(dump);
      Respond(std::move(rep));
      return;
    }
    case ReqKind::kGet:
    case ReqKind::kConfigRead: {
      const uint64_t id = ++next_read_id_;
      st = r.node->RequestRead(id);
      if (st.ok()) r.pending_reads[id] = req;
      break;
    }
    case ReqKind::kWrite:
    case ReqKind::kCommand: {
      // As the server's client API: a client's write is stamped by the leader that
      // proposes it (the log's clock for session expiry).
      kvs::pb::Command c = req.cmd;
      if (req.kind == ReqKind::kWrite) c.set_stamp_ms(now_);
      st = r.node->Propose(c.SerializeAsString());
      if (st.ok()) {
        r.pending_writes[{c.session(), c.seq()}] = req;
        if (req.kind == ReqKind::kWrite) MaybeExpireSessions(i);
      }
      break;
    }
  }
  if (!st.ok()) {
    rep.status = RepStatus::kNotLeader;
    rep.hint = LeaderHint(st);
    Respond(std::move(rep));
  }
  ScheduleReady(i);
}

// ----------------------------------------------------------------------------------------
// Faults.

void MultiGroupSimulation::Reconfigure(int g) {
  // One change at a time, through the group's log: either remove a voter and later add it
  // back as a learner and promote it, or replace one: a brand-new replica (empty disk,
  // a fresh id) joins as a learner, catches up by log or snapshot, is promoted once the
  // core allows it, and then an old voter is removed and stopped for good.
  ReplicaGroup& group = groups_[g];
  const size_t target = size_t(opt_.replicas);
  for (int i : group.nodes) {
    const SimReplica& r = reps_[i];
    if (!r.up || !r.node->is_leader()) continue;
    auto [voters, learners] = MembersToChange(i);
    auto absent = [&](NodeId id) {
      return std::find(voters.begin(), voters.end(), id) == voters.end() &&
             std::find(learners.begin(), learners.end(), id) == learners.end();
    };
    std::optional<NodeId> retire;
    bool join = false;
    if (!learners.empty()) {
      voters.push_back(learners.back());
      learners.pop_back();
    } else if (voters.size() > target) {
      // The replacement is a voter: remove an old one (the one already retired, if any).
      NodeId victim = voters[rng_.Below(voters.size())];
      for (NodeId v : voters) {
        if (group.retired.count(v)) victim = v;
      }
      if (victim == r.id) continue;  // not the leader that proposes it
      voters.erase(std::find(voters.begin(), voters.end(), victim));
      retire = victim;
    } else if (voters.size() == target && (group.nodes.size() >= target + 3 || rng_.Below(2))) {
      voters.erase(voters.begin() + int64_t(rng_.Below(voters.size())));
    } else {
      NodeId back = 0;
      for (NodeId k = 1; k <= group.nodes.size(); ++k) {
        if (absent(k) && !group.retired.count(k)) back = k;
      }
      if (back == 0 && group.nodes.size() >= target + 3) return;
      join = back == 0;
      learners.push_back(join ? NodeId(group.nodes.size() + 1) : back);
    }
    if (!ProposeMembers(i, voters, learners)) return;
    if (join) {
      const int k = AddReplica(g, NodeId(group.nodes.size() + 1));
      SimReplica& fresh = reps_[k];
      fresh.tick_period = reps_[i].tick_period;
      fresh.snapshot_every = Slot(Between(3, 40));
      fresh.disk.snapshot_data = models_[g].initial;  // a joining replica: no membership yet
      ++result_.replicas_replaced;
      Trace("new replica " + Name(k) + " joins as a learner");
      StartNode(k);
    }
    if (retire && !group.retired.count(*retire)) {
      group.retired.insert(*retire);
      const int k = group.nodes[*retire - 1];
      Trace("retire " + Name(k));
      Crash(k);
    }
    return;
  }
}

void MultiGroupSimulation::InjectFault() {
  if (Chance(crash_rate_)) Crash(int(rng_.Below(reps_.size())));
  if (Chance(partition_rate_)) {
    const int g = int(rng_.Below(groups_.size()));
    Trace("partition " + Partition(g) + " in group " + std::to_string(g));
  }
  if (churn_) {
    for (int g = 0; g < int(groups_.size()); ++g) {
      if (now_ < models_[g].next_reconfig) continue;
      models_[g].next_reconfig = now_ + Between(20, 80) * kTick;
      Reconfigure(g);
    }
  }
  if (!rebal_.down && !rebal_.finished && Chance(rebalancer_crash_)) {
    Trace("rebalancer crashed");
    ++result_.rebalancer_restarts;
    rebal_.down = true;
    rebal_.call.req.token = 0;
    ++rebal_.call.timer;
    Schedule(now_ + Between(2, 40) * kTick, EventType::kRebalancerRestart);
  }
}

void MultiGroupSimulation::HealAll() {
  if (heal_time_ > 0) return;
  if (!rebal_.finished) ++result_.rebalances_cut_by_heal;
  HealReplicas();
  if (rebal_.down) Schedule(now_, EventType::kRebalancerRestart);
  for (int c = 0; c < int(clients_.size()); ++c) {
    if (clients_[c].Heal()) Retry(c, 1);
  }
}

// Once everything finished: every row is served by exactly the group the final map names,
// and its value there is read into the history, so a lost acknowledged write shows up as a
// history that is not linearizable.
void MultiGroupSimulation::FinalCheck() {
  const shard::ClusterMap& final_map = *rebal_.map;
  if (!final_map.proto().migrations().empty()) {
    Fail("the final map still has migrations");
    return;
  }
  for (const std::string& row : rows_) {
    const std::set<int>& holders = serving_[row];
    const int owner = int(final_map.GroupOfRow(row));
    if (holders != std::set<int>{owner}) {
      std::string who;
      for (int g : holders) who += " " + std::to_string(g);
      Fail("row " + row + " is served by groups {" + who + " } at the end; the map says " +
           std::to_string(owner));
      return;
    }
    history_.AddRead(int(clients_.size()) + 1, row, models_[owner].oracle.Get(row, kColumn),
                     now_ + 1, now_ + 2);
  }
}

// ----------------------------------------------------------------------------------------

MultiResult MultiGroupSimulation::Run() {
  const int n = opt_.replicas;
  max_batch_ = 1 + rng_.Below(8);
  max_entries_msg_ = 1 + rng_.Below(8);
  window_ = 1 + uint32_t(rng_.Below(6));
  net_.max_delay = 1 + Between(1, 3 * kTick);
  const uint32_t virtual_nodes = 1 + uint32_t(rng_.Below(6));
  const int num_rows = 4 + int(rng_.Below(9));
  install_chunks_ = 1 + int(rng_.Below(uint64_t(opt_.install_chunks)));
  garbage_on_ = opt_.garbage;
  if (opt_.faults) {
    DrawFaultRates(/*max_loss=*/100, /*max_long_delay=*/20, /*max_crash=*/30);
    rebalancer_crash_ = double(rng_.Below(10)) / 1000;
    churn_ = rng_.Below(3) == 0;
  }
  const bool drift = rng_.Below(2) == 0;
  // Longer than twice a client's retry deadline (150 ticks), as the server's flag must be.
  session_idle_ = Between(310, 700) * kTick;
  for (int k = 0; k < num_rows; ++k) rows_.push_back("row" + std::to_string(k));

  // The changes: add a new group, remove a random serving one, add, ...
  std::vector<uint64_t> serving;
  for (int g = 1; g <= opt_.groups; ++g) serving.push_back(uint64_t(g));
  uint64_t next_id = uint64_t(opt_.groups) + 1;
  for (int k = 0; k < opt_.changes; ++k) {
    if (k % 2 == 0 || serving.size() < 2) {
      rebal_.changes.push_back({true, next_id});
      serving.push_back(next_id++);
    } else {
      const size_t victim = rng_.Below(serving.size());
      rebal_.changes.push_back({false, serving[victim]});
      serving.erase(serving.begin() + int64_t(victim));
    }
  }
  const int num_groups = int(next_id);  // config group 0, data groups 1..next_id-1

  cluster::ClusterMap first;
  first.set_version(1);
  first.set_virtual_nodes(virtual_nodes);
  first.set_next_migration_id(1);
  for (int g = 1; g <= opt_.groups; ++g) *first.add_groups() = GroupProto(uint64_t(g));
  if (Register(first) != 1) {
    Report(result_);
    return result_;
  }

  Membership initial;
  for (int i = 1; i <= n; ++i) initial.add_voters(NodeId(i));
  initial.set_window(window_);
  groups_.resize(num_groups);
  models_.resize(num_groups);
  for (int g = 0; g < num_groups; ++g) {
    // Every group starts where `cluster init` leaves it: the first map applied (a group
    // added later is not in it, so it serves nothing until it gets ranges).
    SimMachine initial_state(uint64_t(g), &maps_by_bytes_, opt_.bug);
    kvs::pb::Command set;
    if (g == 0) {  // the config group holds the map in its cell, as ConfigStore writes it
      set.set_op(kvs::pb::OP_PUT);
      set.set_row(std::string(shard::kMapRow));
      set.set_column(std::string(shard::kMapColumn));
      set.set_value(maps_.at(1)->bytes());
    } else {
      set.set_op(kvs::pb::OP_SET_MAP);
      set.set_map(maps_.at(1)->bytes());
    }
    initial_state.Apply(set);
    auto data = std::make_shared<const SimMachine>(initial_state);
    models_[g].oracle = initial_state;
    models_[g].initial = data;
    for (int k = 1; k <= n; ++k) {
      SimReplica& r = reps_[AddReplica(g, NodeId(k))];
      r.tick_period = drift ? kTick + Between(-1, 1) : kTick;
      r.snapshot_every = Slot(Between(3, 40));
      *r.disk.snapshot.mutable_config()->mutable_current() = initial;
      r.disk.snapshot_data = data;
    }
  }
  for (int i = 0; i < int(reps_.size()); ++i) StartNode(i);
  for (int g = 1; g < num_groups; ++g) CheckExclusive(g);
  for (const std::string& row : rows_) {
    if (serving_[row].size() != 1) Fail("row " + row + " has no single owner in the first map");
  }

  const int num_clients = 1 + int(rng_.Below(5));
  clients_.resize(num_clients);
  for (int c = 0; c < num_clients; ++c) {
    clients_[c].ops_left = 1000000;
    clients_[c].read_percent = rng_.Below(2) == 0 ? 35 : 80;
    Retry(c, Between(0, 10 * kTick));
  }
  // The rebalancer starts a little after the clients.
  Schedule(Between(20, 100) * kTick, EventType::kRebalancerRestart);
  net_.faults_on = opt_.faults;
  Schedule(int64_t(opt_.chaos_ticks) * kTick, EventType::kHeal);
  if (net_.faults_on) Schedule(kTick, EventType::kFault);
  RunEvents(int64_t(opt_.chaos_ticks + opt_.liveness_ticks) * kTick);
  for (int c = 0; c < num_clients && ok(); ++c) {
    if (!clients_[c].done) {
      Fail("liveness: client " + std::to_string(c + 1) + " did not finish within " +
           std::to_string(opt_.liveness_ticks) + " ticks after the faults healed");
    }
  }
  RunRebalanceToEnd();
  if (ok()) FinalCheck();
  result_.map_versions = int64_t(rebal_.map ? rebal_.map->version() : 0);
  std::set<uint64_t> moved;
  for (const auto& [version, map] : maps_) {
    for (const cluster::Migration& m : map->proto().migrations()) {
      if (m.state() == cluster::MIGRATION_DONE) moved.insert(m.id());
    }
  }
  result_.migrations_done = int64_t(moved.size());
  if (rebal_.finished) {
    for (const auto& [add, id] : rebal_.changes)
      ++(add ? result_.groups_added : result_.groups_removed);
  }
  CheckHistory(opt_.lincheck);
  Report(result_);
  return result_;
}

// The rebalance's work left at the heal varies: a seed whose rebalancer crashed all through
// the chaos heals with every change still to make (seed 700092 of issue 18: 19 migrations,
// about 140 ticks each once healed). So the bound is on each step, not on the whole: after
// the heal, the next map must be stored within a third of liveness_ticks, and the rebalance
// must end within four times liveness_ticks (each stored map is a step of a finite plan).
void MultiGroupSimulation::RunRebalanceToEnd() {
  const int64_t stall = int64_t(opt_.liveness_ticks / 3) * kTick;
  const int64_t cap = heal_time_ + 4 * int64_t(opt_.liveness_ticks) * kTick;
  while (ok() && !rebal_.finished && heal_time_ > 0) {
    const int64_t since = std::max(last_step_, heal_time_);
    if (now_ - since > stall) {
      Fail("liveness: the rebalance stored no map for " + std::to_string((now_ - since) / kTick) +
           " ticks after the faults healed (map v" +
           std::to_string(rebal_.map ? rebal_.map->version() : 0) + ")");
      break;
    }
    if (now_ >= cap) {
      Fail("liveness: the rebalance did not finish within " +
           std::to_string(4 * opt_.liveness_ticks) + " ticks after the faults healed");
      break;
    }
    RunEvents(std::min(cap, since + stall + kTick));
  }
  if (ok() && !rebal_.finished) Fail("liveness: the rebalance did not finish (no heal)");
  if (ok() && result_.max_stall_ticks > stall / kTick) {
    Fail("liveness: after the heal, the rebalance waited " +
         std::to_string(result_.max_stall_ticks) + " ticks for its next map");
  }
}

void MultiGroupSimulation::NoteRebalanceStep() {
  if (heal_time_ > 0) {
    const int64_t since = std::max(last_step_, heal_time_);
    result_.max_stall_ticks = std::max(result_.max_stall_ticks, (now_ - since) / kTick);
    if (rebal_.finished) result_.max_rebalance_after_heal = (now_ - heal_time_) / kTick;
  }
  last_step_ = now_;
}

void MultiGroupSimulation::OnEvent(SimEvent& ev) {
  switch (ev.type) {
    case EventType::kRebalancerRestart:
      if (rebal_.finished) break;
      Trace("rebalancer (re)starts");
      rebal_.down = false;
      rebal_.map = nullptr;
      rebal_.push_left.clear();
      rebal_.sub = 0;
      rebal_.payload.Clear();
      RebalancerNext();
      break;
    default:
      break;
  }
}

bool MultiGroupSimulation::Done() const {
  return heal_time_ > 0 && rebal_.finished &&
         std::all_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.done; });
}

}  // namespace multi

MultiResult RunMultiGroup(const MultiOptions& options) {
  return multi::MultiGroupSimulation(options).Run();
}

}  // namespace penncloud::paxos::sim
