#include "fuzz/paxos_cluster.h"

#include <cstdio>
#include <cstdlib>

#include "kvs/paxos/ballot.h"

namespace penncloud::paxos::fuzz {
namespace {

constexpr uint32_t kWindow = 3;

Config ConfigFor(NodeId id, int restarts) {
  Config c;
  c.id = id;
  c.election_ticks = 4;  // short, so elections happen within a fuzzer's few hundred steps
  c.heartbeat_ticks = 1;
  c.lease_margin_ticks = 1;
  c.seed = id * 101 + restarts;
  c.max_entries_per_message = 4;
  c.snapshot_retry_ticks = 8;
  c.learner_catchup_slots = 4;
  return c;
}

SnapshotMeta InitialSnapshot() {
  SnapshotMeta s;
  Membership* m = s.mutable_config()->mutable_current();
  for (NodeId id = 1; id <= FuzzCluster::kHonest; ++id) m->add_voters(id);
  m->set_window(kWindow);
  return s;
}

std::string Describe(const Ballot& b) {
  return "(" + std::to_string(b.round()) + "," + std::to_string(b.node()) + ")";
}

}  // namespace

std::string ValueOf(const Entry& e) {
  Entry v = e;
  v.clear_slot();
  v.clear_ballot();
  return v.SerializeAsString();
}

FuzzCluster::FuzzCluster() : honest_(kHonest) {
  for (int i = 0; i < kHonest; ++i) {
    honest_[i].id = NodeId(i + 1);
    honest_[i].snapshot = InitialSnapshot();
    Start(honest_[i]);
  }
  target_.id = 1;
  target_.snapshot = InitialSnapshot();
  Start(target_);
}

void FuzzCluster::Start(FuzzReplica& r) {
  PersistentState st;
  st.hard_state = r.hard_state;
  for (const auto& [slot, e] : r.entries) st.entries.push_back(e);
  st.snapshot = r.snapshot;
  st.applied = r.snapshot.slot();
  r.applied = r.snapshot_values;
  r.incoming.clear();
  r.node = std::make_unique<Node>(ConfigFor(r.id, r.restarts), std::move(st));
}

void FuzzCluster::Fail(const FuzzReplica& r, const std::string& why) {
  if (!failure_.empty()) return;
  failure_ = (&r == &target_ ? "target node: " : "node " + std::to_string(r.id) + ": ") + why;
}

void FuzzCluster::Deliver(size_t index, bool duplicate) {
  if (network_.empty()) return;
  index %= network_.size();
  InFlight m = network_[index];
  if (!duplicate) network_.erase(network_.begin() + long(index));
  const NodeId to = m.msg.to();
  if (to < 1 || to > kHonest) return;
  FuzzReplica& r = honest_[to - 1];
  if (m.msg.type() == MSG_SNAPSHOT) r.incoming[m.msg.snapshot().slot()] = m.snapshot_values;
  r.node->Step(std::move(m.msg));
  ProcessReadies(r, true);
}

void FuzzCluster::Drop(size_t index) {
  if (network_.empty()) return;
  network_.erase(network_.begin() + long(index % network_.size()));
}

void FuzzCluster::Tick(int i) {
  honest_[i].node->Tick();
  ProcessReadies(honest_[i], true);
}

void FuzzCluster::Propose(int i, std::string command) {
  (void)honest_[i].node->Propose(std::move(command));  // refused unless leader: fine
  ProcessReadies(honest_[i], true);
}

void FuzzCluster::Compact(int i) {
  FuzzReplica& r = honest_[i];
  const Slot applied = r.applied.size();
  if (applied <= r.snapshot.slot()) return;
  auto meta = r.node->Compact(applied);
  if (!meta.ok()) {
    Fail(r, "Compact(" + std::to_string(applied) + ") refused: " + meta.status().ToString());
    return;
  }
  r.snapshot = *meta;
  r.snapshot_values = r.applied;
  r.entries.erase(r.entries.begin(), r.entries.upper_bound(meta->slot()));
}

void FuzzCluster::CrashAndRestart(int i) {
  FuzzReplica& r = honest_[i];
  r.node.reset();
  ++r.restarts;
  Start(r);
  ProcessReadies(r, true);
}

void FuzzCluster::StepTarget(Message m) {
  if (std::getenv("PAXOS_FUZZ_TRACE"))
    std::fprintf(stderr, "target <- %s\n", m.ShortDebugString().c_str());
  if (m.type() == MSG_SNAPSHOT) {
    // The server attaches the sender's state; a forged one is whatever it claims. Cap the
    // size: the harness keeps one string per slot.
    const Slot slot = std::min<Slot>(m.snapshot().slot(), 1 << 12);
    target_.incoming[m.snapshot().slot()] = std::vector<std::string>(slot, "forged");
  }
  target_.node->Step(std::move(m));
  ProcessReadies(target_, false);
}

void FuzzCluster::TickTarget() {
  target_.node->Tick();
  ProcessReadies(target_, false);
}

void FuzzCluster::ProcessReadies(FuzzReplica& r, bool honest) {
  for (int rounds = 0; failure_.empty() && r.node->HasReady(); ++rounds) {
    if (rounds > 100) return Fail(r, "HasReady() stays true after 100 rounds");
    ProcessReady(r, honest);
  }
}

void FuzzCluster::CheckOutgoing(const FuzzReplica& r, const Message& m) {
  const Ballot& durable = r.hard_state.promised();
  switch (m.type()) {
    case MSG_PROMISE:
      if (!m.refused() && durable < m.ballot()) {
        Fail(r, "sent a promise for " + Describe(m.ballot()) + " with only " + Describe(durable) +
                    " durable");
      }
      break;
    case MSG_PREPARE:
    case MSG_ACCEPT:
      if (durable < m.ballot()) {
        Fail(r, "used ballot " + Describe(m.ballot()) + " with only " + Describe(durable) +
                    " durable");
      }
      break;
    case MSG_ACCEPTED:
      for (Slot s = m.acked_lo(); s != 0 && s <= m.acked_hi(); ++s) {
        if (s <= r.snapshot.slot() || s <= r.hard_state.commit()) continue;
        auto it = r.entries.find(s);
        if (it == r.entries.end() || it->second.ballot() != m.ballot()) {
          Fail(r, "acknowledged slot " + std::to_string(s) + " in " + Describe(m.ballot()) +
                      " without that entry durable");
          return;
        }
        if (s - m.acked_lo() > 4096) return;  // a forged range: enough checked
      }
      break;
    default:
      break;
  }
}

void FuzzCluster::ProcessReady(FuzzReplica& r, bool honest) {
  Ready rd = r.node->TakeReady();
  // 1. Snapshot.
  if (rd.snapshot) {
    const Slot slot = rd.snapshot->slot();
    auto it = r.incoming.find(slot);
    if (it == r.incoming.end()) return Fail(r, "installs a snapshot it never received");
    r.applied = it->second;
    if (honest) {
      for (Slot s = 1; s <= slot && s <= chosen_.size(); ++s) {
        if (r.applied[s - 1] != chosen_[s - 1]) {
          return Fail(r, "installed a snapshot whose slot " + std::to_string(s) +
                             " differs from the value chosen there");
        }
      }
    }
    r.snapshot = *rd.snapshot;
    r.snapshot_values = it->second;
    r.entries.erase(r.entries.begin(), r.entries.upper_bound(slot));
    r.incoming.clear();
  }
  // 2. Persist.
  for (const EntryPtr& e : rd.entries) {
    if (e->slot() > r.snapshot.slot()) r.entries[e->slot()] = *e;
  }
  if (rd.hard_state && std::getenv("PAXOS_FUZZ_TRACE") && &r == &target_) {
    std::fprintf(stderr, "target hard_state %s snapshot %d\n",
                 rd.hard_state->ShortDebugString().c_str(), rd.snapshot.has_value());
  }
  if (rd.hard_state) {
    if (rd.hard_state->promised() < r.hard_state.promised()) {
      return Fail(r, "the durable promise went down from " + Describe(r.hard_state.promised()) +
                         " to " + Describe(rd.hard_state->promised()));
    }
    r.hard_state = *rd.hard_state;
  }
  // 3. Send, once every message's promise is durable.
  for (Message& m : rd.messages) {
    CheckOutgoing(r, m);
    if (!failure_.empty()) return;
    if (!honest) continue;
    InFlight f;
    f.msg = std::move(m);
    if (f.msg.type() == MSG_SNAPSHOT) {
      if (f.msg.snapshot().slot() != r.snapshot.slot()) {
        return Fail(r, "MSG_SNAPSHOT names a snapshot the server does not hold");
      }
      f.snapshot_values = r.snapshot_values;
    }
    if (network_.size() < 4096) network_.push_back(std::move(f));
  }
  // 4. Apply: in order, each slot once, each durable, one value per slot.
  for (const EntryPtr& e : rd.committed) {
    const Slot slot = e->slot();
    if (slot != r.applied.size() + 1) {
      return Fail(r, "applies slot " + std::to_string(slot) + " after slot " +
                         std::to_string(r.applied.size()));
    }
    std::string value = ValueOf(*e);
    if (slot > r.snapshot.slot()) {
      auto it = r.entries.find(slot);
      if (it == r.entries.end() || ValueOf(it->second) != value) {
        return Fail(r, "applies slot " + std::to_string(slot) + ", which is not durable");
      }
    }
    if (honest) {
      if (slot > chosen_.size()) {
        chosen_.push_back(value);
      } else if (chosen_[slot - 1] != value) {
        return Fail(r, "two values chosen for slot " + std::to_string(slot));
      }
    }
    r.applied.push_back(std::move(value));
  }
  r.node->Advance();
}

}  // namespace penncloud::paxos::fuzz
