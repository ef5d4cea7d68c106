// The callers of the multi-group simulation: clients that route rows by a cached map, and
// the rebalancer that drives the migration steps. Both send one request at a time to a
// group and retry it until they take an answer.
#include "kvs/paxos/sim/multi_group_sim.h"
#include "kvs/shard/config_store.h"

namespace penncloud::paxos::sim::multi {

// ----------------------------------------------------------------------------------------
// Calls: one request toward one group, resent (to the leader hint or another replica)
// until the caller takes an answer.

void MultiGroupSimulation::Send(int caller) {
  Call& call = CallOf(caller);
  const int n = int(groups_[call.group].nodes.size());
  if (call.hint && *call.hint >= 1 && int(*call.hint) <= n) {
    call.target = int(*call.hint) - 1;
  }
  call.hint.reset();
  SendRequest(groups_[call.group].nodes[call.target], call.req);
  Schedule(now_ + 15 * kTick, EventType::kTimer, caller).token = ++call.timer;
}

void MultiGroupSimulation::Retry(int caller, int64_t delay) {
  Schedule(now_ + delay, EventType::kTimer, caller).token = ++CallOf(caller).timer;
}

void MultiGroupSimulation::OnReply(const Reply& rep) {
  Call& call = CallOf(rep.caller);
  if (rep.token != call.req.token) return;
  if (rep.status == RepStatus::kNotLeader) {
    call.hint = rep.hint;
    if (!rep.hint) call.target = PickReplica(call.group);
    Retry(rep.caller, Between(kTick, 3 * kTick));
    return;
  }
  if (rep.caller == Rebal()) {
    OnRebalancerReply(rep);
  } else {
    OnClientReply(rep.caller, rep);
  }
}

void MultiGroupSimulation::OnTimer(int caller, uint64_t token) {
  Call& call = CallOf(caller);
  if (token != call.timer) return;
  if (caller == Rebal()) {
    if (rebal_.down || rebal_.finished) return;
    if (call.hint == std::nullopt) call.target = PickReplica(call.group);
    Send(caller);
    return;
  }
  Client& cl = clients_[caller];
  if (cl.done) return;
  switch (cl.OnTimer(net_.faults_on, now_)) {
    case ClientOps::Due::kNextOp:
      return StartOp(caller);
    case ClientOps::Due::kGiveUp:
      return FinishOp(caller, false, nullptr);
    case ClientOps::Due::kResend:
      break;
  }
  if (cl.reroute) {
    cl.reroute = false;
    Route(caller);
    return;
  }
  if (call.hint == std::nullopt) call.target = PickReplica(call.group);
  Send(caller);
}

// ----------------------------------------------------------------------------------------
// Clients: route each row by the cached map, refresh it on a wrong-group answer that is
// not older than the cache, and take a fresh sequence number for a write refused that
// way (the refusal is recorded, so that (client, seq) is finished at that group).

void MultiGroupSimulation::StartOp(int c) {
  Client& cl = clients_[c];
  if (!cl.TakeNext()) return;
  ClientOp& q = cl.op;
  q = ClientOp();
  q.key = rows_[rng_.Below(rows_.size())];
  const uint64_t dice = rng_.Below(100);
  const uint64_t reads = cl.read_percent;
  const uint64_t rest = 100 - reads;
  cl.kind = dice < reads ? ReqKind::kGet : ReqKind::kWrite;
  q.op = dice < reads + rest / 2       ? 'P'
         : dice < reads + rest * 4 / 6 ? 'C'
         : dice < reads + rest * 5 / 6 ? 'X'
                                       : 'D';
  if (cl.kind == ReqKind::kWrite && (q.op == 'P' || q.op == 'C')) {
    q.value = "c" + std::to_string(c + 1) + "o" + std::to_string(history_.size());
  }
  if (cl.kind == ReqKind::kWrite && q.op == 'X') {
    // A compare-and-delete always names the value it expects, mostly one written lately.
    q.expected = written_values_.empty() || rng_.Below(5) == 0
                     ? std::string("never-written")
                     : written_values_[written_values_.size() - 1 -
                                       rng_.Below(std::min<size_t>(3, written_values_.size()))];
  } else if (cl.kind == ReqKind::kWrite && q.op == 'C' && !written_values_.empty() &&
             rng_.Below(4) != 0) {
    q.expected = written_values_[written_values_.size() - 1 -
                                 rng_.Below(std::min<size_t>(3, written_values_.size()))];
  }
  if (!q.value.empty()) written_values_.push_back(q.value);
  const lincheck::OpKind kind = cl.kind == ReqKind::kGet ? lincheck::OpKind::kGet
                                : q.op == 'P'            ? lincheck::OpKind::kPut
                                : q.op == 'C'            ? lincheck::OpKind::kCPut
                                : q.op == 'X'            ? lincheck::OpKind::kCDelete
                                                         : lincheck::OpKind::kDelete;
  cl.Begin(history_, c + 1, q.key, kind, q.value, q.expected, now_, now_ + 150 * kTick);
  q.seq = ++cl.seq;
  Route(c);
}

namespace {

// The command a client's write proposes: its session is the client, as in the server.
kvs::pb::Command WriteCommand(int c, const ClientOp& op) {
  kvs::pb::Command w;
  w.set_op(op.op == 'P'   ? kvs::pb::OP_PUT
           : op.op == 'C' ? kvs::pb::OP_CPUT
           : op.op == 'X' ? kvs::pb::OP_CDELETE
                          : kvs::pb::OP_DELETE);
  w.set_session(uint64_t(c + 1));
  w.set_seq(op.seq);
  w.set_row(op.key);
  w.set_column(kColumn);
  w.set_value(op.value);
  if (op.expected) {
    w.set_expected(*op.expected);
  } else if (op.op == 'C') {
    w.set_expect_absent(true);
  }
  return w;
}

}  // namespace

void MultiGroupSimulation::Route(int c) {
  Client& cl = clients_[c];
  Call& call = cl.call;
  Request q;
  q.caller = c;
  q.token = ++next_token_;
  int group = 0;
  cl.reading_map = cl.cached_map == 0;
  if (cl.reading_map) {
    q.kind = ReqKind::kConfigRead;
  } else {
    group = int(maps_.at(cl.cached_map)->GroupOfRow(cl.op.key));
    q.kind = cl.kind;
    q.key = cl.op.key;
    if (cl.kind == ReqKind::kWrite) q.cmd = WriteCommand(c, cl.op);
  }
  if (group != call.group) {
    call.group = group;
    call.hint.reset();
    call.target = PickReplica(group);
  }
  call.req = q;
  Send(c);
}

void MultiGroupSimulation::FinishOp(int c, bool completed, const Reply* rep) {
  Client& cl = clients_[c];
  if (completed) {
    cl.Complete(history_, now_, rep->value, rep->cput_ok);
  } else {
    cl.GiveUp(history_, now_);
  }
  cl.call.req.token = 0;
  Retry(c, Between(0, 3 * kTick));
}

void MultiGroupSimulation::OnClientReply(int c, const Reply& rep) {
  Client& cl = clients_[c];
  if (!cl.active) return;
  if (cl.reading_map) {
    if (rep.status != RepStatus::kOk) return;
    if (VersionOf(rep.map) >= VersionOf(cl.cached_map)) cl.cached_map = rep.map;
    Route(c);
    return;
  }
  switch (rep.status) {
    case RepStatus::kOk:
      if (rep.expired) return FinishOp(c, false, nullptr);  // outcome unknown
      FinishOp(c, true, &rep);
      return;
    case RepStatus::kWrongGroup:
      ++result_.wrong_group_answers;
      if (cl.kind == ReqKind::kWrite) cl.op.seq = ++cl.seq;
      if (rep.version >= VersionOf(cl.cached_map)) cl.cached_map = 0;  // re-read the map
      cl.reroute = true;
      Retry(c, Between(1, 2 * kTick));
      return;
    case RepStatus::kUnavailable:  // frozen or arriving: the same group, a little later
    case RepStatus::kRefused:
    case RepStatus::kNotLeader:
      Retry(c, Between(2 * kTick, 5 * kTick));
      return;
  }
}

// ----------------------------------------------------------------------------------------
// The rebalancer: the steps of kvs/shard/rebalancer.cc as a state machine over the map it
// last read or wrote. A restart forgets everything but the config group's map, pushes it
// to every group and resumes where the map says, like Rebalancer::Run.

void MultiGroupSimulation::RebalancerAsk(int group, Request req) {
  Call& call = rebal_.call;
  req.caller = Rebal();
  req.token = ++next_token_;
  if (req.kind == ReqKind::kCommand) req.cmd.set_seq(++next_nonce_);  // session 0: a nonce
  if (group != call.group) {
    call.group = group;
    call.hint.reset();
    call.target = PickReplica(group);
  }
  call.req = std::move(req);
  Send(Rebal());
}

void MultiGroupSimulation::RebalancerWrite(absl::StatusOr<cluster::ClusterMap> next, bool push) {
  if (!next.ok()) {
    Fail("rebalancer: " + std::string(next.status().message()));
    return;
  }
  const uint64_t id = Register(*std::move(next));
  if (id == 0) return;
  rebal_.push_after_write = push;
  // ConfigStore's compare-and-put of the map cell, from the exact bytes last read.
  Request q;
  q.kind = ReqKind::kCommand;
  q.cmd.set_op(kvs::pb::OP_CPUT);
  q.cmd.set_row(std::string(shard::kMapRow));
  q.cmd.set_column(std::string(shard::kMapColumn));
  q.cmd.set_expected(maps_.at(rebal_.map_id)->bytes());
  q.cmd.set_value(maps_.at(id)->bytes());
  RebalancerAsk(0, std::move(q));
}

void MultiGroupSimulation::RebalancerNext() {
  Rebalancer& rb = rebal_;
  if (rb.down || rb.finished || !ok()) return;
  Request q;
  q.kind = ReqKind::kCommand;
  if (rb.map == nullptr) {
    q.kind = ReqKind::kConfigRead;
    RebalancerAsk(0, std::move(q));
    return;
  }
  if (!rb.push_left.empty()) {
    q.cmd.set_op(kvs::pb::OP_SET_MAP);
    q.cmd.set_map(rb.map->bytes());
    RebalancerAsk(int(rb.push_left.front()), std::move(q));
    return;
  }
  const shard::ClusterMap& map = *rb.map;
  const cluster::Migration* m = nullptr;
  for (const cluster::Migration& x : map.proto().migrations()) {
    if (x.state() != cluster::MIGRATION_DONE) {
      m = &x;
      break;
    }
  }
  if (m == nullptr) {
    if (std::optional<cluster::ClusterMap> tidy = shard::Tidy(map)) {
      RebalancerWrite(*std::move(tidy), true);
    } else if (rb.next_change < rb.changes.size()) {
      const auto [add, id] = rb.changes[rb.next_change];
      const cluster::Group* g = map.FindGroup(id);
      if (add ? g != nullptr : g == nullptr || g->state() != cluster::GROUP_SERVING) {
        ++rb.next_change;  // planned by an earlier try whose answer was lost; done since
        return RebalancerNext();
      }
      Trace(std::string(add ? "plan: add group " : "plan: remove group ") + std::to_string(id));
      RebalancerWrite(
          add ? shard::PlanAddGroup(map, GroupProto(id)) : shard::PlanRemoveGroup(map, id), true);
    } else {
      rb.finished = true;
      NoteRebalanceStep();
      Trace("rebalancer: finished at map v" + std::to_string(map.version()));
      // The faults go on as long as there is something to move, and stop with it.
      if (heal_time_ == 0) Schedule(now_ + Between(0, 50) * kTick, EventType::kHeal);
    }
    return;
  }
  q.cmd.set_op(kvs::pb::OP_MIGRATE);
  kvs::pb::MigrateStep& step = *q.cmd.mutable_migrate();
  kvs::pb::MigrationEntry& entry = *step.mutable_migration();
  entry.set_id(m->id());
  entry.set_start(m->range().start());
  entry.set_end(m->range().end());
  entry.set_from_group(m->from_group());
  entry.set_to_group(m->to_group());
  const int src = int(m->from_group()), dst = int(m->to_group());
  auto advance = [&](cluster::MigrationState state, bool push) {
    RebalancerWrite(shard::AdvanceMigration(map, m->id(), state, uint64_t(rb.payload.cells_size()),
                                            rb.payload.ByteSizeLong()),
                    push);
  };
  auto fetch = [&] {
    q.kind = ReqKind::kFetch;
    RebalancerAsk(src, std::move(q));
  };
  // Chunk k of the install is sub-step 1 + k; a new attempt starts again at chunk 0.
  const int chunks = install_chunks_;
  auto install = [&](int k) {
    kvs::pb::RangeChunk piece = std::move(SplitDump(rb.payload, size_t(chunks))[size_t(k)]);
    step.set_kind(kvs::pb::MIGRATE_INSTALL_CHUNK);
    step.mutable_cells()->Swap(piece.mutable_cells());
    step.mutable_sessions()->Swap(piece.mutable_sessions());
    step.set_reset(k == 0);
    step.set_last(k == chunks - 1);
    step.set_attempt(rb.attempt);
    step.set_chunk(uint64_t(k));
    RebalancerAsk(dst, std::move(q));
    if (opt_.bug == Bug::kActivateBeforeInstall) {
      ++rb.sub;  // the broken variant goes on without waiting for the chunk to be chosen
      RebalancerNext();
    }
  };
  const bool early_copy = opt_.bug == Bug::kCopyBeforeFreeze;
  switch (m->state()) {
    case cluster::MIGRATION_PLANNED:
      if (early_copy && rb.sub == 0) return fetch();
      if (early_copy && rb.sub <= chunks) return install(rb.sub - 1);
      if (rb.sub == (early_copy ? chunks + 1 : 0)) {
        step.set_kind(kvs::pb::MIGRATE_FREEZE);
        return RebalancerAsk(src, std::move(q));
      }
      return advance(cluster::MIGRATION_FROZEN, false);
    case cluster::MIGRATION_FROZEN:
      if (!early_copy && rb.sub == 0) return fetch();
      if (!early_copy && rb.sub <= chunks) return install(rb.sub - 1);
      return advance(cluster::MIGRATION_INSTALLED, false);
    case cluster::MIGRATION_INSTALLED:
      return advance(cluster::MIGRATION_SWITCHED, true);
    case cluster::MIGRATION_SWITCHED:
      // The source stops before the destination starts.
      if (rb.sub <= 2) {
        constexpr kvs::pb::MigrateKind kSteps[] = {
            kvs::pb::MIGRATE_RELEASE, kvs::pb::MIGRATE_ACTIVATE, kvs::pb::MIGRATE_DROP};
        step.set_kind(kSteps[rb.sub]);
        return RebalancerAsk(step.kind() == kvs::pb::MIGRATE_ACTIVATE ? dst : src, std::move(q));
      }
      return advance(cluster::MIGRATION_DONE, false);
    default:
      Fail("rebalancer: migration without state");
  }
}

void MultiGroupSimulation::OnRebalancerReply(const Reply& rep) {
  Rebalancer& rb = rebal_;
  if (rb.down || rb.finished) return;
  const Request& q = rb.call.req;
  if (rep.status == RepStatus::kRefused) {  // that replica has not applied the freeze yet
    rb.call.target = PickReplica(rb.call.group);
    Retry(Rebal(), Between(kTick, 3 * kTick));
    return;
  }
  if (rep.status != RepStatus::kOk) {
    Fail("rebalancer: unexpected answer to a migration step");
    return;
  }
  rb.call.req.token = 0;
  ++rb.call.timer;
  if (q.kind == ReqKind::kConfigRead) {
    rb.map_id = rep.map;
    rb.map = maps_.at(rep.map);
    rb.push_left.clear();
    for (const cluster::Group& g : rb.map->proto().groups()) rb.push_left.push_back(g.id());
    rb.sub = 0;
  } else if (q.kind == ReqKind::kFetch) {
    rb.payload = rep.payload;
    rb.attempt = opt_.bug == Bug::kUnnumberedChunks ? 0 : ++next_attempt_;
    ++rb.sub;
  } else if (q.cmd.op() == kvs::pb::OP_SET_MAP) {
    rb.push_left.pop_front();
  } else if (q.cmd.op() == kvs::pb::OP_CPUT) {
    const uint64_t written = IdOf(q.cmd.value());
    if (!rep.cput_ok) {
      rb.map = nullptr;  // another map is stored (our earlier try?): read it, go on from it
    } else {
      if (net_.faults_on && rb.map != nullptr &&
          rb.map->proto().rebalance_ranges_done() <
              maps_.at(written)->proto().rebalance_ranges_done()) {
        ++result_.ranges_moved_in_chaos;
      }
      rb.map_id = written;
      rb.map = maps_.at(written);
      rb.sub = 0;
      rb.payload.Clear();
      if (rb.push_after_write) {
        for (const cluster::Group& g : rb.map->proto().groups()) rb.push_left.push_back(g.id());
      }
      Trace("map v" + std::to_string(rb.map->version()) + " stored");
      NoteRebalanceStep();
    }
  } else {
    ++rb.sub;
  }
  RebalancerNext();
}

}  // namespace penncloud::paxos::sim::multi
