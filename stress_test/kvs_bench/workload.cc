#include "stress_test/kvs_bench/workload.h"

#include <sys/resource.h>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "stress_test/kvs_bench/proc_cpu.h"

namespace penncloud::bench {
namespace {

using Clock = std::chrono::steady_clock;

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int64_t UnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ClientResult {
  std::vector<uint32_t> read_micros, write_micros;
  uint64_t read_errors = 0, write_errors = 0, wrong_reads = 0, preload_errors = 0;
  std::vector<int64_t> completions_unix_us;
  std::string first_error;
};

// One benchmark client: its own keys, values unique per write (a counter up front, then
// filler to the requested size) so a read can be checked against the last write.
class BenchClient {
 public:
  BenchClient(Target& target, const WorkloadOptions& o, int id, ClientResult& out)
      : target_(target), o_(o), id_(id), out_(out), rng_(o.seed * 7919 + id) {
    for (int k = 0; k < o.keys_per_client; ++k) {
      keys_.push_back(o.key_prefix + "/" + std::to_string(id) + "/" + std::to_string(k));
    }
    last_.resize(keys_.size());
    std::uniform_int_distribution<int> letter('a', 'z');
    filler_.resize(o.value_size);
    for (char& c : filler_) c = static_cast<char>(letter(rng_));
  }

  void Preload() {
    for (size_t k = 0; k < keys_.size(); ++k) {
      std::string value = NextValue();
      if (target_.Put(id_, keys_[k], value).ok()) {
        last_[k] = std::move(value);
      } else {
        ++out_.preload_errors;
      }
    }
  }

  void Run(Clock::time_point measure_from, Clock::time_point end) {
    std::uniform_real_distribution<double> coin(0, 1);
    std::uniform_int_distribution<size_t> pick(0, keys_.size() - 1);
    while (true) {
      const Clock::time_point t0 = Clock::now();
      if (t0 >= end) break;
      const bool read = coin(rng_) < o_.read_fraction;
      const size_t k = pick(rng_);
      absl::Status status;
      if (read) {
        absl::StatusOr<std::optional<std::string>> got = target_.Get(id_, keys_[k]);
        status = got.status();
        if (got.ok() && last_[k] && *got != last_[k]) ++out_.wrong_reads;
      } else {
        std::string value = NextValue();
        status = target_.Put(id_, keys_[k], value);
        if (status.ok()) {
          last_[k] = std::move(value);
        } else {
          last_[k].reset();  // outcome unknown until the next successful write
        }
      }
      const Clock::time_point t1 = Clock::now();
      if (status.ok()) out_.completions_unix_us.push_back(UnixMicros());
      const bool measured = t0 >= measure_from && t1 <= end;
      if (!status.ok()) {
        if (out_.first_error.empty()) out_.first_error = status.ToString();
        if (measured) ++(read ? out_.read_errors : out_.write_errors);
        // A failing target answers at once; do not spin on it.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (measured) {
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0);
        (read ? out_.read_micros : out_.write_micros)
            .push_back(static_cast<uint32_t>(std::min<int64_t>(micros.count(), UINT32_MAX)));
      }
    }
  }

 private:
  std::string NextValue() {
    std::string value = std::to_string(id_) + ":" + std::to_string(++counter_) + ":";
    if (value.size() < o_.value_size) value.append(filler_, 0, o_.value_size - value.size());
    return value;
  }

  Target& target_;
  const WorkloadOptions& o_;
  const int id_;
  ClientResult& out_;
  std::mt19937_64 rng_;
  std::vector<std::string> keys_;
  std::vector<std::optional<std::string>> last_;  // nullopt: unknown, do not judge reads
  std::string filler_;
  uint64_t counter_ = 0;
};

template <typename Fn>
void OnEveryClient(int n, Fn fn) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(fn, i);
  for (std::thread& t : threads) t.join();
}

nlohmann::json LatencyJson(const OpStats& s) {
  return {{"ok", s.ok},
          {"errors", s.errors},
          {"mean_ms", s.latency.mean_ms},
          {"p50_ms", s.latency.p50_ms},
          {"p99_ms", s.latency.p99_ms},
          {"p999_ms", s.latency.p999_ms},
          {"max_ms", s.latency.max_ms}};
}

}  // namespace

Report RunWorkload(Target& target, const WorkloadOptions& options) {
  Report report;
  report.options = options;
  std::vector<ClientResult> results(options.clients);
  std::vector<std::unique_ptr<BenchClient>> clients;
  for (int i = 0; i < options.clients; ++i) {
    clients.push_back(std::make_unique<BenchClient>(target, options, i, results[i]));
  }
  OnEveryClient(options.clients, [&](int i) { clients[i]->Preload(); });

  const Clock::time_point start = Clock::now();
  const double cpu_start = CpuSeconds();
  const Clock::time_point measure_from = start + options.warmup;
  const Clock::time_point end = measure_from + options.duration;
  // The servers' CPU is sampled at the edges of the measured window, like the latencies.
  std::optional<double> server_cpu_from, server_cpu_to;
  std::thread server_sampler;
  if (!options.server_pids.empty()) {
    server_sampler = std::thread([&] {
      std::this_thread::sleep_until(measure_from);
      server_cpu_from = TotalCpuSeconds(options.server_pids);
      std::this_thread::sleep_until(end);
      server_cpu_to = TotalCpuSeconds(options.server_pids);
    });
  }
  OnEveryClient(options.clients, [&](int i) { clients[i]->Run(measure_from, end); });
  if (server_sampler.joinable()) server_sampler.join();
  report.bench_cpu_percent = 100 * (CpuSeconds() - cpu_start) /
                             std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<uint32_t> all, reads, writes;
  std::vector<int64_t> completions;
  for (ClientResult& r : results) {
    reads.insert(reads.end(), r.read_micros.begin(), r.read_micros.end());
    writes.insert(writes.end(), r.write_micros.begin(), r.write_micros.end());
    completions.insert(completions.end(), r.completions_unix_us.begin(),
                       r.completions_unix_us.end());
    report.reads.errors += r.read_errors;
    report.writes.errors += r.write_errors;
    report.wrong_reads += r.wrong_reads;
    report.preload_errors += r.preload_errors;
    if (report.first_error.empty()) report.first_error = r.first_error;
  }
  all = reads;
  all.insert(all.end(), writes.begin(), writes.end());
  report.reads.ok = reads.size();
  report.writes.ok = writes.size();
  report.all.ok = all.size();
  report.all.errors = report.reads.errors + report.writes.errors;
  report.reads.latency = Summarize(reads);
  report.writes.latency = Summarize(writes);
  report.all.latency = Summarize(all);
  report.measured_seconds = std::chrono::duration<double>(options.duration).count();
  report.throughput = static_cast<double>(report.all.ok) / report.measured_seconds;
  if (server_cpu_from && server_cpu_to) {
    report.server_cpu_seconds = *server_cpu_to - *server_cpu_from;
    if (report.all.ok > 0) {
      report.server_cpu_us_per_op =
          1e6 * report.server_cpu_seconds / static_cast<double>(report.all.ok);
    }
  }

  std::sort(completions.begin(), completions.end());
  for (size_t i = 1; i < completions.size(); ++i) {
    const int64_t gap = completions[i] - completions[i - 1];
    if (gap > report.longest_gap_us) {
      report.longest_gap_us = gap;
      report.gap_start_unix_us = completions[i - 1];
      report.gap_end_unix_us = completions[i];
    }
  }
  report.completions_unix_us = std::move(completions);
  return report;
}

std::string FormatReport(const Report& r, const std::string& target_name) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(2);
  out << target_name << ": " << r.options.clients << " clients, " << r.options.value_size
      << " B values, " << r.options.read_fraction * 100 << "% reads, " << r.measured_seconds
      << " s measured\n";
  out << "  throughput " << r.throughput << " ops/s (" << r.all.ok << " ok, " << r.all.errors
      << " errors, " << r.wrong_reads << " wrong reads)\n";
  auto line = [&](const char* what, const OpStats& s) {
    if (s.ok == 0) return;
    out << "  " << what << " latency ms: p50 " << s.latency.p50_ms << "  p99 " << s.latency.p99_ms
        << "  p99.9 " << s.latency.p999_ms << "  max " << s.latency.max_ms << "  (" << s.ok
        << " ops)\n";
  };
  line("all  ", r.all);
  line("read ", r.reads);
  line("write", r.writes);
  out << "  kvs_bench itself used " << r.bench_cpu_percent << "% of a core\n";
  if (r.server_cpu_seconds >= 0) {
    out << "  servers used " << r.server_cpu_seconds << " CPU s in the measured window, "
        << r.server_cpu_us_per_op << " us per operation\n";
  }
  out << "  longest gap between acknowledged ops: " << r.longest_gap_us / 1000.0 << " ms\n";
  if (!r.first_error.empty()) out << "  first error: " << r.first_error << "\n";
  return out.str();
}

std::string ReportJson(const Report& r, const std::string& target_name) {
  nlohmann::json j = {{"target", target_name},
                      {"clients", r.options.clients},
                      {"value_size", r.options.value_size},
                      {"read_fraction", r.options.read_fraction},
                      {"seconds", r.measured_seconds},
                      {"throughput", r.throughput},
                      {"ok", r.all.ok},
                      {"errors", r.all.errors},
                      {"preload_errors", r.preload_errors},
                      {"wrong_reads", r.wrong_reads},
                      {"p50_ms", r.all.latency.p50_ms},
                      {"p99_ms", r.all.latency.p99_ms},
                      {"p999_ms", r.all.latency.p999_ms},
                      {"reads", LatencyJson(r.reads)},
                      {"writes", LatencyJson(r.writes)},
                      {"bench_cpu_percent", r.bench_cpu_percent},
                      {"server_cpu_seconds", r.server_cpu_seconds},
                      {"server_cpu_us_per_op", r.server_cpu_us_per_op},
                      {"longest_gap_ms", r.longest_gap_us / 1000.0},
                      {"gap_start_unix_us", r.gap_start_unix_us},
                      {"gap_end_unix_us", r.gap_end_unix_us}};
  return j.dump();
}

}  // namespace penncloud::bench
