#include "stress_test/user_sim/server_cpu.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "stress_test/kvs_bench/proc_cpu.h"

namespace penncloud::sim {

absl::StatusOr<std::vector<ServerProcess>> ParseServerProcesses(const std::string& text) {
  std::vector<ServerProcess> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> name_pid = absl::StrSplit(part, '=');
    int pid = 0;
    if (name_pid.size() != 2 || name_pid[0].empty() || !absl::SimpleAtoi(name_pid[1], &pid) ||
        pid <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("want name=pid, got '", part, "'"));
    }
    out.push_back({std::string(name_pid[0]), pid});
  }
  return out;
}

std::vector<double> SampleCpuSeconds(const std::vector<ServerProcess>& processes) {
  std::vector<double> seconds;
  seconds.reserve(processes.size());
  for (const ServerProcess& p : processes) {
    seconds.push_back(bench::ProcessCpuSeconds(p.pid).value_or(-1));
  }
  return seconds;
}

}  // namespace penncloud::sim
