// Bounded recovery: with large values the log is compacted by its size long before the
// slot count (--snapshot_log_bytes), so what a restart replays stays small.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "proto/kvs.grpc.pb.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;

absl::StatusOr<kvs::pb::StatusResponse> StatusOf(const KvsGroup& group, int i) {
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel(group.address(i), tls::ChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  kvs::pb::StatusResponse status;
  grpc::Status s = stub->Status(&context, kvs::pb::StatusRequest(), &status);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return status;
}

// The number in "<key>=<number>" of the last line holding `event` in replica i's log.
int64_t LastLogged(const KvsGroup& group, int i, const std::string& event, const std::string& key) {
  std::ifstream file(absl::StrCat(group.dir(), "/replica-", i + 1, ".log"));
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t line = text.rfind(absl::StrCat("event=", event));
  if (line == std::string::npos) return -1;
  const size_t at = text.find(absl::StrCat(" ", key, "="), line);
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + key.size() + 2));
}

// Until every replica answers and has applied what its leader committed.
absl::Status WaitCaughtUp(const KvsGroup& group, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    uint64_t commit = 0;
    bool leader = false;
    bool all = true;
    std::vector<uint64_t> applied;
    for (int i = 0; i < group.size(); ++i) {
      auto s = StatusOf(group, i);
      if (!s.ok()) {
        all = false;
        break;
      }
      applied.push_back(s->applied_slot());
      if (s->role() == "leader") {
        leader = true;
        commit = s->commit_slot();
      }
    }
    if (all && leader &&
        std::all_of(applied.begin(), applied.end(), [&](uint64_t a) { return a >= commit; })) {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return absl::DeadlineExceededError("the group did not catch up");
}

TEST(KvsRecoveryTest, LargeValuesCompactTheLogByBytesAndRestartsReplayLittle) {
  constexpr uint64_t kBound = 2 << 20;
  constexpr size_t kValue = 256 << 10;
  KvsGroupOptions options;
  // The slot count alone would not compact before 10,000 slots.
  options.extra_flags = {"--snapshot_interval=10000",
                         absl::StrCat("--snapshot_log_bytes=", kBound)};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  auto client = kvs::Connect((*group)->spec());
  ASSERT_TRUE(client.ok()) << client.status();
  auto value = [](int i) { return std::string(kValue, static_cast<char>('a' + i % 26)); };
  constexpr int kValues = 48;  // 12 MiB: six times the bound
  for (int i = 0; i < kValues; ++i) {
    ASSERT_TRUE((*client)->Put("big", absl::StrCat("c", i), value(i)).ok()) << i;
  }
  // A follower that had not yet received the last writes would take them in after the
  // check below and crash with them uncompacted: first every replica applies them all.
  ASSERT_TRUE(WaitCaughtUp(**group, std::chrono::seconds(10)).ok());
  // Every replica compacts and, once its compaction sweep (every 100 ms) has run after the
  // last write, keeps at most the bound. Between sweeps a fast writer may push the log past
  // it, so the check waits for the sweep rather than reading the log right after the apply.
  auto kept_slots = [](const kvs::pb::StatusResponse& status) {
    return status.last_log_slot() - status.first_log_slot() + 1;
  };
  for (int i = 0; i < 3; ++i) {
    kvs::pb::StatusResponse status;
    for (int tries = 0; tries < 100; ++tries) {
      auto s = StatusOf(**group, i);
      if (s.ok()) status = *s;
      if (status.snapshot_slot() > 0 && status.applied_slot() >= kValues &&
          kept_slots(status) * kValue <= kBound + kValue) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    EXPECT_GT(status.snapshot_slot(), 0u) << "replica " << i << " never compacted";
    EXPECT_GT(status.first_log_slot(), status.snapshot_slot()) << "replica " << i;
    const uint64_t kept = kept_slots(status);
    EXPECT_LE(kept * kValue, kBound + kValue) << "replica " << i << " keeps " << kept;
    EXPECT_GE(LastLogged(**group, i, "kvs.compacted", "log_bytes_before"),
              static_cast<int64_t>(kBound))
        << "replica " << i;
  }
  // A crash of every replica: each replays only the short log that is left. Counted in
  // bytes: besides the values the log holds small entries (a new leader's, an expiry
  // sweep), which a count of entries times the value size took for whole values.
  for (int i = 0; i < 3; ++i) (*group)->Kill(i);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*group)->Restart(i).ok());
  ASSERT_TRUE((*group)->Leader().ok());
  for (int i = 0; i < 3; ++i) {
    const int64_t replayed = LastLogged(**group, i, "kvs.recovered", "entry_bytes");
    ASSERT_GE(replayed, 0) << "replica " << i << " logged no recovery";
    EXPECT_LE(static_cast<uint64_t>(replayed), kBound + kValue + (4 << 10))
        << "replica " << i << " replayed " << replayed << " bytes of log";
  }
  for (int i = 0; i < kValues; ++i) {
    auto got = (*client)->Get("big", absl::StrCat("c", i));
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    EXPECT_TRUE(*got == value(i)) << "value " << i << " differs after the restart";
  }
}

// Applies skip RocksDB's write-ahead log: a replica killed with -9 reopens at the applied
// slot its last flush put on disk and replays its log from there. Under writes, with the
// log compacted every few slots (each compaction waits for a flush), replicas are killed
// one at a time and then all at once: every acknowledged write must be there afterwards,
// and a counter moved by a chain of CPuts, each only valid on the state the one before
// left, must read the same at successive leaders.
TEST(KvsRecoveryTest, KilledReplicasReplayFromTheirFlushedStateAndLoseNoAcknowledgedWrite) {
  constexpr size_t kValue = 16 << 10;
  KvsGroupOptions options;
  options.extra_flags = {"--snapshot_interval=10000", "--snapshot_log_bytes=131072"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  auto client = kvs::Connect((*group)->spec());
  ASSERT_TRUE(client.ok()) << client.status();
  auto value = [](int i) { return std::string(kValue, static_cast<char>('a' + i % 26)); };
  ASSERT_TRUE((*client)->Put("counter", "v", "0").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};  // cells 0..written-1 are acknowledged
  int counter = 0;              // the counter's value as the chain's acknowledgements say
  std::thread writer([&] {
    bool unknown = false;  // the last CPut failed: it may or may not have applied
    for (int i = 0; !stop.load(); ++i) {
      while (!stop.load() && !(*client)->Put("cells", absl::StrCat("c", i), value(i)).ok()) {
        std::this_thread::sleep_for(milliseconds(20));
      }
      if (stop.load()) break;
      written = i + 1;
      const std::string expected = absl::StrCat(counter);
      auto moved = (*client)->CPut("counter", "v", expected, absl::StrCat(counter + 1));
      if (!moved.ok()) {
        unknown = true;
        continue;
      }
      if (*moved) {
        ++counter;
        unknown = false;
        continue;
      }
      // Refused: only an earlier CPut whose answer was lost may have moved the counter.
      auto now = (*client)->Get("counter", "v");
      ASSERT_TRUE(unknown && now.ok() && *now == absl::StrCat(counter + 1))
          << "the counter left " << counter << " without an acknowledged CPut";
      ++counter;
      unknown = false;
    }
  });
  auto wait_writes = [&](int more) {
    const int until = written.load() + more;
    for (int tries = 0; tries < 600 && written.load() < until; ++tries) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    return written.load() >= until;
  };
  ASSERT_TRUE(wait_writes(40));
  for (int round = 0; round < 2; ++round) {
    // A follower, then the leader, each killed while the writes go on.
    auto leader = (*group)->Leader();
    ASSERT_TRUE(leader.ok()) << leader.status();
    const int victim = round == 0 ? (*leader + 1) % 3 : *leader;
    (*group)->Kill(victim);
    ASSERT_TRUE(wait_writes(20)) << "round " << round;
    ASSERT_TRUE((*group)->Restart(victim).ok()) << "round " << round;
    ASSERT_TRUE(wait_writes(40)) << "round " << round;
  }
  for (int i = 0; i < 3; ++i) (*group)->Kill(i);
  stop = true;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*group)->Restart(i).ok());
  writer.join();
  ASSERT_TRUE(WaitCaughtUp(**group, std::chrono::seconds(30)).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(LastLogged(**group, i, "kvs.compacted", "through"), 0) << "replica " << i;
  }
  const int cells = written.load();
  int previous = -1;
  ASSERT_GT(cells, 100);
  // Successive leaders, each reading what the group acknowledged: the one found first,
  // then each one elected while the last was down.
  for (int turn = 0; turn < 3; ++turn) {
    auto leader = (*group)->Leader();
    ASSERT_TRUE(leader.ok()) << leader.status();
    if (turn > 0) {
      ASSERT_TRUE((*group)->Restart(previous).ok());
    }
    auto now = (*client)->Get("counter", "v");
    ASSERT_TRUE(now.ok()) << now.status();
    EXPECT_TRUE(*now == absl::StrCat(counter) || *now == absl::StrCat(counter + 1))
        << "leader " << *leader << " reads " << *now << ", the chain acknowledged " << counter;
    for (int i = 0; i < cells; ++i) {
      auto got = (*client)->Get("cells", absl::StrCat("c", i));
      ASSERT_TRUE(got.ok()) << i << ": " << got.status();
      ASSERT_TRUE(*got == value(i)) << "leader " << *leader << " lost acknowledged cell " << i;
    }
    (*group)->Kill(*leader);
    previous = *leader;
  }
}

// The restart soak: a group holding PENNCLOUD_KVS_RESTART_SOAK MiB (1024 for the 1 GiB of
// issue 18) is crashed and restarted 10 times; every start must come up, caught up, with
// the log it replays bounded by --snapshot_log_bytes (default 32 MiB; checked against the
// 64 MiB it was). Minutes long, so it runs only when that variable is set (the binary, not
// ctest, whose timeout is 120 s).
TEST(KvsRecoveryTest, SoakRestartsAGroupHoldingAGibibyteTenTimes) {
  const char* mib_text = std::getenv("PENNCLOUD_KVS_RESTART_SOAK");
  if (mib_text == nullptr) {
    GTEST_SKIP() << "a soak of minutes: run with PENNCLOUD_KVS_RESTART_SOAK=1024";
  }
  const int mib = std::atoi(mib_text);
  ASSERT_GT(mib, 0) << "PENNCLOUD_KVS_RESTART_SOAK is a size in MiB";
  constexpr uint64_t kBound = 64 << 20;
  KvsGroupOptions options;
  options.start_timeout = std::chrono::seconds(60);
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  auto client = kvs::Connect((*group)->spec());
  ASSERT_TRUE(client.ok()) << client.status();
  // 1 MiB values whose bytes say which they are.
  auto value = [](int i) {
    std::string v(1 << 20, static_cast<char>('a' + i % 26));
    const std::string tag = absl::StrCat("value ", i, ";");
    v.replace(0, tag.size(), tag);
    return v;
  };
  for (int i = 0; i < mib; ++i) {
    ASSERT_TRUE(
        (*client)->Put(absl::StrCat("file", i / 16), absl::StrCat("chunk", i), value(i)).ok())
        << i;
  }
  for (int round = 1; round <= 10; ++round) {
    for (int i = 0; i < 3; ++i) (*group)->Kill(i);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*group)->Restart(i).ok()) << "round " << round;
    absl::Status ready = WaitCaughtUp(**group, std::chrono::seconds(60));
    ASSERT_TRUE(ready.ok()) << "round " << round << ": " << ready;
    const auto took =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    std::cout << "round " << round << ": ready in " << took.count() << " ms; replayed";
    for (int i = 0; i < 3; ++i) {
      const int64_t replayed = LastLogged(**group, i, "kvs.recovered", "entries");
      std::cout << " " << replayed;
      EXPECT_LE(static_cast<uint64_t>(replayed) << 20, kBound + (1 << 20))
          << "round " << round << " replica " << i;
    }
    std::cout << " entries" << std::endl;
  }
  for (int i = 0; i < mib; ++i) {
    auto got = (*client)->Get(absl::StrCat("file", i / 16), absl::StrCat("chunk", i));
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    ASSERT_TRUE(*got == value(i)) << "value " << i << " differs after the restarts";
  }
}

}  // namespace
}  // namespace penncloud::testing
