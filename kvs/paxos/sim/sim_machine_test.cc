// The simulated replicas' state machine: the server's kvs/machine with the server's
// ownership hooks, FetchRange as the server answers it, and the broken variants the
// multi-group checks must catch. The rules themselves are kvs_machine_test's; this checks
// that the simulator wires them as the server does, on the real ring and maps.
#include "kvs/paxos/sim/sim_machine.h"

#include <gtest/gtest.h>

#include <string>

#include "kvs/shard/cluster_map.h"
#include "kvs/shard/hash_ring.h"

namespace penncloud::paxos::sim {
namespace {

namespace pb = kvs::pb;
namespace shard = kvs::shard;
using kvs::machine::Verdict;

constexpr char kColumn[] = "c";

cluster::Group GroupProto(uint64_t id) {
  cluster::Group g;
  g.set_id(id);
  g.set_state(cluster::GROUP_SERVING);
  cluster::Replica* r = g.add_replicas();
  r->set_id(1);
  r->set_address("g" + std::to_string(id) + ":1");
  return g;
}

class SimMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster::ClusterMap first;
    first.set_version(1);
    first.set_virtual_nodes(4);
    first.set_next_migration_id(1);
    *first.add_groups() = GroupProto(1);
    Add(first);
    auto planned = shard::PlanAddGroup(*versions_.at(1), GroupProto(2));
    ASSERT_TRUE(planned.ok()) << planned.status();
    Add(*planned);
    const shard::ClusterMap& two = *versions_.at(2);
    ASSERT_FALSE(two.proto().migrations().empty());
    move_ = two.proto().migrations(0);
    auto switched = shard::AdvanceMigration(two, move_.id(), cluster::MIGRATION_SWITCHED, 0, 0);
    ASSERT_TRUE(switched.ok()) << switched.status();
    Add(*switched);
    // A row inside the moving range and one that stays with group 1.
    for (int i = 0; i < 10000 && (moving_.empty() || staying_.empty()); ++i) {
      const std::string row = "row" + std::to_string(i);
      const bool in = shard::RingRange{move_.range().start(), move_.range().end()}.Contains(
          shard::RingPosition(row));
      (in ? moving_ : staying_) = row;
    }
    ASSERT_FALSE(moving_.empty());
    ASSERT_FALSE(staying_.empty());
  }

  void Add(cluster::ClusterMap proto) {
    auto map = shard::ClusterMap::FromProto(std::move(proto));
    ASSERT_TRUE(map.ok()) << map.status();
    auto shared = std::make_shared<const shard::ClusterMap>(*std::move(map));
    versions_[shared->version()] = shared;
    maps_[shared->bytes()] = shared;
  }

  pb::MigrationEntry Entry() const {
    pb::MigrationEntry e;
    e.set_id(move_.id());
    e.set_start(move_.range().start());
    e.set_end(move_.range().end());
    e.set_from_group(move_.from_group());
    e.set_to_group(move_.to_group());
    return e;
  }
  pb::Command Step(pb::MigrateKind kind) const {
    pb::Command c;
    c.set_op(pb::OP_MIGRATE);
    c.mutable_migrate()->set_kind(kind);
    *c.mutable_migrate()->mutable_migration() = Entry();
    return c;
  }
  pb::Command Install(const pb::RangeChunk& data) const {
    pb::Command c = Step(pb::MIGRATE_INSTALL_CHUNK);
    *c.mutable_migrate()->mutable_cells() = data.cells();
    *c.mutable_migrate()->mutable_sessions() = data.sessions();
    c.mutable_migrate()->set_reset(true);
    c.mutable_migrate()->set_last(true);
    return c;
  }
  pb::Command SetMap(uint64_t version) const {
    pb::Command c;
    c.set_op(pb::OP_SET_MAP);
    c.set_map(versions_.at(version)->bytes());
    return c;
  }
  static pb::Command Put(uint64_t session, uint64_t seq, const std::string& row,
                         const std::string& value) {
    pb::Command c;
    c.set_op(pb::OP_PUT);
    c.set_session(session);
    c.set_seq(seq);
    c.set_row(row);
    c.set_column(kColumn);
    c.set_value(value);
    return c;
  }
  static Verdict Answer(const kvs::machine::ApplyOutcome& out) {
    return !out.unavailable.empty()   ? Verdict::kUnavailable
           : out.result.wrong_group() ? Verdict::kWrongGroup
                                      : Verdict::kServe;
  }

  std::map<uint64_t, std::shared_ptr<const shard::ClusterMap>> versions_;
  MapsByBytes maps_;
  cluster::Migration move_;
  std::string moving_, staying_;
};

TEST_F(SimMachineTest, TheConfigGroupAndTheSingleGroupServeEveryRow) {
  SimMachine config(0, &maps_);
  config.Apply(SetMap(3));
  EXPECT_EQ(config.Judge(moving_, true), Verdict::kServe);
  SimMachine single;
  EXPECT_EQ(Answer(single.Apply(Put(1, 1, moving_, "v"))), Verdict::kServe);
  EXPECT_EQ(single.Get(moving_, kColumn), "v");
}

TEST_F(SimMachineTest, AMigrationMovesTheRangeAndItsSessions) {
  SimMachine src(move_.from_group(), &maps_);
  SimMachine dst(move_.to_group(), &maps_);
  src.Apply(SetMap(2));
  dst.Apply(SetMap(2));
  EXPECT_EQ(src.map_version(), 2u);
  // PLANNED: the source serves the range, the destination refuses it.
  EXPECT_EQ(src.Judge(moving_, true), Verdict::kServe);
  EXPECT_EQ(dst.Judge(moving_, false), Verdict::kWrongGroup);
  EXPECT_EQ(Answer(src.Apply(Put(7, 1, moving_, "a"))), Verdict::kServe);
  EXPECT_EQ(Answer(src.Apply(Put(8, 1, staying_, "s"))), Verdict::kServe);
  EXPECT_FALSE(src.Dump(Entry())) << "no copy before the freeze";

  src.Apply(Step(pb::MIGRATE_FREEZE));
  EXPECT_EQ(Answer(src.Apply(Put(7, 2, moving_, "b"))), Verdict::kUnavailable);
  EXPECT_EQ(src.Judge(moving_, false), Verdict::kServe) << "reads go on while frozen";
  EXPECT_EQ(Answer(src.Apply(Put(7, 2, moving_, "b"))), Verdict::kUnavailable)
      << "a frozen refusal is not recorded: the same write is judged again";

  const std::optional<pb::RangeChunk> dump = src.Dump(Entry());
  ASSERT_TRUE(dump);
  ASSERT_EQ(dump->cells_size(), 1) << "only the range's cells";
  EXPECT_EQ(dump->cells(0).row(), moving_);
  ASSERT_EQ(dump->sessions_size(), 1) << "only the sessions whose last row is in the range";
  EXPECT_EQ(dump->sessions(0).session(), 7u);

  dst.Apply(Install(*dump));
  dst.Apply(SetMap(3));  // SWITCHED: routing says the destination, which is still arriving
  EXPECT_EQ(dst.Judge(moving_, false), Verdict::kUnavailable);
  src.Apply(SetMap(3));
  EXPECT_EQ(src.Judge(moving_, false), Verdict::kWrongGroup);
  src.Apply(Step(pb::MIGRATE_RELEASE));
  EXPECT_TRUE(src.Dump(Entry())) << "a released range is still final, as at the server";
  dst.Apply(Step(pb::MIGRATE_ACTIVATE));
  EXPECT_EQ(dst.Judge(moving_, true), Verdict::kServe);
  src.Apply(Step(pb::MIGRATE_DROP));
  EXPECT_EQ(src.Get(moving_, kColumn), std::nullopt) << "dropped";
  EXPECT_EQ(src.Get(staying_, kColumn), "s");
  EXPECT_EQ(dst.Get(moving_, kColumn), "a");
  // The session moved: client 7's seq 1 (applied at the source) is a duplicate here.
  EXPECT_TRUE(dst.Apply(Put(7, 1, moving_, "dup")).duplicate);
  EXPECT_EQ(dst.Get(moving_, kColumn), "a");
}

TEST_F(SimMachineTest, WrongGroupIsRecordedAndStable) {
  SimMachine dst(move_.to_group(), &maps_);
  dst.Apply(SetMap(2));
  EXPECT_EQ(Answer(dst.Apply(Put(3, 5, moving_, "x"))), Verdict::kWrongGroup);
  dst.Apply(SetMap(3));
  dst.Apply(Install(pb::RangeChunk()));
  dst.Apply(Step(pb::MIGRATE_ACTIVATE));
  EXPECT_EQ(Answer(dst.Apply(Put(3, 5, moving_, "x"))), Verdict::kWrongGroup)
      << "the same (session, seq) keeps its recorded refusal";
  EXPECT_EQ(dst.Get(moving_, kColumn), std::nullopt);
}

TEST_F(SimMachineTest, CopiesHaveTheSameDigestAndDivergenceShows) {
  SimMachine a(move_.from_group(), &maps_);
  a.Apply(SetMap(2));
  a.Apply(Put(1, 1, staying_, "v"));
  SimMachine b = a;  // a snapshot
  EXPECT_EQ(a.Digest(), b.Digest());
  b.Apply(Put(1, 2, staying_, "w"));
  EXPECT_NE(a.Digest(), b.Digest());
}

TEST_F(SimMachineTest, SplitDumpKeepsEveryRecordInOrder) {
  pb::RangeChunk dump;
  for (int i = 0; i < 5; ++i) dump.add_cells()->set_row("r" + std::to_string(i));
  for (int i = 0; i < 2; ++i) dump.add_sessions()->set_session(uint64_t(10 + i));
  const std::vector<pb::RangeChunk> pieces = SplitDump(dump, 3);
  ASSERT_EQ(pieces.size(), 3u);
  std::vector<std::string> rows;
  std::vector<uint64_t> sessions;
  for (const pb::RangeChunk& p : pieces) {
    EXPECT_LE(p.cells_size() + p.sessions_size(), 3);
    for (const pb::RangeCell& c : p.cells()) rows.push_back(c.row());
    for (const pb::RangeSession& s : p.sessions()) sessions.push_back(s.session());
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
  EXPECT_EQ(sessions, (std::vector<uint64_t>{10, 11}));
  EXPECT_EQ(SplitDump(pb::RangeChunk(), 2).size(), 2u);
}

TEST_F(SimMachineTest, BrokenSourceKeepsServing) {
  SimMachine src(move_.from_group(), &maps_, Bug::kSourceServesAfterSwitch);
  src.Apply(SetMap(3));
  src.Apply(Step(pb::MIGRATE_FREEZE));
  src.Apply(Step(pb::MIGRATE_RELEASE));
  EXPECT_TRUE(src.Serves(moving_));
  SimMachine good(move_.from_group(), &maps_);
  good.Apply(SetMap(2));
  good.Apply(Step(pb::MIGRATE_FREEZE));
  good.Apply(Step(pb::MIGRATE_RELEASE));
  EXPECT_FALSE(good.Serves(moving_)) << "RELEASE stops the source even on the old map";
}

TEST_F(SimMachineTest, BrokenDestinationActivatesWhatItNeverInstalled) {
  SimMachine broken(move_.to_group(), &maps_, Bug::kActivateBeforeInstall);
  SimMachine good(move_.to_group(), &maps_);
  for (SimMachine* m : {&broken, &good}) {
    m->Apply(SetMap(3));
    m->Apply(Step(pb::MIGRATE_ACTIVATE));
  }
  EXPECT_EQ(broken.Judge(moving_, true), Verdict::kServe);
  EXPECT_EQ(good.Judge(moving_, true), Verdict::kUnavailable)
      << "an ACTIVATE before any chunk leaves the range arriving";
}

TEST_F(SimMachineTest, BrokenCopyDumpsBeforeTheFreeze) {
  SimMachine src(move_.from_group(), &maps_, Bug::kCopyBeforeFreeze);
  src.Apply(SetMap(2));
  src.Apply(Put(7, 1, moving_, "a"));
  EXPECT_TRUE(src.Dump(Entry()));
}

}  // namespace
}  // namespace penncloud::paxos::sim
