// The state machine on RocksDB (the replica) and on memory (the simulator) is one machine:
// the same random slots, with retries, conditionals, expiry sweeps, maps, migrations and
// ownership refusals, give the same outcomes and the same state on both backends.
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/machine/memory_store.h"
#include "kvs/machine/ownership.h"
#include "kvs/storage/cell_key.h"
#include "kvs/storage/store_test_fixture.h"
#include "proto/cluster.pb.h"

namespace penncloud::kvs::storage {
namespace {

// Random commands of a few sessions on a few rows (positions 'a'..'f'), with every op the
// server proposes.
class CommandSource {
 public:
  explicit CommandSource(uint64_t seed) : rng_(seed) {}

  pb::Command Next() {
    pb::Command c;
    stamp_ += Pick(50);
    const int kind = Pick(100);
    if (kind < 4) {  // an expiry sweep: horizon some way back
      c.set_op(pb::OP_EXPIRE_SESSIONS);
      c.set_seq(++nonce_);
      c.mutable_expire()->set_horizon_ms(stamp_ - static_cast<int64_t>(Pick(400)));
      c.mutable_expire()->set_retry_window_ms(Pick(200));
      return c;
    }
    if (kind < 7) {  // a map (sometimes older than the last)
      cluster::ClusterMap map;
      map.set_version(Pick(6));
      map.set_next_migration_id(Pick(4));
      c.set_op(pb::OP_SET_MAP);
      c.set_seq(++nonce_);
      c.set_map(map.SerializeAsString());
      return c;
    }
    if (kind < 17) {  // a migration step of one of three migrations
      c.set_op(pb::OP_MIGRATE);
      c.set_seq(++nonce_);
      pb::MigrateStep* step = c.mutable_migrate();
      const uint64_t id = 1 + Pick(3);
      step->mutable_migration()->set_id(id);
      step->mutable_migration()->set_start('a' + id - 1);
      step->mutable_migration()->set_end('a' + id + 1);
      step->mutable_migration()->set_from_group(1);
      step->mutable_migration()->set_to_group(2);
      step->set_kind(static_cast<pb::MigrateKind>(1 + Pick(7)));
      step->set_attempt(Pick(3));
      step->set_chunk(Pick(2));
      step->set_reset(Pick(2) == 0);
      step->set_last(Pick(2) == 0);
      pb::RangeCell* cell = step->add_cells();
      cell->set_row(Row());
      cell->set_column("moved");
      cell->set_value(absl::StrCat("m", nonce_));
      pb::RangeSession* session = step->add_sessions();
      session->set_session(1 + Pick(4));
      session->mutable_record()->set_seq(Pick(20));
      return c;
    }
    // A client write, sometimes a retry of an earlier sequence (or an unknown session).
    const uint64_t session = 1 + Pick(5);
    uint64_t& seq = seqs_[session];
    if (Pick(5) != 0 || seq == 0) ++seq;
    c.set_session(session);
    c.set_seq(Pick(8) == 0 && seq > 1 ? seq - 1 : seq);
    c.set_stamp_ms(stamp_ - static_cast<int64_t>(Pick(300)));
    c.set_row(Row());
    c.set_column(absl::StrCat("c", Pick(3)));
    static constexpr pb::Op kOps[] = {pb::OP_PUT, pb::OP_DELETE, pb::OP_CPUT, pb::OP_CDELETE};
    c.set_op(kOps[Pick(4)]);
    c.set_value(absl::StrCat("v", Pick(4)));
    if (c.op() == pb::OP_CPUT && Pick(3) == 0) {
      c.set_expect_absent(true);
    } else {
      c.set_expected(absl::StrCat("v", Pick(4)));
    }
    return c;
  }

  uint64_t Pick(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

 private:
  std::string Row() { return std::string(1, static_cast<char>('a' + Pick(6))) + "row"; }

  std::mt19937_64 rng_;
  int64_t stamp_ = 1000;
  uint64_t nonce_ = 1u << 30;
  std::map<uint64_t, uint64_t> seqs_;
};

std::string Describe(const ApplyOutcome& o) {
  return absl::StrCat(o.result.SerializeAsString(), "|", o.duplicate, o.stale, o.expired, "|",
                      o.unavailable);
}

// The machine's state from a RocksDB dump, keyed as the memory store keeps it.
struct State {
  std::map<std::string, std::string> cells;     // CellKey -> value
  std::map<std::string, std::string> sessions;  // SlotKey(session) -> serialized record
  std::map<std::string, std::string> meta;      // the machine's meta keys
  bool operator==(const State&) const = default;
};

State FromDump(const std::vector<pb::SnapshotChunk>& chunks) {
  State state;
  for (const pb::SnapshotChunk& chunk : chunks) {
    for (int i = 0; i < chunk.keys_size(); ++i) {
      auto& family = chunk.families(i) == 0   ? state.cells
                     : chunk.families(i) == 1 ? state.sessions
                                              : state.meta;
      family[chunk.keys(i)] = chunk.values(i);
    }
  }
  return state;
}

State FromMemory(const machine::MemoryStore& memory) {
  State state;
  for (const auto& [cell, value] : memory.cells()) {
    state.cells[CellKey(FirstBytePosition(cell.first), cell.first, cell.second)] = value;
  }
  for (const auto& [session, record] : memory.sessions()) {
    state.sessions[SlotKey(session)] = record.SerializeAsString();
  }
  for (const auto& [key, value] : memory.meta()) state.meta[key] = value;
  return state;
}

class MachineParityTest : public StoreTest {};

TEST_F(MachineParityTest, RocksDbAndMemoryApplyEverySlotAlike) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    auto rocks = Open(absl::StrCat("db", seed));
    ASSERT_NE(rocks, nullptr);
    machine::MemoryStore memory(FirstBytePosition);
    machine::StateMachine machine(FirstBytePosition);
    // The group serves rows 'a'..'c', less what a migration released; a frozen range waits.
    auto judge = [&](const pb::Command& c, const pb::MigrationTable& table) {
      const uint64_t p = FirstBytePosition(c.row());
      bool mapped_here = p <= 'c';
      for (const pb::MigrationEntry& e : table.entries()) {
        if (machine::InRange(e, p) && e.step() == pb::STEP_FROZEN) return std::string("frozen");
        if (machine::InRange(e, p) && e.step() == pb::STEP_RELEASED) mapped_here = false;
      }
      return mapped_here ? std::string() : std::string("wrong");
    };
    machine::ApplyHooks rocks_hooks;
    rocks_hooks.unavailable = [&](const pb::Command& c) {
      std::string v = judge(c, rocks->Migrations());
      return v == "frozen" ? v : std::string();
    };
    rocks_hooks.wrong_group = [&](const pb::Command& c) {
      return judge(c, rocks->Migrations()) == "wrong";
    };
    machine::ApplyHooks memory_hooks;
    memory_hooks.unavailable = [&](const pb::Command& c) {
      std::string v = judge(c, machine.Migrations());
      return v == "frozen" ? v : std::string();
    };
    memory_hooks.wrong_group = [&](const pb::Command& c) {
      return judge(c, machine.Migrations()) == "wrong";
    };
    CommandSource source(seed);
    uint64_t expired = 0, cdeletes = 0, wrong = 0;
    for (uint64_t slot = 1; slot <= 300; ++slot) {
      std::vector<pb::Command> commands(1 + source.Pick(4));
      for (pb::Command& c : commands) c = source.Next();
      auto on_rocks = rocks->ApplySlot(slot, commands, &rocks_hooks);
      ASSERT_TRUE(on_rocks.ok()) << on_rocks.status();
      bool migrated = false;
      auto on_memory = machine.ApplySlot(commands, memory, &memory_hooks, &migrated);
      ASSERT_TRUE(on_memory.ok()) << on_memory.status();
      ASSERT_EQ(on_rocks->size(), on_memory->size());
      for (size_t i = 0; i < commands.size(); ++i) {
        ASSERT_EQ(Describe((*on_rocks)[i]), Describe((*on_memory)[i]))
            << "slot " << slot << " command " << i << ": " << commands[i].ShortDebugString();
        expired += (*on_memory)[i].expired;
        cdeletes += commands[i].op() == pb::OP_CDELETE && (*on_memory)[i].result.cput_succeeded();
        wrong += (*on_memory)[i].result.wrong_group();
      }
      ASSERT_EQ(rocks->SessionRecords(), machine.SessionRecords()) << "slot " << slot;
    }
    const State rocks_state = FromDump(DumpAll(*rocks));
    const State memory_state = FromMemory(memory);
    EXPECT_EQ(rocks_state.cells, memory_state.cells);
    EXPECT_EQ(rocks_state.sessions, memory_state.sessions);
    EXPECT_EQ(rocks_state.meta, memory_state.meta);
    EXPECT_FALSE(memory_state.cells.empty());
    // The run exercised the rules it compares.
    EXPECT_GT(expired + cdeletes + wrong, 0u);
  }
}

}  // namespace
}  // namespace penncloud::kvs::storage
