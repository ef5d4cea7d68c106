// The Multi-Paxos core (kvs/paxos/) under a schedule the fuzzer writes: message delivery
// order, loss and duplication, ticks, proposals, compaction and crash-restarts of a
// three-replica group, interleaved with peer messages forged from raw bytes into a fourth
// core. fuzz/paxos_cluster.h lists the invariants checked after every step.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/check.h"
#include "fuzz/paxos_cluster.h"

namespace {

using namespace penncloud::paxos;

// Mostly small numbers (where the interesting cases are), sometimes anything.
uint64_t Number(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return in.ConsumeIntegralInRange<uint64_t>(0, 3);
    case 1:
      return in.ConsumeIntegralInRange<uint64_t>(0, 40);
    case 2:
      return in.ConsumeIntegral<uint64_t>();
    default:
      return ~uint64_t{0} - in.ConsumeIntegralInRange<uint64_t>(0, 2);
  }
}

void FillBallot(FuzzedDataProvider& in, Ballot* b) {
  b->set_round(Number(in));
  b->set_node(in.ConsumeIntegralInRange<uint64_t>(0, 5));
}

void FillMembership(FuzzedDataProvider& in, Membership* m) {
  for (int n = in.ConsumeIntegralInRange<int>(0, 4); n > 0; --n) {
    m->add_voters(in.ConsumeIntegralInRange<uint64_t>(0, 5));
  }
  if (in.ConsumeBool()) m->add_learners(in.ConsumeIntegralInRange<uint64_t>(0, 5));
  m->set_window(in.ConsumeIntegralInRange<uint32_t>(0, 5));
}

Message ForgedMessage(FuzzedDataProvider& in) {
  Message m;
  m.set_type(static_cast<MessageType>(in.ConsumeIntegralInRange<int>(0, 7)));
  m.set_from(in.ConsumeIntegralInRange<uint64_t>(0, 5));
  m.set_to(in.ConsumeIntegralInRange<int>(0, 7) == 0 ? 2 : 1);
  FillBallot(in, m.mutable_ballot());
  m.set_from_slot(Number(in));
  for (int n = in.ConsumeIntegralInRange<int>(0, 3); n > 0; --n) {
    Entry* e = m.add_entries();
    e->set_slot(Number(in));
    FillBallot(in, e->mutable_ballot());
    e->set_type(static_cast<EntryType>(in.ConsumeIntegralInRange<int>(0, 3)));
    if (e->type() == ENTRY_CONFIG || in.ConsumeIntegralInRange<int>(0, 7) == 0) {
      FillMembership(in, e->mutable_membership());
    }
    for (int c = in.ConsumeIntegralInRange<int>(0, 2); c > 0; --c) {
      e->add_commands(in.ConsumeRandomLengthString(16));
    }
  }
  m.set_commit(Number(in));
  m.set_match(Number(in));
  m.set_acked_lo(Number(in));
  m.set_acked_hi(Number(in));
  m.set_round_id(Number(in));
  m.set_refused(in.ConsumeBool());
  if (m.type() == MSG_SNAPSHOT || in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    SnapshotMeta* s = m.mutable_snapshot();
    s->set_slot(Number(in));
    FillMembership(in, s->mutable_config()->mutable_current());
    if (in.ConsumeBool()) {
      FillMembership(in, s->mutable_config()->mutable_next());
      s->mutable_config()->set_next_from(Number(in));
    }
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  penncloud::paxos::fuzz::FuzzCluster cluster;
  int proposals = 0;
  for (int step = 0; step < 2000 && in.remaining_bytes() > 0; ++step) {
    const int op = in.ConsumeIntegralInRange<int>(0, 15);
    const int node = in.ConsumeIntegralInRange<int>(0, 2);
    switch (op) {
      case 0:
      case 1:
      case 2:
      case 3:
        cluster.Deliver(in.ConsumeIntegral<uint16_t>(), false);
        break;
      case 4:
        cluster.Deliver(in.ConsumeIntegral<uint16_t>(), true);
        break;
      case 5:
        cluster.Drop(in.ConsumeIntegral<uint16_t>());
        break;
      case 6:
      case 7:
      case 8:
        for (int t = in.ConsumeIntegralInRange<int>(1, 8); t > 0; --t) cluster.Tick(node);
        break;
      case 9:
      case 10:
        cluster.Propose(node, "c" + std::to_string(proposals++));
        break;
      case 11:
        cluster.Compact(node);
        break;
      case 12:
        cluster.CrashAndRestart(node);
        break;
      case 13:
      case 14:
        cluster.StepTarget(ForgedMessage(in));
        break;
      default:
        cluster.TickTarget();
        break;
    }
    if (!cluster.failure().empty()) {
      std::fprintf(stderr, "paxos invariant broken at step %d: %s\n", step,
                   cluster.failure().c_str());
      std::abort();
    }
  }
  return 0;
}
