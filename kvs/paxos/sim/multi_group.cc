#include "kvs/paxos/sim/multi_group_sim.h"

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
  if (fresh) maps_[it->second] = std::make_shared<const shard::ClusterMap>(*std::move(map));
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
// Replicas: the Ready contract, as in the single-group simulator.

Config MultiGroupSimulation::NodeConfig(const Replica& r) const {
  Config c;
  c.id = r.id;
  c.election_ticks = 10;
  c.heartbeat_ticks = 2;
  c.lease_margin_ticks = 2;
  c.seed = opt_.seed * 1000003 + uint64_t(r.group) * 7919 + r.id * 101 + uint64_t(r.restarts);
  c.max_batch_commands = max_batch_;
  c.max_entries_per_message = max_entries_msg_;
  c.snapshot_retry_ticks = 20;
  c.learner_catchup_slots = 8;
  return c;
}

void MultiGroupSimulation::StartNode(int i) {
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

void MultiGroupSimulation::Crash(int i) {
  Replica& r = reps_[i];
  if (!r.up) return;
  Trace("crash " + Name(i));
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

void MultiGroupSimulation::ScheduleReady(int i) {
  Replica& r = reps_[i];
  if (!r.up || r.ready_scheduled || !r.node->HasReady()) return;
  r.ready_scheduled = true;
  Event& e = Schedule(now_ + Between(0, 3), EventType::kReady, i);
  e.token = r.epoch;
}

void MultiGroupSimulation::Respond(Reply reply) {
  if (faults_on_ && Chance(loss_)) return;
  Event& e = Schedule(now_ + NetDelay(), EventType::kReply, reply.caller);
  e.reply = std::move(reply);
}

void MultiGroupSimulation::ProcessReady(int i) {
  Replica& r = reps_[i];
  Node& node = *r.node;
  Ready rd = node.TakeReady();
  if (faults_on_ && Chance(mid_ready_crash_)) {
    Crash(i);  // nothing of this Ready was made durable
    return;
  }
  if (rd.snapshot) {
    const Slot slot = rd.snapshot->slot();
    auto it = r.incoming_snapshots.find(slot);
    if (it == r.incoming_snapshots.end()) {
      Fail(Name(i) + " asked to install a snapshot it never received");
      return;
    }
    r.sm = *it->second;
    r.applied = slot;
    r.disk.snapshot = *rd.snapshot;
    r.disk.snapshot_data = it->second;
    r.disk.entries.erase(r.disk.entries.begin(), r.disk.entries.upper_bound(slot));
    r.incoming_snapshots.clear();
    ++result_.snapshots_installed;
    const Group& g = groups_[r.group];
    if (slot < g.digest.size() && g.digest[slot] != 0 && g.digest[slot] != (r.sm.Digest() | 1)) {
      Fail(Name(i) + " installed a snapshot at slot " + std::to_string(slot) +
           " whose state differs from the state applied there");
    }
  }
  for (const EntryPtr& e : rd.entries) {
    if (e->slot() > r.disk.snapshot.slot()) r.disk.entries[e->slot()] = *e;
  }
  if (rd.hard_state) r.disk.hard_state = *rd.hard_state;
  if (faults_on_ && Chance(mid_ready_crash_)) {
    Crash(i);  // durable, but nothing sent or applied
    return;
  }
  for (Message& m : rd.messages) {
    ++result_.messages;
    std::shared_ptr<const ShardMachine> data;
    if (m.type() == MSG_SNAPSHOT) {
      if (m.snapshot().slot() != r.disk.snapshot.slot()) {
        Fail("MSG_SNAPSHOT names a snapshot the server does not hold");
        return;
      }
      data = r.disk.snapshot_data;
    }
    if (m.to() < 1 || m.to() > groups_[r.group].nodes.size()) continue;
    const int to = groups_[r.group].nodes[m.to() - 1];
    if (faults_on_ && (Chance(loss_) || blocked_.count({i, to}))) continue;
    const int copies = faults_on_ && Chance(dup_) ? 2 : 1;
    for (int k = 0; k < copies; ++k) {
      Event& e = Schedule(now_ + NetDelay(), EventType::kDeliver, to);
      e.msg = m;
      e.snapshot_data = data;
    }
  }
  for (const EntryPtr& e : rd.committed) {
    ApplyEntry(i, *e);
    if (!result_.ok) return;
  }
  for (const ReadState& rs : rd.reads) {
    auto it = r.pending_reads.find(rs.id);
    if (it == r.pending_reads.end()) continue;
    if (r.applied < rs.index) Fail("read released before its index was applied");
    const Request& q = it->second;
    Reply rep;
    rep.caller = q.caller;
    rep.token = q.token;
    rep.version = r.sm.map_version();
    rep.map = r.sm.map_id();
    if (q.kind == ReqKind::kGet) {
      const Verdict v = r.sm.Judge(q.key, /*write=*/false);
      rep.status = v == Verdict::kServe        ? RepStatus::kOk
                   : v == Verdict::kWrongGroup ? RepStatus::kWrongGroup
                                               : RepStatus::kUnavailable;
      if (v == Verdict::kServe) rep.value = r.sm.Get(q.key);
    }
    r.pending_reads.erase(it);
    Respond(std::move(rep));
  }
  for (uint64_t id : rd.failed_reads) {
    auto it = r.pending_reads.find(id);
    if (it == r.pending_reads.end()) continue;
    Reply rep;
    rep.caller = it->second.caller;
    rep.token = it->second.token;
    rep.status = RepStatus::kNotLeader;
    r.pending_reads.erase(it);
    Respond(std::move(rep));
  }
  for (const std::string& c : rd.dropped) {
    const ShardCommand cmd = DecodeCommand(c);
    auto it = r.pending_writes.find({cmd.client, cmd.seq});
    if (it == r.pending_writes.end()) continue;
    Reply rep;
    rep.caller = it->second.first;
    rep.token = it->second.second;
    rep.status = RepStatus::kNotLeader;
    r.pending_writes.erase(it);
    Respond(std::move(rep));
  }
  node.Advance();
  if (r.applied >= r.disk.snapshot.slot() + r.snapshot_every) {
    auto meta = node.Compact(r.applied);
    if (!meta.ok()) {
      Fail("Compact refused: " + std::string(meta.status().message()));
      return;
    }
    r.disk.snapshot = *meta;
    r.disk.snapshot_data = std::make_shared<ShardMachine>(r.sm);
    r.disk.entries.erase(r.disk.entries.begin(), r.disk.entries.upper_bound(meta->slot()));
  }
  Group& g = groups_[r.group];
  if (node.is_leader() && g.last_leader != r.id) {
    g.last_leader = r.id;
    Trace("leader " + Name(i));
  }
  ScheduleReady(i);
}

void MultiGroupSimulation::ApplyEntry(int i, const Entry& e) {
  Replica& r = reps_[i];
  Group& g = groups_[r.group];
  const Slot s = e.slot();
  if (s != r.applied + 1) {
    Fail(Name(i) + " applied slot " + std::to_string(s) + " after " + std::to_string(r.applied));
    return;
  }
  if (g.chosen.size() <= s) {
    g.chosen.resize(s + 1);
    g.digest.resize(s + 1, 0);
  }
  const std::string fp = Fingerprint(e);
  const bool first = g.chosen[s].empty();
  if (first) {
    g.chosen[s] = fp;
  } else if (g.chosen[s] != fp) {
    Fail("group " + std::to_string(r.group) + " slot " + std::to_string(s) + ": " + Name(i) +
         " applied a value different from another replica's");
    return;
  }
  bool control = false;
  for (const std::string& c : e.commands()) {
    const ShardCommand cmd = DecodeCommand(c);
    const ApplyOutcome out = r.sm.Apply(cmd);
    if (first) {
      g.oracle.Apply(cmd);
      control = control || IsControl(cmd.op);
      if (IsControl(cmd.op) && cmd.op != 'S' && cmd.op != 'M') {
        Trace("group " + std::to_string(r.group) + " chose " + std::string(1, cmd.op) + " m" +
              std::to_string(cmd.migration) +
              (cmd.op == 'I' ? std::string(cmd.reset ? " reset" : "") + (cmd.last ? " last" : "")
                             : ""));
      }
    }
    auto it = r.pending_writes.find({cmd.client, cmd.seq});
    if (it == r.pending_writes.end()) continue;
    Reply rep;
    rep.caller = it->second.first;
    rep.token = it->second.second;
    rep.cput_ok = out.cput_ok;
    rep.version = r.sm.map_version();
    rep.status = IsControl(cmd.op) || out.verdict == Verdict::kServe ? RepStatus::kOk
                 : out.verdict == Verdict::kWrongGroup               ? RepStatus::kWrongGroup
                                                                     : RepStatus::kUnavailable;
    r.pending_writes.erase(it);
    Respond(std::move(rep));
  }
  r.applied = s;
  const uint64_t d = r.sm.Digest() | 1;
  if (g.digest[s] == 0) {
    g.digest[s] = d;
  } else if (g.digest[s] != d) {
    Fail("group " + std::to_string(r.group) + " slot " + std::to_string(s) + ": " + Name(i) +
         " has a state different from another replica's after applying it");
  }
  if (control) CheckExclusive(r.group);
}

// Called when a slot with a map or migration command is first applied in group g, i.e. in
// the order slots are chosen: no row may start being served by g while another group's
// chosen state still serves it.
void MultiGroupSimulation::CheckExclusive(int g) {
  if (g == 0) return;
  for (const std::string& row : rows_) {
    std::set<int>& holders = serving_[row];
    if (!groups_[g].oracle.Serves(row)) {
      holders.erase(g);
      continue;
    }
    for (int other : holders) {
      if (other == g) continue;
      Fail("row " + row + " served by groups " + std::to_string(other) + " and " +
           std::to_string(g) + " at once (their maps: v" +
           std::to_string(groups_[other].oracle.map_version()) + ", v" +
           std::to_string(groups_[g].oracle.map_version()) + ")");
      return;
    }
    holders.insert(g);
  }
}

void MultiGroupSimulation::OnRequest(int i, const Request& req) {
  Replica& r = reps_[i];
  if (!r.up) return;
  Reply rep;
  rep.caller = req.caller;
  rep.token = req.token;
  absl::Status st;
  switch (req.kind) {
    case ReqKind::kFetch: {
      // Any replica that applied the freeze can answer: its copy of the range is final.
      std::optional<std::string> dump = r.sm.Dump(req.cmd.migration, {req.cmd.start, req.cmd.end});
      rep.status = dump ? RepStatus::kOk : RepStatus::kRefused;
      rep.payload = dump.value_or("");
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
    case ReqKind::kCommand:
      st = r.node->Propose(EncodeCommand(req.cmd));
      if (st.ok()) r.pending_writes[{req.cmd.client, req.cmd.seq}] = {req.caller, req.token};
      break;
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
  Group& group = groups_[g];
  const size_t target = size_t(opt_.replicas);
  for (int i : group.nodes) {
    Replica& r = reps_[i];
    if (!r.up || !r.node->is_leader()) continue;
    const NodeStatus st = r.node->Status();
    Membership m = st.config.next_from() ? st.config.next() : st.config.current();
    std::vector<NodeId> voters(m.voters().begin(), m.voters().end());
    std::vector<NodeId> learners(m.learners().begin(), m.learners().end());
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
    Membership want;
    for (NodeId v : voters) want.add_voters(v);
    for (NodeId l : learners) want.add_learners(l);
    if (!r.node->ProposeMembership(want).ok()) return;
    ++result_.reconfigs;
    Trace("reconfig proposed at " + Name(i));
    ScheduleReady(i);
    if (join) {
      const int k = int(reps_.size());
      Replica& fresh = reps_.emplace_back();
      fresh.group = g;
      fresh.id = NodeId(group.nodes.size() + 1);
      fresh.tick_period = reps_[i].tick_period;
      fresh.snapshot_every = Slot(Between(3, 40));
      fresh.disk.snapshot_data = group.initial;  // a joining replica: no membership yet
      group.nodes.push_back(k);
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
    // Within one group: split it, isolate one replica (perhaps the leader), or cut links
    // one way.
    blocked_.clear();
    ++result_.partitions;
    const std::vector<int>& nodes = groups_[rng_.Below(groups_.size())].nodes;
    const int n = int(nodes.size());
    const uint64_t kind = rng_.Below(4);
    if (kind == 0) {
      std::vector<int> side(n);
      for (int a = 0; a < n; ++a) side[a] = int(rng_.Below(2));
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b)
          if (side[a] != side[b]) blocked_.insert({nodes[a], nodes[b]});
    } else if (kind == 1 || kind == 3) {
      int x = int(rng_.Below(n));
      for (int k = 0; kind == 3 && k < n; ++k) {
        if (reps_[nodes[k]].up && reps_[nodes[k]].node->is_leader()) x = k;
      }
      for (int b = 0; b < n; ++b) {
        if (b != x) blocked_.insert({nodes[x], nodes[b]}), blocked_.insert({nodes[b], nodes[x]});
      }
    } else {
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b)
          if (a != b && rng_.Below(3) == 0) blocked_.insert({nodes[a], nodes[b]});
    }
    Trace("partition in group " + std::to_string(reps_[nodes[0]].group));
    Event& e = Schedule(now_ + Between(5, 80) * kTick, EventType::kHealPartition);
    e.token = ++partition_token_;
  }
  if (churn_) {
    for (int g = 0; g < int(groups_.size()); ++g) {
      if (now_ < groups_[g].next_reconfig) continue;
      groups_[g].next_reconfig = now_ + Between(20, 80) * kTick;
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
  faults_on_ = false;
  blocked_.clear();
  heal_time_ = now_;
  Trace("heal");
  for (int i = 0; i < int(reps_.size()); ++i) {
    if (!reps_[i].up && !groups_[reps_[i].group].retired.count(reps_[i].id)) StartNode(i);
  }
  if (rebal_.down) Schedule(now_, EventType::kRebalancerRestart);
  for (int c = 0; c < int(clients_.size()); ++c) {
    clients_[c].ops_left = 2;
    clients_[c].done = false;
    if (!clients_[c].active) Retry(c, 1);
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
    lincheck::Operation op;
    op.client = int(clients_.size()) + 1;
    op.key = row;
    op.kind = lincheck::OpKind::kGet;
    op.observed = groups_[owner].oracle.Get(row);
    op.call = now_ + 1;
    op.ret = now_ + 2;
    history_.push_back(std::move(op));
  }
}

// ----------------------------------------------------------------------------------------

MultiResult MultiGroupSimulation::Run() {
  const int n = opt_.replicas;
  max_batch_ = 1 + rng_.Below(8);
  max_entries_msg_ = 1 + rng_.Below(8);
  window_ = 1 + uint32_t(rng_.Below(6));
  max_delay_ = 1 + Between(1, 3 * kTick);
  const uint32_t virtual_nodes = 1 + uint32_t(rng_.Below(6));
  const int num_rows = 4 + int(rng_.Below(9));
  install_chunks_ = 1 + int(rng_.Below(uint64_t(opt_.install_chunks)));
  if (opt_.faults) {
    loss_ = rng_.Below(4) == 0 ? 0 : double(rng_.Below(100)) / 1000;
    dup_ = double(rng_.Below(60)) / 1000;
    long_delay_ = double(rng_.Below(20)) / 1000;
    crash_rate_ = double(rng_.Below(30)) / 1000;
    partition_rate_ = double(rng_.Below(25)) / 1000;
    mid_ready_crash_ = double(rng_.Below(5)) / 1000;
    rebalancer_crash_ = double(rng_.Below(10)) / 1000;
    churn_ = rng_.Below(3) == 0;
  }
  const bool drift = rng_.Below(2) == 0;
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
  if (Register(first) != 1) return result_;

  Membership initial;
  for (int i = 1; i <= n; ++i) initial.add_voters(NodeId(i));
  initial.set_window(window_);
  groups_.resize(num_groups);
  for (int g = 0; g < num_groups; ++g) {
    // Every group starts where `cluster init` leaves it: the first map applied (a group
    // added later is not in it, so it serves nothing until it gets ranges).
    ShardMachine initial_state(uint64_t(g), &maps_, opt_.bug);
    ShardCommand set;
    set.op = g == 0 ? 'S' : 'M';
    set.map = 1;
    initial_state.Apply(set);
    auto data = std::make_shared<const ShardMachine>(initial_state);
    groups_[g].oracle = initial_state;
    groups_[g].initial = data;
    for (int k = 1; k <= n; ++k) {
      const int i = int(reps_.size());
      reps_.emplace_back();
      Replica& r = reps_.back();
      r.group = g;
      r.id = NodeId(k);
      r.tick_period = drift ? kTick + Between(-1, 1) : kTick;
      r.snapshot_every = Slot(Between(3, 40));
      *r.disk.snapshot.mutable_config()->mutable_current() = initial;
      r.disk.snapshot_data = data;
      groups_[g].nodes.push_back(i);
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
      case EventType::kRequest:
        OnRequest(i, ev->request);
        break;
      case EventType::kReply:
        OnReply(ev->reply);
        break;
      case EventType::kTimer:
        OnTimer(i, ev->token);
        break;
      case EventType::kRestart:
        if (!reps_[i].up && reps_[i].epoch == ev->token &&
            !groups_[reps_[i].group].retired.count(reps_[i].id)) {
          Trace("restart " + Name(i));
          StartNode(i);
        }
        break;
      case EventType::kHealPartition:
        if (ev->token == partition_token_) blocked_.clear();
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
      case EventType::kRebalancerRestart:
        if (rebal_.finished) break;
        Trace("rebalancer (re)starts");
        rebal_.down = false;
        rebal_.map = nullptr;
        rebal_.push_left.clear();
        rebal_.sub = 0;
        rebal_.payload.clear();
        RebalancerNext();
        break;
    }
    if (heal_time_ > 0 && rebal_.finished &&
        std::all_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.done; })) {
      break;
    }
  }
  if (result_.ok && !rebal_.finished) {
    Fail("liveness: the rebalance did not finish within " + std::to_string(opt_.liveness_ticks) +
         " ticks after the faults healed (map v" +
         std::to_string(rebal_.map ? rebal_.map->version() : 0) + ")");
  }
  for (int c = 0; c < num_clients && result_.ok; ++c) {
    if (!clients_[c].done) {
      Fail("liveness: client " + std::to_string(c + 1) + " did not finish within " +
           std::to_string(opt_.liveness_ticks) + " ticks after the faults healed");
    }
  }
  if (result_.ok) FinalCheck();
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
  if (opt_.verbose) {
    for (const lincheck::Operation& op : history_) {
      static const char* kKinds[] = {"GET", "PUT", "CPUT", "DELETE"};
      std::cerr << "op client=" << op.client << " " << kKinds[int(op.kind)] << "(" << op.key
                << (op.value ? "=" + *op.value : "") << ") [" << op.call / kTick << ", "
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

}  // namespace multi

MultiResult RunMultiGroup(const MultiOptions& options) {
  return multi::MultiGroupSimulation(options).Run();
}

}  // namespace penncloud::paxos::sim
