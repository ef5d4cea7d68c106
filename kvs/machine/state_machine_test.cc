// The state machine's rules on the memory store (the RocksDB backend runs the same rules:
// kvs/storage/machine_parity_test.cc).
#include "kvs/machine/state_machine.h"

#include "gtest/gtest.h"
#include "kvs/machine/memory_store.h"
#include "proto/cluster.pb.h"

namespace penncloud::kvs::machine {
namespace {

uint64_t FirstByte(std::string_view row) { return row.empty() ? 0 : uint8_t(row[0]); }

pb::Command Write(pb::Op op, uint64_t session, uint64_t seq, std::string value, int64_t stamp = 0) {
  pb::Command c;
  c.set_op(op);
  c.set_session(session);
  c.set_seq(seq);
  c.set_row("row");
  c.set_column("col");
  c.set_value(std::move(value));
  c.set_stamp_ms(stamp);
  return c;
}

class StateMachineTest : public ::testing::Test {
 protected:
  ApplyOutcome Apply(const pb::Command& c, const ApplyHooks* hooks = nullptr) {
    bool migrated = false;
    auto out = machine_.ApplySlot({c}, store_, hooks, &migrated);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? (*out)[0] : ApplyOutcome();
  }
  std::optional<std::string> Cell() { return store_.GetCell("row", "col").value(); }

  MemoryStore store_{FirstByte};
  StateMachine machine_{FirstByte};
};

TEST_F(StateMachineTest, ConditionalDeleteOnlyWhenTheValueMatches) {
  Apply(Write(pb::OP_PUT, 1, 1, "a"));
  pb::Command wrong = Write(pb::OP_CDELETE, 1, 2, "");
  wrong.set_expected("b");
  EXPECT_FALSE(Apply(wrong).result.cput_succeeded());
  EXPECT_EQ(Cell(), "a");
  pb::Command right = Write(pb::OP_CDELETE, 1, 3, "");
  right.set_expected("a");
  EXPECT_TRUE(Apply(right).result.cput_succeeded());
  EXPECT_EQ(Cell(), std::nullopt);
  // Absent: nothing to delete, whatever is expected.
  pb::Command absent = Write(pb::OP_CDELETE, 1, 4, "");
  absent.set_expected("");
  EXPECT_FALSE(Apply(absent).result.cput_succeeded());
}

TEST_F(StateMachineTest, ARetryGetsTheRecordedResultAndAnOlderSequenceIsStale) {
  pb::Command cput = Write(pb::OP_CPUT, 1, 1, "x");
  cput.set_expect_absent(true);
  EXPECT_TRUE(Apply(cput).result.cput_succeeded());
  Apply(Write(pb::OP_PUT, 2, 1, "y"));
  const ApplyOutcome retry = Apply(cput);
  EXPECT_TRUE(retry.duplicate);
  EXPECT_TRUE(retry.result.cput_succeeded());  // as first applied, though the cell changed
  EXPECT_EQ(Cell(), "y");
  Apply(Write(pb::OP_PUT, 1, 2, "z"));
  const ApplyOutcome old = Apply(Write(pb::OP_PUT, 1, 1, "late"));
  EXPECT_TRUE(old.stale);
  EXPECT_EQ(Cell(), "z");
  EXPECT_EQ(machine_.SessionRecords(), 2u);
}

TEST_F(StateMachineTest, ExpiryDropsIdleSessionsAndRefusesTheirLateRetries) {
  Apply(Write(pb::OP_PUT, 1, 1, "old", /*stamp=*/1000));
  Apply(Write(pb::OP_PUT, 2, 1, "new", /*stamp=*/5000));
  pb::Command sweep;
  sweep.set_op(pb::OP_EXPIRE_SESSIONS);
  sweep.set_seq(99);
  sweep.mutable_expire()->set_horizon_ms(3000);
  sweep.mutable_expire()->set_retry_window_ms(1000);
  Apply(sweep);
  EXPECT_EQ(machine_.SessionRecords(), 1u);
  EXPECT_FALSE(store_.GetSession(1).value().has_value());
  EXPECT_TRUE(store_.GetSession(2).value().has_value());
  // A late retry of session 1's write, stamped before horizon + window: outcome unknown.
  const ApplyOutcome late = Apply(Write(pb::OP_PUT, 1, 1, "again", /*stamp=*/3500));
  EXPECT_TRUE(late.expired);
  EXPECT_EQ(Cell(), "new");
  // Stamped after the window: a session writing again after a long pause.
  EXPECT_FALSE(Apply(Write(pb::OP_PUT, 1, 2, "back", /*stamp=*/6000)).expired);
  EXPECT_EQ(Cell(), "back");
  // An older horizon changes nothing.
  sweep.mutable_expire()->set_horizon_ms(2000);
  Apply(sweep);
  EXPECT_EQ(machine_.SessionClockNow().horizon_ms(), 3000);
}

TEST_F(StateMachineTest, MapsOnlyMoveForwardAndPruneFinishedMigrations) {
  pb::Command freeze;
  freeze.set_op(pb::OP_MIGRATE);
  freeze.set_seq(7);
  freeze.mutable_migrate()->set_kind(pb::MIGRATE_FREEZE);
  freeze.mutable_migrate()->mutable_migration()->set_id(3);
  Apply(freeze);
  ASSERT_EQ(machine_.Migrations().entries_size(), 1);
  auto set_map = [&](uint64_t version, uint64_t next_id) {
    cluster::ClusterMap map;
    map.set_version(version);
    map.set_next_migration_id(next_id);
    pb::Command c;
    c.set_op(pb::OP_SET_MAP);
    c.set_seq(version);
    c.set_map(map.SerializeAsString());
    return c;
  };
  std::vector<std::string> seen;
  ApplyHooks hooks;
  hooks.map_applied = [&](const std::string& bytes) { seen.push_back(bytes); };
  Apply(set_map(2, 3), &hooks);
  EXPECT_EQ(machine_.MapVersion(), 2u);
  EXPECT_EQ(machine_.Migrations().entries_size(), 1);  // id 3 is not below 3
  Apply(set_map(1, 9), &hooks);                        // older: ignored
  EXPECT_EQ(machine_.MapVersion(), 2u);
  Apply(set_map(4, 4), &hooks);
  EXPECT_EQ(machine_.Migrations().entries_size(), 0);  // migration 3 is over
  EXPECT_EQ(seen.size(), 2u);
  // A late step of the pruned migration does not bring it back.
  Apply(freeze);
  EXPECT_EQ(machine_.Migrations().entries_size(), 0);
}

TEST_F(StateMachineTest, RefusedWritesAreRecordedAndWaitingOnesAreNot) {
  ApplyHooks hooks;
  std::string wait;
  hooks.unavailable = [&](const pb::Command&) { return wait; };
  hooks.wrong_group = [](const pb::Command&) { return true; };
  wait = "frozen";
  EXPECT_EQ(Apply(Write(pb::OP_PUT, 1, 1, "a"), &hooks).unavailable, "frozen");
  EXPECT_FALSE(store_.GetSession(1).value().has_value());
  wait.clear();
  const ApplyOutcome refused = Apply(Write(pb::OP_PUT, 1, 1, "a"), &hooks);
  EXPECT_TRUE(refused.result.wrong_group());
  EXPECT_EQ(Cell(), std::nullopt);
  // Its retry gets the same refusal, even where the row would now be served.
  const ApplyOutcome retry = Apply(Write(pb::OP_PUT, 1, 1, "a"));
  EXPECT_TRUE(retry.duplicate);
  EXPECT_TRUE(retry.result.wrong_group());
}

TEST_F(StateMachineTest, InstallChunksOfAnOlderAttemptNeverResetANewerInstall) {
  auto chunk = [](uint64_t attempt, uint64_t index, bool reset, bool last, std::string value) {
    pb::Command c;
    c.set_op(pb::OP_MIGRATE);
    c.set_seq(1000 + attempt * 10 + index);
    pb::MigrateStep* step = c.mutable_migrate();
    step->set_kind(pb::MIGRATE_INSTALL_CHUNK);
    step->mutable_migration()->set_id(1);
    step->mutable_migration()->set_start('q');
    step->mutable_migration()->set_end('s');  // holds "row"
    step->set_attempt(attempt);
    step->set_chunk(index);
    step->set_reset(reset);
    step->set_last(last);
    pb::RangeCell* cell = step->add_cells();
    cell->set_row("row");
    cell->set_column("col");
    cell->set_value(std::move(value));
    return c;
  };
  Apply(chunk(2, 0, true, false, "two"));
  Apply(chunk(2, 1, false, true, "two-end"));
  EXPECT_EQ(machine_.Migrations().entries(0).step(), pb::STEP_INSTALLED);
  Apply(chunk(1, 0, true, false, "one"));  // a late chunk of the older attempt
  EXPECT_EQ(Cell(), "two-end");
  EXPECT_EQ(machine_.Migrations().entries(0).step(), pb::STEP_INSTALLED);
}

TEST_F(StateMachineTest, InstalledSessionsCountAsRecords) {
  Apply(Write(pb::OP_PUT, 1, 1, "a"));
  pb::Command install;
  install.set_op(pb::OP_MIGRATE);
  pb::MigrateStep* step = install.mutable_migrate();
  step->set_kind(pb::MIGRATE_INSTALL_CHUNK);
  step->mutable_migration()->set_id(1);
  step->set_reset(true);
  step->set_last(true);
  for (uint64_t session : {1, 2, 3}) {
    pb::RangeSession* s = step->add_sessions();
    s->set_session(session);
    s->mutable_record()->set_seq(5);
  }
  Apply(install);
  // Session 1 was known (its record is replaced by the higher sequence), 2 and 3 are new:
  // the gauge and an expiry sweep's count of dropped records start from this.
  EXPECT_EQ(machine_.SessionRecords(), 3u);
  EXPECT_EQ(store_.sessions().size(), 3u);
}

}  // namespace
}  // namespace penncloud::kvs::machine
