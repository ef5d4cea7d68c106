// kvs_bench against real servers for a second each: a PennCloud group, and (when installed)
// a one-member etcd, which checks that our etcd proto really matches etcd's wire format.
#include <unistd.h>

#include "gtest/gtest.h"
#include "kvs/client/connect.h"
#include "stress_test/kvs_bench/target.h"
#include "stress_test/kvs_bench/workload.h"
#include "tests/support/kvs_group.h"
#include "tests/support/process.h"

namespace penncloud::bench {
namespace {

constexpr char kEtcd[] = "/usr/bin/etcd";

WorkloadOptions Smoke() {
  WorkloadOptions o;
  o.clients = 4;
  o.keys_per_client = 8;
  o.read_fraction = 0.5;
  o.warmup = std::chrono::milliseconds(200);
  o.duration = std::chrono::milliseconds(1000);
  return o;
}

void ExpectHealthyRun(Target& target) {
  Report r = RunWorkload(target, Smoke());
  EXPECT_GT(r.reads.ok, 20u);
  EXPECT_GT(r.writes.ok, 20u);
  EXPECT_EQ(r.all.errors, 0u) << r.first_error;
  EXPECT_EQ(r.preload_errors, 0u) << r.first_error;
  EXPECT_EQ(r.wrong_reads, 0u);
}

void ExpectRoundTrip(Target& target) {
  const std::string value(300, 'x');
  ASSERT_TRUE(target.Put(0, "smoke/key", value).ok());
  auto got = target.Get(0, "smoke/key");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, value);
  auto missing = target.Get(0, "smoke/never-written");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
}

TEST(BenchSmoke, PennCloudGroup) {
  auto group = testing::KvsGroup::Start();
  ASSERT_TRUE(group.ok()) << group.status();
  std::vector<std::unique_ptr<kvs::Client>> clients;
  auto client = kvs::Connect((*group)->spec());
  ASSERT_TRUE(client.ok()) << client.status();
  clients.push_back(*std::move(client));
  auto target = MakePennCloudTarget(std::move(clients));
  ExpectRoundTrip(*target);
  ExpectHealthyRun(*target);
}

TEST(BenchSmoke, Etcd) {
  if (access(kEtcd, X_OK) != 0) GTEST_SKIP() << "etcd not installed (scripts/setup.sh --bench)";
  const std::string dir = testing::TempDir("bench-smoke-etcd");
  const int client_port = testing::FreePort();
  const int peer_port = testing::FreePort();
  const std::string client_url = "http://127.0.0.1:" + std::to_string(client_port);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
  auto etcd = testing::Process::Start(
      kEtcd,
      {"--name", "smoke", "--data-dir", dir + "/data", "--listen-client-urls", client_url,
       "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url,
       "--initial-advertise-peer-urls", peer_url, "--initial-cluster", "smoke=" + peer_url},
      dir + "/etcd.log");
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  ASSERT_TRUE(testing::WaitForPort(client_port));
  auto target = MakeEtcdTarget({"127.0.0.1:" + std::to_string(client_port)}, 2);
  // The port opens a moment before etcd serves; the first Put may need a retry.
  absl::Status put = absl::UnavailableError("not tried");
  for (int i = 0; i < 50 && !put.ok(); ++i) {
    put = target->Put(0, "smoke/ready", "1");
    if (!put.ok()) usleep(100 * 1000);
  }
  ASSERT_TRUE(put.ok()) << put;
  ExpectRoundTrip(*target);
  ExpectHealthyRun(*target);
  etcd->Terminate();
  etcd->Wait();
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace penncloud::bench
