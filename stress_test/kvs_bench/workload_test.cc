#include "stress_test/kvs_bench/workload.h"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"
#include "kvs/client/memory_client.h"
#include "nlohmann/json.hpp"
#include "stress_test/kvs_bench/proc_cpu.h"

namespace penncloud::bench {
namespace {

std::unique_ptr<Target> MemoryTarget(kvs::MemoryClient** raw) {
  auto memory = std::make_unique<kvs::MemoryClient>();
  *raw = memory.get();
  std::vector<std::unique_ptr<kvs::Client>> clients;
  clients.push_back(std::move(memory));
  return MakePennCloudTarget(std::move(clients));
}

WorkloadOptions Short() {
  WorkloadOptions o;
  o.clients = 4;
  o.keys_per_client = 8;
  o.warmup = std::chrono::milliseconds(50);
  o.duration = std::chrono::milliseconds(300);
  return o;
}

TEST(Summarize, NearestRankPercentiles) {
  std::vector<uint32_t> micros;
  for (uint32_t i = 1000; i >= 1; --i) micros.push_back(i * 1000);  // 1..1000 ms, reversed
  LatencySummary s = Summarize(micros);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 500);
  EXPECT_DOUBLE_EQ(s.p99_ms, 990);
  EXPECT_DOUBLE_EQ(s.p999_ms, 999);
  EXPECT_DOUBLE_EQ(s.max_ms, 1000);
  EXPECT_DOUBLE_EQ(s.mean_ms, 500.5);
  std::vector<uint32_t> empty;
  EXPECT_EQ(Summarize(empty).count, 0u);
}

TEST(RunWorkload, MixesReadsAndWritesAsAsked) {
  kvs::MemoryClient* memory;
  auto target = MemoryTarget(&memory);
  WorkloadOptions o = Short();
  o.read_fraction = 0.9;
  Report r = RunWorkload(*target, o);
  EXPECT_GT(r.all.ok, 1000u);
  EXPECT_EQ(r.all.errors, 0u);
  EXPECT_EQ(r.wrong_reads, 0u);
  const double reads = static_cast<double>(r.reads.ok) / static_cast<double>(r.all.ok);
  EXPECT_NEAR(reads, 0.9, 0.03);
  EXPECT_EQ(memory->CellCount(), 4u * 8u);
  EXPECT_LE(r.all.latency.p50_ms, r.all.latency.p99_ms);
  EXPECT_LE(r.all.latency.p99_ms, r.all.latency.p999_ms);
  EXPECT_NEAR(r.throughput, static_cast<double>(r.all.ok) / 0.3, 1);
  nlohmann::json j = nlohmann::json::parse(ReportJson(r, "memory"));
  EXPECT_EQ(j["target"], "memory");
  EXPECT_EQ(j["ok"], r.all.ok);
  EXPECT_GT(r.bench_cpu_percent, 0);
}

TEST(RunWorkload, WritesOnlyWriteValuesOfTheRequestedSize) {
  kvs::MemoryClient* memory;
  auto target = MemoryTarget(&memory);
  WorkloadOptions o = Short();
  o.value_size = 200;
  Report r = RunWorkload(*target, o);
  EXPECT_EQ(r.reads.ok, 0u);
  EXPECT_GT(r.writes.ok, 100u);
  auto value = memory->Get("bench/0/0", "v");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->size(), 200u);
}

// A store that loses every tenth write while acknowledging it: the benchmark's read check
// must notice.
class LossyTarget final : public Target {
 public:
  absl::Status Put(int, const std::string& key, const std::string& value) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (++writes_ % 10 != 0) cells_[key] = value;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> Get(int, const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cells_.find(key);
    if (it == cells_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

 private:
  std::mutex mu_;
  uint64_t writes_ = 0;
  std::map<std::string, std::string> cells_;
};

TEST(RunWorkload, CountsReadsThatMissAcknowledgedWrites) {
  LossyTarget target;
  WorkloadOptions o = Short();
  o.read_fraction = 0.5;
  Report r = RunWorkload(target, o);
  EXPECT_GT(r.wrong_reads, 0u);
}

TEST(RunWorkload, CountsErrorsAndReportsTheGap) {
  kvs::MemoryClient* memory;
  auto target = MemoryTarget(&memory);
  WorkloadOptions o = Short();
  o.duration = std::chrono::milliseconds(600);
  std::thread outage([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    memory->SetUnavailable(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    memory->SetUnavailable(false);
  });
  Report r = RunWorkload(*target, o);
  outage.join();
  EXPECT_GT(r.all.errors, 0u);
  EXPECT_GT(r.all.ok, 0u);
  EXPECT_GE(r.longest_gap_us, 150000);
  EXPECT_LT(r.longest_gap_us, 400000);
  EXPECT_EQ(r.gap_end_unix_us - r.gap_start_unix_us, r.longest_gap_us);
  EXPECT_FALSE(r.first_error.empty());
}

TEST(ProcCpu, CountsTheCpuAProcessBurns) {
  const std::optional<double> before = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(before.has_value());
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  volatile uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  const std::optional<double> after = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(after.has_value());
  // Clock ticks are 10 ms; a loaded machine may give the spin only part of a core.
  EXPECT_GE(*after - *before, 0.05);
  EXPECT_FALSE(TotalCpuSeconds({getpid(), 0}).has_value());
}

TEST(ProcCpu, ParsesPidListsAndRefusesGarbage) {
  EXPECT_EQ(*ParsePids("12, 34"), (std::vector<int>{12, 34}));
  EXPECT_TRUE(ParsePids("")->empty());
  EXPECT_FALSE(ParsePids("12,x").ok());
  EXPECT_FALSE(ParsePids("-3").ok());
}

TEST(RunWorkload, ReportsTheServersCpuPerOperation) {
  kvs::MemoryClient* memory;
  auto target = MemoryTarget(&memory);
  WorkloadOptions o = Short();
  o.server_pids = {getpid()};  // the in-memory "server" runs in this process
  Report r = RunWorkload(*target, o);
  EXPECT_GT(r.server_cpu_seconds, 0);
  EXPECT_NEAR(r.server_cpu_us_per_op, 1e6 * r.server_cpu_seconds / r.all.ok, 1e-6);
  nlohmann::json j = nlohmann::json::parse(ReportJson(r, "memory"));
  EXPECT_EQ(j["server_cpu_us_per_op"], r.server_cpu_us_per_op);
  o.server_pids = {};
  EXPECT_LT(RunWorkload(*target, o).server_cpu_seconds, 0);
}

}  // namespace
}  // namespace penncloud::bench
