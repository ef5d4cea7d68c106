// SIGTERM on a leader under constant writes (docs/kvs.md "Stopping"): calls that reach it
// after its loop stopped are refused at once (UNAVAILABLE: the client moves on), so gRPC's
// shutdown never waits for them and the replica exits well inside its drain bound; the two
// others take the writes, and every acknowledged write is still there.
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "kvs/client/replica_group_client.h"
#include "tests/support/process.h"

namespace penncloud::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool LogHas(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Three replicas started here: the test signals each one's process itself.
class KvsLeaderDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("kvs-drain");
    std::vector<std::string> members;
    for (int i = 0; i < 3; ++i) {
      ports_.push_back(FreePort());
      members.push_back(absl::StrCat(i + 1, "=127.0.0.1:", ports_[i]));
    }
    for (int i = 0; i < 3; ++i) {
      auto p =
          Process::Start(BinaryPath("kvs_server"),
                         {absl::StrCat("--id=", i + 1), "--peers=" + absl::StrJoin(members, ","),
                          absl::StrCat("--data_dir=", dir_, "/r", i + 1)},
                         Log(i));
      ASSERT_TRUE(p.ok()) << p.status();
      replicas_.push_back(std::move(*p));
    }
    for (int port : ports_) ASSERT_TRUE(WaitForPort(port)) << "logs in " << dir_;
  }
  void TearDown() override {
    if (!HasFailure()) RemoveTree(dir_);
  }
  std::string Log(int i) const { return absl::StrCat(dir_, "/replica-", i + 1, ".log"); }
  std::string Address(int i) const { return absl::StrCat("127.0.0.1:", ports_[i]); }
  std::string Spec() const { return absl::StrCat(Address(0), ",", Address(1), ",", Address(2)); }

  // A replica whose Status says it leads, waiting up to 10 s.
  int Leader() {
    const auto until = Clock::now() + 10s;
    for (int round = 0; round < 200 && Clock::now() < until; ++round) {
      kvs::ReplicaGroupClient all({Address(0), Address(1), Address(2)});
      for (auto& [address, status] : all.StatusAll()) {
        if (status.ok() && status->role() == "leader") {
          for (int i = 0; i < 3; ++i) {
            if (Address(i) == address) return i;
          }
        }
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }

  std::string dir_;
  std::vector<int> ports_;
  std::vector<Process> replicas_;
};

TEST_F(KvsLeaderDrainTest, ALeaderStoppedUnderWritesExitsAtOnceAndLosesNothing) {
  auto client = kvs::Connect(Spec());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Put("warm", "c", "up").ok());
  const int leader = Leader();
  ASSERT_GE(leader, 0);

  // Eight writers keep the leader busy, so calls keep arriving while it stops.
  constexpr int kWriters = 8;
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::vector<std::vector<int>> done(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const auto until = Clock::now() + 60s;
      for (int i = 0; i < 100000 && !stop && Clock::now() < until; ++i) {
        if ((*client)->Put(absl::StrCat("w", w), absl::StrCat("k", i), "v").ok()) {
          done[w].push_back(i);
          ++acked;
        }
      }
    });
  }
  auto wait_for_writes = [&](int more) {
    const int target = acked + more;
    const auto until = Clock::now() + 20s;
    for (int i = 0; i < 4000 && acked < target && Clock::now() < until; ++i) {
      std::this_thread::sleep_for(5ms);
    }
    return acked >= target;
  };
  ASSERT_TRUE(wait_for_writes(50)) << "no writes before the SIGTERM; logs in " << dir_;

  const auto sigterm_at = Clock::now();
  replicas_[leader].Terminate();
  const int status = replicas_[leader].Wait(10s);
  const auto drain = Clock::now() - sigterm_at;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  // The drain bound is 5 s; a call left unanswered used to hold the exit until it.
  EXPECT_FALSE(LogHas(Log(leader), "process.drain_timeout")) << "logs in " << dir_;
  EXPECT_LT(drain, 4s);

  EXPECT_TRUE(wait_for_writes(50)) << "no writes after the leader left; logs in " << dir_;
  stop = true;
  for (std::thread& t : writers) t.join();
  for (int w = 0; w < kWriters; ++w) {
    for (int i : done[w]) {
      auto got = (*client)->Get(absl::StrCat("w", w), absl::StrCat("k", i));
      ASSERT_TRUE(got.ok()) << "acknowledged write w" << w << "/k" << i
                            << " lost: " << got.status();
    }
  }
}

}  // namespace
}  // namespace penncloud::testing
