#include "stress_test/user_sim/recorder.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ostream>

namespace penncloud::sim {

std::string_view OpName(Op op) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Op::kCount)> kNames = {
      "signup",     "login",  "list_inbox", "read_mail", "send_mail",
      "list_drive", "upload", "download",   "verify"};
  return kNames[static_cast<size_t>(op)];
}

std::string_view OutcomeName(Outcome outcome) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Outcome::kCount)> kNames = {
      "ok", "busy_503", "http_error", "transport", "timeout", "bad_content"};
  return kNames[static_cast<size_t>(outcome)];
}

std::vector<Record> Merge(const std::vector<Recorder>& recorders) {
  std::vector<Record> all;
  for (const auto& r : recorders) all.insert(all.end(), r.records().begin(), r.records().end());
  std::sort(all.begin(), all.end(),
            [](const Record& a, const Record& b) { return a.start_us < b.start_us; });
  return all;
}

void WriteCsv(const std::vector<Record>& records, std::ostream& out) {
  out << "start_us,latency_us,user,level,op,status,outcome,attempts\n";
  char line[160];
  for (const Record& r : records) {
    int n = std::snprintf(line, sizeof line, "%lld,%d,%d,%d,%s,%d,%s,%d\n",
                          static_cast<long long>(r.start_us), r.latency_us, r.user, r.level,
                          OpName(r.op).data(), r.status, OutcomeName(r.outcome).data(), r.attempts);
    out.write(line, n);
  }
}

namespace {

// Latency and outcome figures of one slice of the records.
class Stats {
 public:
  void Add(const Record& r) {
    ++outcomes_[static_cast<size_t>(r.outcome)];
    if (r.attempts > 1) ++retried_;
    if (r.outcome == Outcome::kOk) latencies_.push_back(r.latency_us);
  }

  nlohmann::json ToJson(double seconds) {
    std::sort(latencies_.begin(), latencies_.end());
    int64_t total = 0;
    for (int64_t v : outcomes_) total += v;
    int64_t ok = outcomes_[0];
    nlohmann::json j = {
        {"requests", total}, {"ok", ok}, {"failed", total - ok}, {"retried", retried_}};
    for (size_t i = 1; i < outcomes_.size(); ++i) {
      if (outcomes_[i])
        j["outcomes"][std::string(OutcomeName(static_cast<Outcome>(i)))] = outcomes_[i];
    }
    if (seconds > 0) j["ok_per_s"] = ok / seconds;
    if (!latencies_.empty()) {
      double sum = 0;
      for (int32_t v : latencies_) sum += v;
      j["mean_ms"] = sum / latencies_.size() / 1000.0;
      j["p50_ms"] = Quantile(0.50);
      j["p90_ms"] = Quantile(0.90);
      j["p99_ms"] = Quantile(0.99);
      j["p999_ms"] = Quantile(0.999);
      j["max_ms"] = latencies_.back() / 1000.0;
    }
    return j;
  }

 private:
  double Quantile(double q) const {
    size_t i = static_cast<size_t>(q * (latencies_.size() - 1) + 0.5);
    return latencies_[std::min(i, latencies_.size() - 1)] / 1000.0;
  }

  std::array<int64_t, static_cast<size_t>(Outcome::kCount)> outcomes_{};
  int64_t retried_ = 0;
  std::vector<int32_t> latencies_;
};

}  // namespace

nlohmann::json Summarize(const std::vector<Record>& records, const std::vector<LevelInfo>& levels) {
  nlohmann::json out;
  std::vector<Stats> per_level(levels.size());
  std::array<Stats, static_cast<size_t>(Op::kCount)> per_op;
  Stats total;
  int64_t first = records.empty() ? 0 : records.front().start_us;
  int64_t last = first;
  for (const Record& r : records) {
    total.Add(r);
    per_op[static_cast<size_t>(r.op)].Add(r);
    last = std::max<int64_t>(last, r.start_us + r.latency_us);
    if (r.op == Op::kSignup || r.op == Op::kLogin || r.op == Op::kVerify) continue;
    if (r.level < levels.size()) per_level[r.level].Add(r);
  }
  for (size_t i = 0; i < levels.size(); ++i) {
    double secs = (levels[i].end_us - levels[i].begin_us) / 1e6;
    nlohmann::json j = per_level[i].ToJson(secs);
    j["users"] = levels[i].users;
    j["seconds"] = secs;
    for (const auto& [name, seconds] : levels[i].server_cpu_s) {
      j["server_cpu_ms"][name] = seconds * 1000;
    }
    out["levels"].push_back(j);
  }
  for (size_t i = 0; i < per_op.size(); ++i) {
    nlohmann::json j = per_op[i].ToJson(0);
    if (j["requests"] != 0) out["ops"][std::string(OpName(static_cast<Op>(i)))] = j;
  }
  out["total"] = total.ToJson((last - first) / 1e6);
  return out;
}

void PrintSummary(const nlohmann::json& s, std::ostream& out) {
  char line[256];
  auto row = [&](const std::string& name, const nlohmann::json& j) {
    auto num = [&](const char* k) { return j.contains(k) ? j[k].get<double>() : 0.0; };
    std::snprintf(line, sizeof line, "%-14s %9lld %7lld %8.0f %8.1f %8.1f %8.1f %8.1f %9.1f  %s\n",
                  name.c_str(), j["requests"].get<long long>(), j["failed"].get<long long>(),
                  num("ok_per_s"), num("mean_ms"), num("p50_ms"), num("p99_ms"), num("p999_ms"),
                  num("max_ms"), j.contains("outcomes") ? j["outcomes"].dump().c_str() : "");
    out << line;
  };
  std::snprintf(line, sizeof line, "%-14s %9s %7s %8s %8s %8s %8s %8s %9s\n", "", "requests",
                "failed", "ok/s", "mean_ms", "p50_ms", "p99_ms", "p999_ms", "max_ms");
  out << line;
  if (s.contains("levels")) {
    for (const auto& l : s["levels"]) {
      row(std::to_string(l["users"].get<int>()) + " users", l);
      if (!l.contains("server_cpu_ms") || l["ok"].get<int64_t>() == 0) continue;
      double total = 0;
      for (const auto& [name, ms] : l["server_cpu_ms"].items()) total += ms.get<double>();
      std::snprintf(line, sizeof line, "%-14s server CPU %.2f ms per ok step\n", "",
                    total / l["ok"].get<double>());
      out << line;
    }
  }
  if (s.contains("ops")) {
    for (const auto& [name, j] : s["ops"].items()) row("  " + name, j);
  }
  row("total", s["total"]);
}

}  // namespace penncloud::sim
