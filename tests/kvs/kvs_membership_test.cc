// Node membership of one real unsharded group (docs/sharding.md section 7) while clients
// keep writing: a replica joins (learner, catch-up by snapshot, voter), the leader itself
// is removed (it steps down; the others elect a successor) and a follower is replaced,
// through the library and through kvsctl; the recorded history is linearizable and every
// acknowledged write is readable at the end.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "kvs/client/group_admin.h"
#include "kvs/client/replica_group_client.h"
#include "kvs/lincheck/history.h"
#include "kvs/shard/node_membership.h"
#include "tests/kvs/history_recorder.h"
#include "tests/support/kvs_group.h"
#include "tests/support/test_pki.h"

namespace penncloud::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::string> Addresses(const KvsGroup& group) {
  std::vector<std::string> out;
  for (int i = 0; i < group.size(); ++i) out.push_back(group.address(i));
  return out;
}

// The members the group's leader reports once no change is pending, as id -> learner:
// `expected` as soon as it shows (a leader publishes its status every few tens of ms), or
// what it reports after 5 s.
std::map<uint64_t, bool> Members(KvsGroup& group, const std::map<uint64_t, bool>& expected) {
  kvs::GroupAdmin admin(Addresses(group));
  std::map<uint64_t, bool> out;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto status = admin.LeaderStatus();
    if (status.ok() && !status->membership_pending()) {
      out.clear();
      for (const auto& m : status->members()) out[m.id()] = m.learner();
      if (out == expected) break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return out;
}

int Kvsctl(const std::string& args, std::string* out) {
  const std::string tls = absl::StrJoin(WithTestTls(BinaryPath("kvsctl"), {}), " ");
  FILE* pipe = popen((BinaryPath("kvsctl") + " " + tls + " " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out->append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(KvsMembershipTest, AddRemoveLeaderAndReplaceUnderLoad) {
  KvsGroupOptions options;
  // Compact often, so that the joining replicas must catch up by snapshot.
  options.extra_flags = {"--snapshot_interval=50", "--log_keep_slots=10"};
  auto started = KvsGroup::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  KvsGroup& group = **started;
  kvs::shard::GroupTarget target;
  target.addresses = Addresses(group);

  // Rows written before any change, and a client whose writes are recorded throughout.
  kvs::ReplicaGroupClient writer(Addresses(group));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(writer.Put(absl::StrCat("before", i), "c", absl::StrCat("v", i)).ok());
  }
  kvs::ReplicaGroupOptions patient;
  patient.deadline = seconds(20);
  // The recording client knows the addresses of the replicas that will join (unreachable
  // until started), so it follows a leader among them.
  const int port4 = FreePort();
  const int port5 = FreePort();
  std::vector<std::string> every = Addresses(group);
  every.push_back(absl::StrCat("127.0.0.1:", port4));
  every.push_back(absl::StrCat("127.0.0.1:", port5));
  kvs::ReplicaGroupClient recorded(every, patient);
  HistoryRecorder recorder(&recorded, /*threads=*/4, /*keys=*/8);
  recorder.Start();
  ASSERT_TRUE(recorder.WaitForMoreWrites(10, seconds(10))) << "no writes before the changes";

  // 1. Replica 4 joins: learner, catch-up by snapshot, voter.
  auto four = group.StartJoining(port4);
  ASSERT_TRUE(four.ok()) << four.status();
  std::vector<std::string> steps;
  kvs::shard::NodeChangeOptions change;
  change.timeout = seconds(30);
  change.progress = [&](std::string_view line) { steps.emplace_back(line); };
  absl::Status added = kvs::shard::AddReplica(
      target, {.id = 4, .address = group.address(*four), .peer_address = ""}, change);
  ASSERT_TRUE(added.ok()) << added;
  const std::map<uint64_t, bool> four_voters{{1, false}, {2, false}, {3, false}, {4, false}};
  EXPECT_EQ(Members(group, four_voters), four_voters);
  // Running it again changes nothing and succeeds (every call is idempotent).
  absl::Status again = kvs::shard::AddReplica(
      target, {.id = 4, .address = group.address(*four), .peer_address = ""}, change);
  ASSERT_TRUE(again.ok()) << again;
  // The same id at another address is refused.
  EXPECT_TRUE(absl::IsAlreadyExists(kvs::shard::AddReplica(
      target, {.id = 4, .address = "127.0.0.1:1", .peer_address = ""}, change)));

  // 2. The leader itself is removed: it steps down once the change governs, and the
  // remaining voters elect a successor.
  target.addresses = Addresses(group);
  auto leader = group.Leader();
  ASSERT_TRUE(leader.ok());
  const uint64_t removed_id = *leader + 1;
  absl::Status removed = kvs::shard::RemoveReplica(target, removed_id, change);
  ASSERT_TRUE(removed.ok()) << removed;
  std::map<uint64_t, bool> members = four_voters;
  members.erase(removed_id);
  EXPECT_EQ(Members(group, members), members);
  group.Kill(*leader);
  auto successor = group.Leader();
  ASSERT_TRUE(successor.ok()) << successor.status();
  EXPECT_NE(*successor, *leader);

  // 3. kvsctl replaces a follower by replica 5 (add, promote, then remove).
  int follower = -1;
  for (int i = 0; i < group.size(); ++i) {
    if (i != *successor && group.running(i)) follower = i;
  }
  ASSERT_GE(follower, 0);
  auto five = group.StartJoining(port5);
  ASSERT_TRUE(five.ok()) << five.status();
  std::string out;
  std::vector<std::string> live;
  for (int i = 0; i < group.size(); ++i) {
    if (group.running(i)) live.push_back(group.address(i));
  }
  const int code = Kvsctl(absl::StrCat("--group=", absl::StrJoin(live, ","), " node replace ",
                                       follower + 1, " 5 ", group.address(*five)),
                          &out);
  EXPECT_EQ(code, 0) << out;
  std::map<uint64_t, bool> expected = members;
  expected.erase(follower + 1);
  expected[5] = false;
  EXPECT_EQ(Members(group, expected), expected) << out;
  EXPECT_NE(out.find("replica 5 is a voter"), std::string::npos) << out;
  group.Kill(follower);

  // kvsctl's usage errors and refusals have their exit codes.
  out.clear();
  EXPECT_EQ(Kvsctl("node add 7 127.0.0.1:1", &out), 2) << out;  // no group named
  out.clear();
  EXPECT_EQ(Kvsctl(absl::StrCat("--group=", group.address(*five), " node add x y"), &out), 2)
      << out;
  out.clear();
  EXPECT_EQ(Kvsctl(absl::StrCat("--group=", group.address(*five), " node frobnicate 1"), &out), 2)
      << out;

  // The group takes writes in its last membership before the history ends.
  EXPECT_TRUE(recorder.WaitForMoreWrites(10, seconds(15))) << "no writes after the changes";
  std::vector<lincheck::Operation> history = recorder.FinishWithFinalReads();
  EXPECT_TRUE(recorder.final_reads_ok());
  EXPECT_GT(recorder.acknowledged_writes(), 50);
  lincheck::CheckResult result = lincheck::CheckKv(history, seconds(30));
  EXPECT_EQ(result.verdict, lincheck::CheckResult::Verdict::kLinearizable)
      << "key " << result.key << ": " << result.explanation;

  // Everything written before is readable through the new membership.
  kvs::ReplicaGroupClient reader(live);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(reader.Get(absl::StrCat("before", i), "c").value_or("?"), absl::StrCat("v", i));
  }
  EXPECT_FALSE(steps.empty());
}

}  // namespace
}  // namespace penncloud::testing
