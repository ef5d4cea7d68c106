#include "kvs/storage/replica_store.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kvs/storage/store_test_fixture.h"
#include "proto/cluster.pb.h"

namespace penncloud::kvs::storage {
namespace {

pb::Command Put(uint64_t session, uint64_t seq, std::string row, std::string column,
                std::string value) {
  pb::Command c;
  c.set_op(pb::OP_PUT);
  c.set_session(session);
  c.set_seq(seq);
  c.set_row(std::move(row));
  c.set_column(std::move(column));
  c.set_value(std::move(value));
  return c;
}

// A serialized map; the store reads only its version.
pb::Command SetMap(uint64_t version) {
  cluster::ClusterMap map;
  map.set_version(version);
  pb::Command c;
  c.set_op(pb::OP_SET_MAP);
  c.set_seq(version * 1000 + 1);  // an RPC nonce, never a session sequence
  c.set_map(map.SerializeAsString());
  return c;
}

class ReplicaStoreTest : public StoreTest {};

TEST_F(ReplicaStoreTest, LogAndHardStateSurviveReopen) {
  {
    auto store = Open();
    LogWrite w;
    w.hard_state = "hs1";
    for (uint64_t i = 1; i <= 5; ++i) w.entries.emplace_back(i, absl::StrCat("e", i));
    ASSERT_TRUE(store->Persist(w).ok());
    LogWrite t;
    t.truncate_from = 4;
    t.entries.emplace_back(4, "x4");
    ASSERT_TRUE(store->Persist(t).ok());
  }
  auto store = Open();
  EXPECT_EQ(store->HardState(), "hs1");
  EXPECT_EQ(store->LogBounds().first, 1u);
  EXPECT_EQ(store->LogBounds().second, 4u);
  std::vector<std::pair<uint64_t, std::string>> entries;
  ASSERT_TRUE(store->ReadLog(2, 4, &entries).ok());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].second, "x4");
  // Only what the durable state machine covers may go.
  EXPECT_EQ(store->CompactLog(2).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->SkipSlot(1).ok());
  ASSERT_TRUE(store->SkipSlot(2).ok());
  ASSERT_TRUE(WaitStateFlushed(*store));
  ASSERT_TRUE(store->CompactLog(2).ok());
  EXPECT_EQ(store->LogBounds().first, 3u);
  entries.clear();
  EXPECT_FALSE(store->ReadLog(1, 3, &entries).ok());
}

TEST_F(ReplicaStoreTest, ApplyIsAtMostOncePerSessionSequence) {
  auto store = Open();
  ASSERT_TRUE(store->Apply(1, Put(7, 1, "r", "c", "a")).ok());
  auto again = store->Apply(2, Put(7, 1, "r", "c", "b"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(*store->Get("r", "c").value(), "a");
  pb::Command cput = Put(7, 2, "r", "c", "z");
  cput.set_op(pb::OP_CPUT);
  cput.set_expected("a");
  auto out = store->Apply(3, cput);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->result.cput_succeeded());
  // The retried CPUT sees the original result, although the cell no longer holds "a".
  auto retry = store->Apply(4, cput);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_TRUE(retry->result.cput_succeeded());
  EXPECT_EQ(*store->Get("r", "c").value(), "z");
  EXPECT_EQ(store->AppliedSlot(), 4u);
}

TEST_F(ReplicaStoreTest, CompareAndDeleteActsOnlyOnTheExpectedValue) {
  auto store = Open();
  ASSERT_TRUE(store->Apply(1, Put(7, 1, "r", "c", "a")).ok());
  auto cdelete = [](uint64_t seq, std::string expected) {
    pb::Command c = Put(7, seq, "r", "c", "");
    c.set_op(pb::OP_CDELETE);
    c.set_expected(std::move(expected));
    return c;
  };
  auto miss = store->Apply(2, cdelete(2, "b"));
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->result.cput_succeeded());
  EXPECT_EQ(*store->Get("r", "c").value(), "a");
  auto hit = store->Apply(3, cdelete(3, "a"));
  ASSERT_TRUE(hit.ok());
  EXPECT_TRUE(hit->result.cput_succeeded());
  EXPECT_FALSE(store->Get("r", "c").value().has_value());
  // A retry reports what the first attempt did, although the cell is gone now.
  auto retry = store->Apply(4, cdelete(3, "a"));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_TRUE(retry->result.cput_succeeded());
  // A missing cell never matches, and a put then delete in one slot are seen in order.
  auto gone = store->Apply(5, cdelete(4, "a"));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->result.cput_succeeded());
  pb::Command put = Put(8, 1, "r", "c", "x");
  auto slot = store->ApplySlot(6, {put, cdelete(5, "x")});
  ASSERT_TRUE(slot.ok());
  EXPECT_TRUE((*slot)[1].result.cput_succeeded());
  EXPECT_FALSE(store->Get("r", "c").value().has_value());
}

TEST_F(ReplicaStoreTest, ListPagesInColumnOrderWithinOneRow) {
  auto store = Open();
  uint64_t slot = 0;
  for (std::string c : {"b", "a", "d", "c"}) {
    ASSERT_TRUE(store->Apply(++slot, Put(0, 0, "row", c, absl::StrCat("v", c))).ok());
  }
  ASSERT_TRUE(store->Apply(++slot, Put(0, 0, "rowx", "a", "other")).ok());
  std::vector<ListedCell> cells;
  bool more = false;
  ASSERT_TRUE(store->List("row", "", 2, true, &cells, &more).ok());
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].column, "a");
  EXPECT_EQ(cells[1].value, "vb");
  EXPECT_TRUE(more);
  cells.clear();
  ASSERT_TRUE(store->List("row", "b", 10, false, &cells, &more).ok());
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].column, "c");
  EXPECT_EQ(cells[1].column, "d");
  EXPECT_FALSE(more);
}

TEST_F(ReplicaStoreTest, SnapshotRoundTripReplacesState) {
  auto source = Open();
  ASSERT_TRUE(source->Apply(1, Put(5, 1, "r", "c", "v")).ok());
  std::vector<pb::SnapshotChunk> chunks = DumpAll(*source, 1);
  ASSERT_FALSE(chunks.empty());
  EXPECT_TRUE(chunks.back().last());
  source.reset();
  auto target = Open("other");
  ASSERT_TRUE(target->Apply(1, Put(0, 0, "gone", "c", "x")).ok());
  ASSERT_TRUE(target->InstallSnapshot(chunks, "snapshot_meta", "m").ok());
  EXPECT_EQ(*target->Get("r", "c").value(), "v");
  EXPECT_FALSE(target->Get("gone", "c").value().has_value());
  // The session table came along: a retry of session 5's request is a duplicate.
  auto retry = target->Apply(2, Put(5, 1, "r", "c", "w"));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
}

TEST_F(ReplicaStoreTest, MapsOnlyMoveForwardAndSurviveReopenAndSnapshots) {
  {
    auto store = Open();
    EXPECT_EQ(store->MapVersion(), 0u);
    std::vector<std::string> seen;
    ApplyHooks hooks;
    hooks.map_applied = [&](const std::string& bytes) { seen.push_back(bytes); };
    ASSERT_TRUE(store->ApplySlot(1, {SetMap(2)}, &hooks).ok());
    ASSERT_TRUE(store->ApplySlot(2, {SetMap(1), SetMap(2)}, &hooks).ok());
    EXPECT_EQ(store->MapVersion(), 2u);
    EXPECT_EQ(seen.size(), 1u);  // the older and the repeated map changed nothing
  }
  auto store = Open();
  EXPECT_EQ(store->MapVersion(), 2u);
  std::vector<pb::SnapshotChunk> chunks = DumpAll(*store);
  store.reset();
  auto target = Open("other");
  ASSERT_TRUE(target->ApplySlot(1, {SetMap(5)}).ok());
  ASSERT_TRUE(target->InstallSnapshot(chunks, "snapshot_meta", "m").ok());
  EXPECT_EQ(target->MapVersion(), 2u);  // the snapshot's map, not the one it replaced
}

TEST_F(ReplicaStoreTest, WrongGroupIsRecordedAfterTheDuplicateCheck) {
  auto store = Open();
  bool refuse = false;
  int asked = 0;
  ApplyHooks hooks;
  hooks.wrong_group = [&](const pb::Command&) {
    ++asked;
    return refuse;
  };
  ASSERT_TRUE(store->ApplySlot(1, {SetMap(3)}, &hooks).ok());
  ASSERT_TRUE(store->ApplySlot(2, {Put(9, 1, "r", "c", "a")}, &hooks).ok());
  // The row moves away. A retry of the applied write still gets its recorded result...
  refuse = true;
  auto retry = store->ApplySlot(3, {Put(9, 1, "r", "c", "a")}, &hooks);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE((*retry)[0].duplicate);
  EXPECT_FALSE((*retry)[0].result.wrong_group());
  EXPECT_EQ(asked, 1);  // ...without asking about ownership.
  // A new write is refused, not applied, and the refusal is what every copy gets.
  auto refused = store->ApplySlot(4, {Put(9, 2, "r", "c", "b")}, &hooks);
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE((*refused)[0].result.wrong_group());
  EXPECT_EQ((*refused)[0].result.map_version(), 3u);
  EXPECT_EQ(*store->Get("r", "c").value(), "a");
  refuse = false;  // even if the row came back meanwhile
  auto again = store->ApplySlot(5, {Put(9, 2, "r", "c", "b")}, &hooks);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].duplicate);
  EXPECT_TRUE((*again)[0].result.wrong_group());
  EXPECT_EQ(*store->Get("r", "c").value(), "a");
}

pb::Command Migrate(pb::MigrateKind kind, uint64_t start, uint64_t end) {
  pb::Command c;
  c.set_op(pb::OP_MIGRATE);
  c.set_seq(77);
  pb::MigrateStep* step = c.mutable_migrate();
  step->set_kind(kind);
  step->mutable_migration()->set_id(5);
  step->mutable_migration()->set_start(start);
  step->mutable_migration()->set_end(end);
  step->mutable_migration()->set_from_group(1);
  step->mutable_migration()->set_to_group(2);
  return c;
}

// The replica answers a write from `decided`: before the slot's write for cells, after it
// for a migration step, which FetchRange reads from other threads.
TEST_F(ReplicaStoreTest, OutcomesAreDecidedBeforeTheWriteUnlessAMigrationStepMoved) {
  auto store = Open();
  int calls = 0;
  auto before = [&](const std::vector<ApplyOutcome>& outcomes) {
    ++calls;
    ASSERT_EQ(outcomes.size(), 2u);
    EXPECT_FALSE(outcomes[1].duplicate);
    EXPECT_FALSE(store->Get("r", "c").value().has_value()) << "the slot was written already";
    EXPECT_EQ(store->AppliedSlot(), 0u);
  };
  ASSERT_TRUE(
      store->ApplySlot(1, {Put(1, 1, "r", "c", "a"), Put(1, 2, "r", "d", "b")}, nullptr, before)
          .ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(*store->Get("r", "c").value(), "a");
  EXPECT_EQ(store->AppliedSlot(), 1u);
  auto after = [&](const std::vector<ApplyOutcome>&) {
    ++calls;
    EXPECT_EQ(store->StepOf(5), pb::STEP_FROZEN);
    EXPECT_EQ(store->AppliedSlot(), 2u);
  };
  ApplyHooks hooks;
  ASSERT_TRUE(store->ApplySlot(2, {Migrate(pb::MIGRATE_FREEZE, 'a', 'c')}, &hooks, after).ok());
  EXPECT_EQ(calls, 2);
}

TEST_F(ReplicaStoreTest, MigrationStepsMoveARangeWithItsSessions) {
  ApplyHooks hooks;
  std::string frozen_reason;
  hooks.unavailable = [&](const pb::Command&) { return frozen_reason; };
  auto source = Open();
  uint64_t slot = 0;
  // Rows "b..." and "c..." are in the range ('a', 'c'], "d..." is not.
  ASSERT_TRUE(source->ApplySlot(++slot, {Put(1, 1, "b1", "x", "1")}, &hooks).ok());
  ASSERT_TRUE(source->ApplySlot(++slot, {Put(2, 4, "c1", "x", "2")}, &hooks).ok());
  ASSERT_TRUE(source->ApplySlot(++slot, {Put(3, 1, "d1", "x", "3")}, &hooks).ok());
  ASSERT_TRUE(source->ApplySlot(++slot, {Migrate(pb::MIGRATE_FREEZE, 'a', 'c')}, &hooks).ok());
  EXPECT_EQ(source->StepOf(5), pb::STEP_FROZEN);
  // A frozen write is neither applied nor recorded: its retry later is a new request.
  frozen_reason = "range frozen for migration 5";
  auto refused = source->ApplySlot(++slot, {Put(1, 2, "b1", "x", "late")}, &hooks);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ((*refused)[0].unavailable, frozen_reason);
  EXPECT_FALSE((*refused)[0].duplicate);
  frozen_reason.clear();
  std::vector<pb::RangeChunk> chunks;
  ASSERT_TRUE(source
                  ->DumpRange(Migrate(pb::MIGRATE_FREEZE, 'a', 'c').migrate().migration(), 1 << 20,
                              [&](const pb::RangeChunk& c) {
                                chunks.push_back(c);
                                return true;
                              })
                  .ok());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(chunks[0].last());
  ASSERT_EQ(chunks[0].cells_size(), 2);  // b1 and c1, not d1
  EXPECT_EQ(chunks[0].cells(0).row(), "b1");
  // Sessions 1 and 2 last wrote in the range; session 3's record stays with "d1".
  ASSERT_EQ(chunks[0].sessions_size(), 2);
  for (const pb::RangeSession& s : chunks[0].sessions()) EXPECT_NE(s.session(), 3u);

  auto dest = Open("destination");
  // Leftovers of an earlier attempt, and a session that is further along here.
  ASSERT_TRUE(dest->ApplySlot(1, {Put(2, 9, "b9", "x", "stale")}, &hooks).ok());
  pb::Command install = Migrate(pb::MIGRATE_INSTALL_CHUNK, 'a', 'c');
  install.mutable_migrate()->set_reset(true);
  install.mutable_migrate()->set_last(true);
  *install.mutable_migrate()->mutable_cells() = chunks[0].cells();
  *install.mutable_migrate()->mutable_sessions() = chunks[0].sessions();
  ASSERT_TRUE(dest->ApplySlot(2, {install}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLED);
  EXPECT_FALSE(dest->Get("b9", "x").value().has_value());  // reset cleared the range
  EXPECT_EQ(*dest->Get("c1", "x").value(), "2");
  // Session 1 came along (a retry of its write is a duplicate); session 2 kept seq 9.
  auto retry = dest->ApplySlot(3, {Put(1, 1, "b1", "x", "again")}, &hooks);
  EXPECT_TRUE((*retry)[0].duplicate);
  auto old = dest->ApplySlot(4, {Put(2, 4, "c1", "x", "again")}, &hooks);
  EXPECT_TRUE((*old)[0].stale);
  ASSERT_TRUE(dest->ApplySlot(5, {Migrate(pb::MIGRATE_ACTIVATE, 'a', 'c')}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_ACTIVE);
  // A late repeat of the install never overwrites a range being served.
  install.mutable_migrate()->clear_cells();
  ASSERT_TRUE(dest->ApplySlot(6, {install}, &hooks).ok());
  EXPECT_EQ(*dest->Get("c1", "x").value(), "2");
  EXPECT_EQ(dest->StepOf(5), pb::STEP_ACTIVE);
}

TEST_F(ReplicaStoreTest, DropDeletesExactlyTheRangeAndSnapshotsCarryTheTable) {
  ApplyHooks hooks;
  {
    auto store = Open();
    ASSERT_TRUE(
        store->ApplySlot(1, {Put(1, 1, "b1", "x", "1"), Put(1, 2, "d1", "x", "3")}, &hooks).ok());
    ASSERT_TRUE(store->ApplySlot(2, {Migrate(pb::MIGRATE_FREEZE, 'a', 'c')}, &hooks).ok());
    ASSERT_TRUE(store->ApplySlot(3, {Migrate(pb::MIGRATE_RELEASE, 'a', 'c')}, &hooks).ok());
    ASSERT_TRUE(store->ApplySlot(4, {Migrate(pb::MIGRATE_DROP, 'a', 'c')}, &hooks).ok());
    EXPECT_FALSE(store->Get("b1", "x").value().has_value());
    EXPECT_EQ(*store->Get("d1", "x").value(), "3");
    // Steps never go back: a late FREEZE changes nothing.
    ASSERT_TRUE(store->ApplySlot(5, {Migrate(pb::MIGRATE_FREEZE, 'a', 'c')}, &hooks).ok());
    EXPECT_EQ(store->StepOf(5), pb::STEP_DROPPED);
  }
  auto store = Open();  // the table survives a restart
  EXPECT_EQ(store->StepOf(5), pb::STEP_DROPPED);
  ASSERT_EQ(store->Migrations().entries_size(), 1);
  std::vector<pb::SnapshotChunk> chunks = DumpAll(*store);
  store.reset();
  auto target = Open("other");
  ASSERT_TRUE(target->InstallSnapshot(chunks, "snapshot_meta", "m").ok());
  EXPECT_EQ(target->StepOf(5), pb::STEP_DROPPED);
}

// A map whose migrations are `ids` (all PLANNED) and whose next id is `next`.
pb::Command MapWith(uint64_t version, uint64_t next, std::vector<uint64_t> ids) {
  cluster::ClusterMap map;
  map.set_version(version);
  map.set_next_migration_id(next);
  for (uint64_t id : ids) map.add_migrations()->set_id(id);
  pb::Command c;
  c.set_op(pb::OP_SET_MAP);
  c.set_seq(version * 1000 + 1);
  c.set_map(map.SerializeAsString());
  return c;
}

TEST_F(ReplicaStoreTest, AbortUndoesAFreezeAndDiscardsWhatArrived) {
  ApplyHooks hooks;
  auto source = Open();
  ASSERT_TRUE(source->ApplySlot(1, {Put(1, 1, "b1", "x", "1")}, &hooks).ok());
  ASSERT_TRUE(source->ApplySlot(2, {Migrate(pb::MIGRATE_FREEZE, 'a', 'c')}, &hooks).ok());
  ASSERT_TRUE(source->ApplySlot(3, {Migrate(pb::MIGRATE_UNFREEZE, 'a', 'c')}, &hooks).ok());
  EXPECT_EQ(source->StepOf(5), pb::STEP_ABORTED);
  // A late FREEZE from a stale rebalancer cannot freeze the range again.
  ASSERT_TRUE(source->ApplySlot(4, {Migrate(pb::MIGRATE_FREEZE, 'a', 'c')}, &hooks).ok());
  EXPECT_EQ(source->StepOf(5), pb::STEP_ABORTED);
  EXPECT_EQ(*source->Get("b1", "x").value(), "1");

  auto dest = Open("destination");
  ASSERT_TRUE(dest->ApplySlot(1, {Put(2, 1, "d1", "x", "mine")}, &hooks).ok());
  pb::Command install = Migrate(pb::MIGRATE_INSTALL_CHUNK, 'a', 'c');
  install.mutable_migrate()->set_reset(true);
  pb::RangeCell* cell = install.mutable_migrate()->add_cells();
  cell->set_row("b1");
  cell->set_column("x");
  cell->set_value("1");
  ASSERT_TRUE(dest->ApplySlot(2, {install}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLING);
  ASSERT_TRUE(dest->ApplySlot(3, {Migrate(pb::MIGRATE_DISCARD, 'a', 'c')}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_ABORTED);
  EXPECT_FALSE(dest->Get("b1", "x").value().has_value());  // what arrived is gone
  EXPECT_EQ(*dest->Get("d1", "x").value(), "mine");        // the rest is untouched
  // A late chunk of the aborted migration installs nothing.
  ASSERT_TRUE(dest->ApplySlot(4, {install}, &hooks).ok());
  EXPECT_FALSE(dest->Get("b1", "x").value().has_value());
}

// Chunk `index` of install attempt `attempt`, holding row `row` = `value`.
pb::Command Chunk(uint64_t attempt, uint64_t index, bool last, const std::string& row,
                  const std::string& value) {
  pb::Command c = Migrate(pb::MIGRATE_INSTALL_CHUNK, 'a', 'c');
  c.mutable_migrate()->set_attempt(attempt);
  c.mutable_migrate()->set_chunk(index);
  c.mutable_migrate()->set_reset(index == 0);
  c.mutable_migrate()->set_last(last);
  pb::RangeCell* cell = c.mutable_migrate()->add_cells();
  cell->set_row(row);
  cell->set_column("x");
  cell->set_value(value);
  return c;
}

TEST_F(ReplicaStoreTest, LateOrRepeatedChunksNeverUndoAnInstall) {
  ApplyHooks hooks;
  auto dest = Open();
  uint64_t slot = 0;
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(10, 0, false, "b1", "one")}, &hooks).ok());
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(10, 1, true, "b2", "two")}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLED);
  // The first chunk chosen a second time (a retried RPC), and the first chunk of an older
  // attempt chosen late: neither resets the installed range.
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(10, 0, false, "b1", "one")}, &hooks).ok());
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(9, 0, false, "b9", "old")}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLED);
  EXPECT_EQ(*dest->Get("b2", "x").value(), "two");
  EXPECT_FALSE(dest->Get("b9", "x").value().has_value());
  // A newer attempt starts over, and takes its chunks only in order.
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(11, 0, false, "b1", "new")}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLING);
  EXPECT_FALSE(dest->Get("b2", "x").value().has_value());
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(11, 2, true, "b3", "skipped")}, &hooks).ok());
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(10, 1, true, "b2", "stale")}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLING);
  ASSERT_TRUE(dest->ApplySlot(++slot, {Chunk(11, 1, true, "b2", "new two")}, &hooks).ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLED);
  EXPECT_EQ(*dest->Get("b1", "x").value(), "new");
  EXPECT_EQ(*dest->Get("b2", "x").value(), "new two");
  EXPECT_FALSE(dest->Get("b3", "x").value().has_value());
}

TEST_F(ReplicaStoreTest, AResetChunkClearsWhatAnEarlierCommandOfItsSlotInstalled) {
  ApplyHooks hooks;
  auto dest = Open();
  // One slot: attempt 10 starts (chunk 0, "b9"), then attempt 11 starts over. The reset
  // must clear the cell the first command wrote into the batch, not only what is on disk.
  ASSERT_TRUE(dest->ApplySlot(1,
                              {Chunk(10, 0, false, "b9", "old"), Chunk(11, 0, true, "b1", "new")},
                              &hooks)
                  .ok());
  EXPECT_EQ(dest->StepOf(5), pb::STEP_INSTALLED);
  EXPECT_EQ(*dest->Get("b1", "x").value(), "new");
  EXPECT_FALSE(dest->Get("b9", "x").value().has_value());
}

TEST_F(ReplicaStoreTest, FinishedMigrationsArePrunedAndTheirLateStepsIgnored) {
  ApplyHooks hooks;
  auto store = Open();
  ASSERT_TRUE(store->ApplySlot(1, {MapWith(2, 6, {5})}, &hooks).ok());
  ASSERT_TRUE(store->ApplySlot(2, {Put(1, 1, "b1", "x", "moved in")}, &hooks).ok());
  ASSERT_TRUE(store->ApplySlot(3, {Migrate(pb::MIGRATE_FREEZE, 'a', 'c')}, &hooks).ok());
  EXPECT_EQ(store->Migrations().entries_size(), 1);
  // Migration 5 is still in the map (even DONE ones stay until the map is tidied).
  ASSERT_TRUE(store->ApplySlot(4, {MapWith(3, 6, {5})}, &hooks).ok());
  EXPECT_EQ(store->Migrations().entries_size(), 1);
  // The tidied map no longer holds it: the entry goes, on disk too.
  ASSERT_TRUE(store->ApplySlot(5, {MapWith(4, 6, {})}, &hooks).ok());
  EXPECT_EQ(store->Migrations().entries_size(), 0);
  EXPECT_EQ(store->StepOf(5), pb::STEP_NONE);
  // A stale reset chunk for it (a rebalancer that lost its lease) must not wipe the range.
  pb::Command install = Migrate(pb::MIGRATE_INSTALL_CHUNK, 'a', 'c');
  install.mutable_migrate()->set_reset(true);
  ASSERT_TRUE(store->ApplySlot(6, {install}, &hooks).ok());
  EXPECT_EQ(*store->Get("b1", "x").value(), "moved in");
  EXPECT_EQ(store->Migrations().entries_size(), 0);
  store.reset();
  store = Open();  // the pruned table and the rule survive a restart
  EXPECT_EQ(store->Migrations().entries_size(), 0);
  ASSERT_TRUE(store->ApplySlot(7, {install}, &hooks).ok());
  EXPECT_EQ(*store->Get("b1", "x").value(), "moved in");
}

}  // namespace
}  // namespace penncloud::kvs::storage
