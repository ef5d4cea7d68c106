// Disk faults under a real replica group (docs/kvs.md "Disk faults"): every kvs_server runs
// its disk through the fault file system (--fault_fs_control), and the test breaks one
// replica's disk while clients write. Acknowledged writes must survive every fault; a
// replica whose disk failed must stop rather than acknowledge, and come back whole.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "proto/kvs.grpc.pb.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

absl::StatusOr<kvs::pb::StatusResponse> StatusOf(const KvsGroup& group, int i) {
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel(group.address(i), tls::ChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(2));
  kvs::pb::StatusResponse status;
  grpc::Status s = stub->Status(&context, kvs::pb::StatusRequest(), &status);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return status;
}

std::string LogOf(const KvsGroup& group, int i) {
  std::ifstream file(absl::StrCat(group.dir(), "/replica-", i + 1, ".log"));
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Polls `done` every 50 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

// (round, node) of a Status ballot "round.node".
std::pair<uint64_t, uint64_t> Ballot(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '.');
  std::pair<uint64_t, uint64_t> b{0, 0};
  if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &b.first)) {
    (void)absl::SimpleAtoi(parts[1], &b.second);
  }
  return b;
}

// The SST of column family `family` in a store: the file whose properties name it (the
// property keys share prefixes, so "column.family.name" is stored as "...id" + "name").
std::string FamilySst(const std::string& store, const std::string& family) {
  for (const auto& e : fs::directory_iterator(store)) {
    if (e.path().extension() != ".sst") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = bytes.find("column.family.id");
    if (at != std::string::npos &&
        bytes.substr(at, 40).find("name" + family) != std::string::npos) {
      return e.path().string();
    }
  }
  return "";
}

// Flips one bit in the first data block of `path`.
void FlipBit(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(64);
  char byte = 0;
  f.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x04);
  f.seekp(64);
  f.write(&byte, 1);
  ASSERT_TRUE(f.good()) << path;
}

class KvsDiskFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control_dir_ = TempDir("kvs-fault-control");
    KvsGroupOptions options;
    options.extra_flags = {absl::StrCat("--fault_fs_control=", control_dir_)};
    auto group = KvsGroup::Start(options);
    ASSERT_TRUE(group.ok()) << group.status();
    group_ = std::move(*group);
    auto client = kvs::Connect(group_->spec());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }
  void TearDown() override {
    client_.reset();
    group_.reset();
    RemoveTree(control_dir_);
  }

  // Sets replica i's disk faults (words of kvs/storage/fault_control.h, none = no faults)
  // and, if it `runs`, waits until they are in force (a crash is in force when it exits).
  void Faults(int i, const std::vector<std::string>& words, bool runs = true) {
    const std::string path = absl::StrCat(control_dir_, "/replica-", i + 1);
    std::string text;
    for (const std::string& w : words) text += w + " ";
    {
      std::ofstream out(path + ".tmp");
      out << text << "\n";
    }
    fs::rename(path + ".tmp", path);  // the replica never reads half a file
    if (!runs || std::find(words.begin(), words.end(), "crash") != words.end()) return;
    ASSERT_TRUE(WaitFor(
        [&] {
          std::ifstream in(path + ".seen");
          std::string seen((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          return seen == text + "\n";
        },
        seconds(10)))
        << "replica " << i + 1 << " did not take up faults \"" << text << "\"";
  }

  // Writes rows [from, to), each acknowledged, and remembers them.
  // Rows 0-29 acknowledged, then a bit flipped in the data-family SST of a follower
  // (`*damaged`, data folder `*dir`), which is left stopped.
  void FlipABitInAFollowersCells(int* damaged, std::string* dir) {
    WriteAcknowledged(0, 30);
    auto leader = group_->Leader();
    ASSERT_TRUE(leader.ok()) << leader.status();
    *damaged = (*leader + 1) % 3;
    ASSERT_TRUE(CaughtUp(seconds(30)));
    // Applies skip the write-ahead log, so cells reach an SST only when a flush writes them,
    // which a compaction of the log asks for: with a one-byte bound one is due at once.
    ASSERT_TRUE(group_->Restart(*damaged, {"--snapshot_log_bytes=1"}).ok());
    ASSERT_TRUE(CaughtUp(seconds(30)));
    ASSERT_TRUE(
        WaitFor([&] { return LogOf(*group_, *damaged).find("kvs.compacted") != std::string::npos; },
                seconds(30)))
        << LogOf(*group_, *damaged);
    group_->Kill(*damaged);
    *dir = absl::StrCat(group_->dir(), "/replica-", *damaged + 1);
    const std::string sst = FamilySst(*dir + "/store", "data");
    ASSERT_FALSE(sst.empty()) << "no SST of the data family in " << *dir;
    FlipBit(sst);
  }

  // Replica i found damage while serving: it logs it, starts itself again and that start
  // rebuilds its store (in `dir`) from the peers, with no restart from the test.
  void ExpectRebuiltWithoutHelp(int i, const std::string& dir) {
    ASSERT_TRUE(WaitFor(
        [&] {
          return LogOf(*group_, i).find("kvs.recovered", LogOf(*group_, i).find("kvs.repaired")) !=
                 std::string::npos;
        },
        seconds(60)))
        << LogOf(*group_, i);
    const std::string log = LogOf(*group_, i);
    EXPECT_LT(log.find("kvs.store_corrupt"), log.find("kvs.restarting")) << log;
    EXPECT_LT(log.find("kvs.restarting"), log.find("kvs.repaired")) << log;
    EXPECT_FALSE(fs::exists(dir + "/REPAIR_NEEDED"));
  }

  void WriteAcknowledged(int from, int to) {
    for (int i = from; i < to; ++i) {
      absl::Status s = client_->Put(Row(i), "c", Value(i));
      ASSERT_TRUE(s.ok()) << "row " << i << ": " << s;
      acknowledged_.push_back(i);
    }
  }
  void ExpectAcknowledgedPresent() {
    for (int i : acknowledged_) {
      auto got = client_->Get(Row(i), "c");
      ASSERT_TRUE(got.ok()) << "acknowledged row " << i << ": " << got.status();
      EXPECT_EQ(*got, Value(i)) << "acknowledged row " << i;
    }
  }
  static std::string Row(int i) { return absl::StrCat("row", i); }
  static std::string Value(int i) { return absl::StrCat("value-", i, std::string(64, 'v')); }

  // Until every replica answers and has applied what the leader committed.
  bool CaughtUp(milliseconds timeout) {
    return WaitFor(
        [&] {
          uint64_t commit = 0;
          std::vector<uint64_t> applied;
          for (int i = 0; i < group_->size(); ++i) {
            auto s = StatusOf(*group_, i);
            if (!s.ok()) return false;
            applied.push_back(s->applied_slot());
            if (s->role() == "leader") commit = s->commit_slot();
          }
          return commit > 0 && std::all_of(applied.begin(), applied.end(),
                                           [&](uint64_t a) { return a >= commit; });
        },
        timeout);
  }

  std::string control_dir_;
  std::unique_ptr<KvsGroup> group_;
  std::unique_ptr<kvs::Client> client_;
  std::vector<int> acknowledged_;
};

TEST_F(KvsDiskFaultTest, ALeaderWhoseFsyncFailsStopsAndNeverAcknowledgesTheWrite) {
  WriteAcknowledged(0, 20);
  auto leader = group_->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int l = *leader;
  const int down = (l + 1) % 3;
  // With one follower down the write needs the leader's own fsync to be chosen.
  group_->Kill(down);
  Faults(l, {"sync_fails"});
  absl::Status lost = client_->Put("unacknowledged", "c", "never durable on a majority");
  EXPECT_FALSE(lost.ok()) << "a write whose leader could not fsync it was acknowledged";
  ASSERT_TRUE(WaitFor([&] { return !StatusOf(*group_, l).ok(); }, seconds(30)))
      << "the leader kept serving after its fsync failed";
  EXPECT_NE(LogOf(*group_, l).find("kvs.persist_failed"), std::string::npos);

  Faults(l, {}, /*runs=*/false);
  ASSERT_TRUE(group_->Restart(l).ok());
  ASSERT_TRUE(group_->Restart(down).ok());
  ASSERT_TRUE(group_->Leader().ok());
  ExpectAcknowledgedPresent();
  WriteAcknowledged(20, 25);
  EXPECT_TRUE(CaughtUp(seconds(30)));
}

TEST_F(KvsDiskFaultTest, AFullDiskStopsAReplicaWithAClearErrorAndItRecoversWhenSpaceReturns) {
  WriteAcknowledged(0, 10);
  auto leader = group_->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int full = *leader;
  Faults(full, {"no_space"});
  // The group goes on without it: these writes are acknowledged by the other two.
  WriteAcknowledged(10, 30);
  // It stops, says why, and starts itself again; with the disk still full the new start
  // waits instead of serving.
  ASSERT_TRUE(WaitFor(
      [&] { return LogOf(*group_, full).find("kvs.disk_full") != std::string::npos; }, seconds(30)))
      << LogOf(*group_, full);
  const std::string log = LogOf(*group_, full);
  EXPECT_NE(log.find("out of disk space"), std::string::npos) << log;
  EXPECT_LT(log.find("kvs.restarting"), log.find("kvs.disk_full")) << log;
  EXPECT_FALSE(StatusOf(*group_, full).ok());
  // Nobody starts it: once space returns it serves and catches up on its own.
  Faults(full, {});
  WriteAcknowledged(30, 35);
  EXPECT_TRUE(CaughtUp(seconds(30))) << "the replica did not catch up once space returned";
  ExpectAcknowledgedPresent();
}

TEST_F(KvsDiskFaultTest, ALeaderThatLosesItsUnsyncedWritesInACrashRejoinsAndCatchesUp) {
  WriteAcknowledged(0, 10);
  auto leader = group_->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int l = *leader;
  // Writers keep the leader's log busy, so the cut finds writes in flight.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<int> during;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 1000 * (w + 1); !stop && i < 1000 * (w + 1) + 400; ++i) {
        if (client_->Put(Row(i), "c", Value(i)).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          during.push_back(i);
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return during.size() >= 20;
      },
      seconds(30)));
  Faults(l, {"crash"});
  ASSERT_TRUE(WaitFor([&] { return !StatusOf(*group_, l).ok(); }, seconds(30)));
  EXPECT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return during.size() >= 60;
      },
      seconds(30)))
      << "the group stopped acknowledging writes after its leader crashed";
  stop = true;
  for (std::thread& t : writers) t.join();
  acknowledged_.insert(acknowledged_.end(), during.begin(), during.end());

  Faults(l, {}, /*runs=*/false);
  ASSERT_TRUE(group_->Restart(l).ok());
  WriteAcknowledged(10, 15);
  EXPECT_TRUE(CaughtUp(seconds(30))) << "the crashed replica did not catch up";
  ExpectAcknowledgedPresent();
  EXPECT_TRUE(LogOf(*group_, l).find("kvs.recovered") != std::string::npos);
}

TEST_F(KvsDiskFaultTest, AFlippedBitInTheLogIsCaughtAndTheReplicaRebuildsItselfFromAllItsPeers) {
  WriteAcknowledged(0, 30);
  auto leader = group_->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int damaged = (*leader + 1) % 3;
  const int other = (*leader + 2) % 3;
  ASSERT_TRUE(CaughtUp(seconds(30)));
  // A restart writes the recovered write-ahead log into SST files, one per family.
  ASSERT_TRUE(group_->Restart(damaged).ok());
  ASSERT_TRUE(CaughtUp(seconds(30)));
  group_->Kill(damaged);
  const std::string store = absl::StrCat(group_->dir(), "/replica-", damaged + 1, "/store");
  const std::string sst = FamilySst(store, "log");
  ASSERT_FALSE(sst.empty()) << "no SST of the log family in " << store;
  FlipBit(sst);
  auto before = StatusOf(*group_, *leader);
  ASSERT_TRUE(before.ok());

  // Another voter is down: the damaged replica cannot learn every ballot it may have
  // promised, so it must neither serve nor vote yet.
  group_->Kill(other);
  std::future<absl::Status> restarted =
      std::async(std::launch::async, [&] { return group_->Restart(damaged); });
  ASSERT_TRUE(
      WaitFor([&] { return LogOf(*group_, damaged).find("did not answer") != std::string::npos; },
              seconds(30)))
      << LogOf(*group_, damaged);
  EXPECT_NE(LogOf(*group_, damaged).find("kvs.store_corrupt"), std::string::npos);
  EXPECT_FALSE(StatusOf(*group_, damaged).ok()) << "a damaged replica served";

  ASSERT_TRUE(group_->Restart(other).ok());
  ASSERT_TRUE(restarted.get().ok()) << LogOf(*group_, damaged);
  const std::string log = LogOf(*group_, damaged);
  ASSERT_NE(log.find("kvs.repaired"), std::string::npos) << log;
  EXPECT_LT(log.find("kvs.repaired"), log.rfind("kvs.recovered"));
  auto after = StatusOf(*group_, damaged);
  ASSERT_TRUE(after.ok());
  EXPECT_GE(Ballot(after->ballot()), Ballot(before->ballot()))
      << "the rebuilt replica promises less than the group's leader had";
  bool moved_aside = false;
  for (const auto& e : fs::directory_iterator(fs::path(store).parent_path())) {
    moved_aside |= e.path().filename().string().starts_with("store.damaged-");
  }
  EXPECT_TRUE(moved_aside);
  WriteAcknowledged(30, 40);
  EXPECT_TRUE(CaughtUp(seconds(30)));
  ExpectAcknowledgedPresent();
}

TEST_F(KvsDiskFaultTest, AFlippedBitFoundWhileServingStopsTheReplicaAndItsNextStartRebuildsIt) {
  int damaged = -1;
  std::string dir;
  ASSERT_NO_FATAL_FAILURE(FlipABitInAFollowersCells(&damaged, &dir));
  // Nothing reads the cells at start, so the replica serves...
  ASSERT_TRUE(group_->Restart(damaged).ok());
  // ...until a compare-and-put makes every replica read the cell it compares.
  for (int i = 0; i < 30; ++i) {
    auto swapped = client_->CPut(Row(i), "c", Value(i), Value(i + 100));
    ASSERT_TRUE(swapped.ok()) << swapped.status();
    EXPECT_TRUE(*swapped) << "row " << i;
  }
  // It stops serving, marks its store and starts itself again; that start rebuilds it.
  ExpectRebuiltWithoutHelp(damaged, dir);
  WriteAcknowledged(30, 40);
  EXPECT_TRUE(CaughtUp(seconds(30)));
  for (int i = 0; i < 30; ++i) {
    auto got = client_->Get(Row(i), "c");
    ASSERT_TRUE(got.ok()) << "row " << i << ": " << got.status();
    EXPECT_EQ(*got, Value(i + 100)) << "row " << i << " lost its acknowledged swap";
  }
  acknowledged_.erase(acknowledged_.begin(), acknowledged_.begin() + 30);  // swapped since
  ExpectAcknowledgedPresent();
}

// The same damage in cells nobody touches: the scrub finds it, the replica stops, and its
// next start rebuilds the store from the peers.
TEST_F(KvsDiskFaultTest, AFlippedBitNoRequestReadsIsFoundByTheScrubAndRepaired) {
  int damaged = -1;
  std::string dir;
  ASSERT_NO_FATAL_FAILURE(FlipABitInAFollowersCells(&damaged, &dir));
  ASSERT_TRUE(group_->Restart(damaged, {"--scrub_first_s=1"}).ok());
  ExpectRebuiltWithoutHelp(damaged, dir);
  WriteAcknowledged(30, 40);
  EXPECT_TRUE(CaughtUp(seconds(30)));
  ExpectAcknowledgedPresent();
}

// A leader whose disk is nearly full refuses client writes with a clear error before it
// proposes them, and still serves reads. (The reserve here is more than any disk holds.)
TEST(KvsDiskReserveTest, ALeaderWithoutRoomRefusesWritesClearlyAndStillServesReads) {
  KvsGroupOptions options;
  options.extra_flags = {"--disk_reserve_mb=1099511627776"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  auto client = kvs::Connect((*group)->spec());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Status put = (*client)->Put("row", "c", "value");
  EXPECT_TRUE(absl::IsResourceExhausted(put)) << put;
  EXPECT_NE(put.message().find("free"), absl::string_view::npos) << put;
  EXPECT_TRUE(absl::IsNotFound((*client)->Get("row", "c").status()));
}

}  // namespace
}  // namespace penncloud::testing
