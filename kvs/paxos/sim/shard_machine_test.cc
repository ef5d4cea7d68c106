// The simulated groups' ownership rules (docs/sharding.md section 5) and migration steps
// (section 6), one by one, on the real ring: the simulator's verdicts are only as good as
// these.
#include "kvs/paxos/sim/shard_machine.h"

#include <gtest/gtest.h>

#include <string>

#include "kvs/shard/cluster_map.h"

namespace penncloud::paxos::sim {
namespace {

namespace shard = kvs::shard;

cluster::Group GroupProto(uint64_t id) {
  cluster::Group g;
  g.set_id(id);
  g.set_state(cluster::GROUP_SERVING);
  cluster::Replica* r = g.add_replicas();
  r->set_id(1);
  r->set_address("g" + std::to_string(id) + ":1");
  return g;
}

class ShardMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster::ClusterMap first;
    first.set_version(1);
    first.set_virtual_nodes(4);
    first.set_next_migration_id(1);
    *first.add_groups() = GroupProto(1);
    Add(first);
    auto planned = shard::PlanAddGroup(*maps_.at(1), GroupProto(2));
    ASSERT_TRUE(planned.ok()) << planned.status();
    Add(*planned);
    const shard::ClusterMap& two = *maps_.at(2);
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
    maps_[maps_.size() + 1] = std::make_shared<const shard::ClusterMap>(*std::move(map));
  }

  ShardCommand Step(char op) const {
    ShardCommand c;
    c.op = op;
    c.migration = move_.id();
    c.start = move_.range().start();
    c.end = move_.range().end();
    c.from = move_.from_group();
    c.to = move_.to_group();
    return c;
  }
  static ShardCommand SetMap(uint64_t map) {
    ShardCommand c;
    c.op = 'M';
    c.map = map;
    return c;
  }
  static ShardCommand Put(uint64_t client, uint64_t seq, const std::string& row,
                          const std::string& value) {
    ShardCommand c;
    c.op = 'P';
    c.client = client;
    c.seq = seq;
    c.key = row;
    c.value = value;
    return c;
  }

  MapRegistry maps_;
  cluster::Migration move_;
  std::string moving_, staying_;
};

TEST_F(ShardMachineTest, CommandsRoundTrip) {
  ShardCommand c = Step('I');
  c.payload = "c\x1drow\x1dv";
  c.expected = "old";
  const ShardCommand d = DecodeCommand(EncodeCommand(c));
  EXPECT_EQ(d.op, 'I');
  EXPECT_EQ(d.migration, c.migration);
  EXPECT_EQ(d.start, c.start);
  EXPECT_EQ(d.end, c.end);
  EXPECT_EQ(d.payload, c.payload);
  EXPECT_EQ(d.expected, c.expected);
  EXPECT_EQ(DecodeCommand("garbage").op, '?');
}

TEST_F(ShardMachineTest, MapsOnlyMoveForward) {
  ShardMachine m(1, &maps_, Bug::kNone);
  m.Apply(SetMap(2));
  EXPECT_EQ(m.map_version(), 2u);
  m.Apply(SetMap(1));
  EXPECT_EQ(m.map_version(), 2u);
  m.Apply(SetMap(99));  // unknown: ignored
  EXPECT_EQ(m.map_version(), 2u);
}

TEST_F(ShardMachineTest, ConfigStoreIsCompareAndSet) {
  ShardMachine config(0, &maps_, Bug::kNone);
  ShardCommand s;
  s.op = 'S';
  s.map = 1;
  s.expected_map = 0;
  EXPECT_TRUE(config.Apply(s).cput_ok);
  s.map = 3;
  s.expected_map = 2;  // stale expectation
  EXPECT_FALSE(config.Apply(s).cput_ok);
  EXPECT_EQ(config.map_id(), 1u);
  s.map = 2;
  s.expected_map = 1;
  EXPECT_TRUE(config.Apply(s).cput_ok);
  EXPECT_TRUE(config.Apply(s).cput_ok) << "a retried write that took effect reports success";
  EXPECT_EQ(config.map_id(), 2u);
}

TEST_F(ShardMachineTest, AMigrationMovesTheRangeAndItsSessions) {
  ShardMachine src(move_.from_group(), &maps_, Bug::kNone);
  ShardMachine dst(move_.to_group(), &maps_, Bug::kNone);
  src.Apply(SetMap(2));
  dst.Apply(SetMap(2));
  // PLANNED: the source serves the range, the destination refuses it.
  EXPECT_EQ(src.Judge(moving_, true), Verdict::kServe);
  EXPECT_EQ(dst.Judge(moving_, false), Verdict::kWrongGroup);
  EXPECT_EQ(src.Apply(Put(7, 1, moving_, "a")).verdict, Verdict::kServe);
  EXPECT_FALSE(src.Dump(move_.id(), {move_.range().start(), move_.range().end()}))
      << "no copy before the freeze";

  src.Apply(Step('F'));
  EXPECT_EQ(src.Apply(Put(7, 2, moving_, "b")).verdict, Verdict::kUnavailable);
  EXPECT_EQ(src.Judge(moving_, false), Verdict::kServe) << "reads go on while frozen";
  EXPECT_EQ(src.Apply(Put(7, 2, moving_, "b")).verdict, Verdict::kUnavailable)
      << "a frozen refusal is not recorded: the same write is judged again";
  EXPECT_EQ(src.Apply(Put(7, 2, staying_, "s")).verdict, Verdict::kServe);

  ShardCommand install = Step('I');
  install.payload = *src.Dump(move_.id(), {move_.range().start(), move_.range().end()});
  dst.Apply(install);
  dst.Apply(SetMap(3));  // SWITCHED: routing says the destination, which is still arriving
  EXPECT_EQ(dst.Judge(moving_, false), Verdict::kUnavailable);
  src.Apply(SetMap(3));
  EXPECT_EQ(src.Judge(moving_, false), Verdict::kWrongGroup);
  src.Apply(Step('R'));
  dst.Apply(Step('A'));
  EXPECT_EQ(dst.Judge(moving_, true), Verdict::kServe);
  src.Apply(Step('X'));
  EXPECT_EQ(src.Get(moving_), std::nullopt) << "dropped";
  EXPECT_EQ(src.Get(staying_), "s");
  EXPECT_EQ(dst.Get(moving_), "a");
  EXPECT_EQ(dst.Get(staying_), std::nullopt) << "only the range moved";
  // The session moved: client 7's seq 2 (applied at the source) is a duplicate here.
  EXPECT_EQ(dst.Apply(Put(7, 2, moving_, "dup")).verdict, Verdict::kServe);
  EXPECT_EQ(dst.Get(moving_), "a");
  // At the source, a retry of an applied write gets its result before any ownership check.
  EXPECT_EQ(src.Apply(Put(7, 2, staying_, "s")).verdict, Verdict::kServe);
}

TEST_F(ShardMachineTest, ActivateOnlyFromInstalledAndNeverOverwritten) {
  ShardMachine dst(move_.to_group(), &maps_, Bug::kNone);
  dst.Apply(SetMap(2));
  dst.Apply(Step('A'));  // nothing installed: no effect
  EXPECT_EQ(dst.Judge(moving_, false), Verdict::kWrongGroup);
  ShardCommand install = Step('I');
  install.payload = std::string("c\x1d") + moving_ + "\x1dv1";
  dst.Apply(install);
  EXPECT_EQ(dst.Judge(moving_, false), Verdict::kWrongGroup) << "installed, not switched";
  dst.Apply(SetMap(3));
  EXPECT_EQ(dst.Judge(moving_, false), Verdict::kUnavailable) << "switched: arriving";
  dst.Apply(Step('A'));
  EXPECT_EQ(dst.Judge(moving_, true), Verdict::kServe);
  EXPECT_EQ(dst.Apply(Put(9, 1, moving_, "v2")).verdict, Verdict::kServe);
  dst.Apply(install);  // a late copy of the install
  EXPECT_EQ(dst.Get(moving_), "v2") << "a live range is never overwritten";
}

TEST_F(ShardMachineTest, ALateChunkNeverResetsAnInstalledRange) {
  ShardMachine dst(move_.to_group(), &maps_, Bug::kNone);
  dst.Apply(SetMap(3));
  auto chunk = [&](uint64_t attempt, uint64_t k, bool last, const std::string& value) {
    ShardCommand c = Step('I');
    c.attempt = attempt;
    c.chunk = k;
    c.reset = k == 0;
    c.last = last;
    c.payload = std::string("c\x1d") + moving_ + "\x1d" + value;
    return c;
  };
  dst.Apply(chunk(1, 0, false, "a"));
  dst.Apply(chunk(1, 1, true, "b"));
  dst.Apply(chunk(1, 0, false, "a"));  // the first chunk again, chosen late
  dst.Apply(Step('A'));
  EXPECT_EQ(dst.Judge(moving_, true), Verdict::kServe) << "still installed, so activated";
  EXPECT_EQ(dst.Get(moving_), "b");

  ShardMachine old(move_.to_group(), &maps_, Bug::kNone);  // unnumbered, as before 7e1e0c4
  old.Apply(SetMap(3));
  old.Apply(chunk(0, 0, false, "a"));
  old.Apply(chunk(0, 1, true, "b"));
  old.Apply(chunk(0, 0, false, "a"));
  old.Apply(Step('A'));
  EXPECT_EQ(old.Judge(moving_, false), Verdict::kUnavailable)
      << "the late reset sent the range back to installing: the simulator's finding";
}

TEST_F(ShardMachineTest, WrongGroupIsRecordedAndStable) {
  ShardMachine dst(move_.to_group(), &maps_, Bug::kNone);
  dst.Apply(SetMap(2));
  EXPECT_EQ(dst.Apply(Put(3, 5, moving_, "x")).verdict, Verdict::kWrongGroup);
  dst.Apply(SetMap(3));
  ShardCommand install = Step('I');
  dst.Apply(install);
  dst.Apply(Step('A'));
  EXPECT_EQ(dst.Apply(Put(3, 5, moving_, "x")).verdict, Verdict::kWrongGroup)
      << "the same (client, seq) keeps its recorded refusal";
  EXPECT_EQ(dst.Get(moving_), std::nullopt);
}

TEST_F(ShardMachineTest, BrokenSourceKeepsServing) {
  ShardMachine src(move_.from_group(), &maps_, Bug::kSourceServesAfterSwitch);
  src.Apply(SetMap(3));
  src.Apply(Step('F'));
  src.Apply(Step('R'));
  EXPECT_TRUE(src.Serves(moving_));
  ShardMachine good(move_.from_group(), &maps_, Bug::kNone);
  good.Apply(SetMap(2));
  good.Apply(Step('F'));
  good.Apply(Step('R'));
  EXPECT_FALSE(good.Serves(moving_)) << "RELEASE stops the source even on the old map";
}

}  // namespace
}  // namespace penncloud::paxos::sim
