// The closed-loop workload kvs_bench runs against a Target: N clients, each issuing one
// operation at a time, a read/write mix over keys the client itself wrote before.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "stress_test/kvs_bench/latency.h"
#include "stress_test/kvs_bench/target.h"

namespace penncloud::bench {

struct WorkloadOptions {
  int clients = 64;
  size_t value_size = 128;
  double read_fraction = 0.0;  // reads among all operations, 0..1
  int keys_per_client = 32;    // each client writes these first, then reads/overwrites them
  std::chrono::milliseconds warmup{2000};
  std::chrono::milliseconds duration{20000};
  std::string key_prefix = "bench";
  uint64_t seed = 1;
  // The servers under test: their CPU seconds over the measured window are reported.
  std::vector<int> server_pids;
};

struct OpStats {
  uint64_t ok = 0;
  uint64_t errors = 0;
  LatencySummary latency;  // successful operations only
};

struct Report {
  WorkloadOptions options;
  double measured_seconds = 0;
  double throughput = 0;  // successful operations per second in the measured window
  OpStats all, reads, writes;
  // A read that did not return the value its own client last wrote (each key has a single
  // writer, so a linearizable store never does this). Reads after a failed write, whose
  // outcome is unknown, are not judged.
  uint64_t wrong_reads = 0;
  std::string first_error;
  // The longest time between two consecutive successful completions (over all clients,
  // warm-up included), with its ends as Unix microseconds: a failover shows up here.
  int64_t longest_gap_us = 0;
  int64_t gap_start_unix_us = 0;
  int64_t gap_end_unix_us = 0;
  uint64_t preload_errors = 0;
  // CPU the benchmark process itself used during warm-up and measurement, in percent of one
  // core: on a shared machine this is taken from the system under test.
  double bench_cpu_percent = 0;
  // CPU seconds the `server_pids` used during the measured window, and per successful
  // operation in microseconds; negative when not measured (no pids, or one died).
  double server_cpu_seconds = -1;
  double server_cpu_us_per_op = -1;
  // Every successful completion (Unix microseconds, sorted), for failover measurements.
  std::vector<int64_t> completions_unix_us;
};

Report RunWorkload(Target& target, const WorkloadOptions& options);

// Human-readable lines, and one line of JSON for scripts.
std::string FormatReport(const Report& report, const std::string& target_name);
std::string ReportJson(const Report& report, const std::string& target_name);

}  // namespace penncloud::bench
