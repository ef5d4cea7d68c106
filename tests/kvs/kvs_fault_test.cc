// A 3-replica group under concurrent clients while replicas are killed, paused and cut
// off. Every client operation is recorded and the history must be linearizable; no
// acknowledged write may be lost. PENNCLOUD_KVS_SOAK=<seconds> runs a longer mix.
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/grpc_tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "kvs/lincheck/history.h"
#include "proto/kvs.grpc.pb.h"
#include "tests/kvs/history_recorder.h"
#include "tests/support/kvs_group.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

void Pause(milliseconds d) { std::this_thread::sleep_for(d); }

// Runs `faults` while clients work, then checks the history.
void RunWithHistory(KvsGroup& group, const std::function<void()>& faults) {
  auto client = kvs::Connect(group.spec());
  ASSERT_TRUE(client.ok());
  HistoryRecorder recorder(client->get(), /*threads=*/8, /*keys=*/6);
  recorder.Start();
  Pause(milliseconds(500));
  faults();
  // The group must be serving again at the end: writes acknowledged after the faults.
  ASSERT_TRUE(group.Leader(seconds(10)).ok());
  const int64_t before = recorder.acknowledged_writes();
  Pause(milliseconds(1000));
  std::vector<lincheck::Operation> history = recorder.Finish();
  EXPECT_GT(recorder.acknowledged_writes(), before) << "no progress after the faults";
  EXPECT_GT(recorder.completed_ops(), 100);
  lincheck::CheckResult result = lincheck::CheckKv(history, seconds(60));
  EXPECT_EQ(result.verdict, lincheck::CheckResult::Verdict::kLinearizable)
      << "key " << result.key << ": " << result.explanation;
  std::cerr << "history: " << history.size() << " ops, " << recorder.completed_ops()
            << " completed, " << recorder.failed_ops() << " unknown, "
            << recorder.acknowledged_writes() << " acknowledged writes\n";
}

TEST(KvsFaultTest, KillLeaderThenFollower) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  RunWithHistory(g, [&] {
    const int leader = g.Leader().value();
    const auto killed = std::chrono::steady_clock::now();
    g.Kill(leader);
    ASSERT_TRUE(g.Leader(seconds(10)).ok());
    std::cerr << "new leader agreed after "
              << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - killed)
                     .count()
              << " ms\n";
    Pause(milliseconds(700));
    {
      absl::Status s = g.Restart(leader);
      ASSERT_TRUE(s.ok()) << s;
    }
    Pause(milliseconds(700));
    const int follower = (g.Leader().value() + 1) % 3;
    g.Kill(follower);
    Pause(milliseconds(700));
    {
      absl::Status s = g.Restart(follower);
      ASSERT_TRUE(s.ok()) << s;
    }
    Pause(milliseconds(500));
  });
}

TEST(KvsFaultTest, PausedLeaderNeverServesStaleReads) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  auto client = kvs::Connect(g.spec()).value();
  ASSERT_TRUE(client->Put("stale", "c", "old").ok());
  const int old_leader = g.Leader().value();
  g.Stop(old_leader);
  // The others elect a new leader and take a write the old one never saw.
  ASSERT_TRUE(client->Put("stale", "c", "new").ok());
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel(g.address(old_leader), tls::ChannelCredentials()));
  // Queue a read at the paused leader, then wake it: the read must not return "old".
  kvs::pb::GetRequest request;
  request.set_row("stale");
  request.set_column("c");
  kvs::pb::GetResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(5));
  grpc::Status status;
  std::thread reader([&] { status = stub->Get(&context, request, &response); });
  Pause(milliseconds(200));
  g.Continue(old_leader);
  reader.join();
  if (status.ok() && !response.hint().not_leader()) {
    ASSERT_TRUE(response.found());
    EXPECT_EQ(response.value(), "new") << "a paused old leader served a stale read";
  }
  // Straight after waking, more reads at the old leader: never "old".
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() + seconds(2));
    kvs::pb::GetResponse r;
    if (stub->Get(&c, request, &r).ok() && !r.hint().not_leader()) {
      EXPECT_EQ(r.value(), "new");
    }
  }
  // And the whole thing under concurrent clients, checked for linearizability.
  RunWithHistory(g, [&] {
    const int leader = g.Leader().value();
    g.Stop(leader);
    Pause(milliseconds(1500));
    g.Continue(leader);
    Pause(milliseconds(700));
  });
}

TEST(KvsFaultTest, PartitionedReplicaComesBack) {
  KvsGroupOptions options;
  options.proxied_peers = true;
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  RunWithHistory(g, [&] {
    // Cut off the leader: the majority side elects another and goes on.
    const int leader = g.Leader().value();
    g.Isolate(leader);
    Pause(milliseconds(1500));
    g.Heal();
    Pause(milliseconds(800));
    // Cut off a follower, then let it catch up.
    const int follower = (g.Leader().value() + 1) % 3;
    g.Isolate(follower);
    Pause(milliseconds(1000));
    g.Heal();
    Pause(milliseconds(500));
  });
}

// The same faults with reads confirmed by a heartbeat round instead of the lease.
TEST(KvsFaultTest, ReadIndexReadsStayLinearizable) {
  KvsGroupOptions options;
  options.extra_flags = {"--lease_reads=false"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  RunWithHistory(g, [&] {
    const int leader = g.Leader().value();
    g.Stop(leader);
    Pause(milliseconds(1200));
    g.Continue(leader);
    Pause(milliseconds(500));
    const int next = g.Leader().value();
    g.Kill(next);
    Pause(milliseconds(800));
    absl::Status s = g.Restart(next);
    ASSERT_TRUE(s.ok()) << s;
    Pause(milliseconds(500));
  });
}

TEST(KvsFaultTest, MinoritySideNeverAcknowledgesAWrite) {
  KvsGroupOptions options;
  options.proxied_peers = true;
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  const int leader = g.Leader().value();
  g.Isolate(leader);
  // Straight at the cut-off leader: whatever it believes, it has no majority to choose
  // the write, so it must not say it succeeded.
  auto stub = kvs::pb::KvsService::NewStub(
      grpc::CreateChannel(g.address(leader), tls::ChannelCredentials()));
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    kvs::pb::WriteRequest request;
    kvs::pb::Command* c = request.mutable_command();
    c->set_op(kvs::pb::OP_PUT);
    c->set_session(777);
    c->set_seq(seq);
    c->set_row("minority");
    c->set_column("c");
    c->set_value("lost");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + milliseconds(1500));
    kvs::pb::WriteResponse response;
    grpc::Status s = stub->Write(&context, request, &response);
    EXPECT_TRUE(!s.ok() || response.hint().not_leader())
        << "the isolated replica acknowledged write " << seq;
  }
  // Meanwhile the majority side goes on.
  auto client = kvs::Connect(g.spec()).value();
  EXPECT_TRUE(client->Put("majority", "c", "ok").ok());
  g.Heal();
  EXPECT_EQ(client->Get("majority", "c").value(), "ok");
}

TEST(KvsFaultTest, KillAllThreeAndRestart) {
  auto group = KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  RunWithHistory(g, [&] {
    for (int i = 0; i < 3; ++i) g.Kill(i);
    Pause(milliseconds(300));
    for (int i = 0; i < 3; ++i) {
      absl::Status s = g.Restart(i);
      ASSERT_TRUE(s.ok()) << s;
    }
    Pause(milliseconds(500));
  });
}

TEST(KvsFaultTest, Soak) {
  const char* env = std::getenv("PENNCLOUD_KVS_SOAK");
  if (env == nullptr) GTEST_SKIP() << "set PENNCLOUD_KVS_SOAK=<seconds> to run";
  const int total = std::atoi(env);
  KvsGroupOptions options;
  options.proxied_peers = true;
  options.extra_flags = {"--snapshot_interval=200", "--log_keep_slots=20"};
  auto group = KvsGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  KvsGroup& g = **group;
  RunWithHistory(g, [&] {
    const auto end = std::chrono::steady_clock::now() + seconds(total);
    for (int round = 0; std::chrono::steady_clock::now() < end && round < 10000; ++round) {
      const int victim = round % 3;
      switch (round % 4) {
        case 0:
          g.Kill(victim);
          Pause(milliseconds(500));
          {
            absl::Status s = g.Restart(victim);
            ASSERT_TRUE(s.ok()) << s;
          }
          break;
        case 1:
          g.Stop(victim);
          Pause(milliseconds(800));
          g.Continue(victim);
          break;
        case 2:
          g.Isolate(victim);
          Pause(milliseconds(800));
          g.Heal();
          break;
        default:
          for (int i = 0; i < 3; ++i) g.Kill(i);
          for (int i = 0; i < 3; ++i) {
            absl::Status s = g.Restart(i);
            ASSERT_TRUE(s.ok()) << s;
          }
      }
      Pause(milliseconds(700));
    }
  });
}

}  // namespace
}  // namespace penncloud::testing
