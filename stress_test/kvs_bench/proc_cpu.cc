#include "stress_test/kvs_bench/proc_cpu.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace penncloud::bench {

std::optional<double> ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: fields are counted
  // from the last ')'. utime and stime are fields 14 and 15, in clock ticks.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  double ticks = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n < 14) continue;
    double value = 0;
    if (!absl::SimpleAtod(field, &value)) return std::nullopt;
    ticks += value;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::optional<double> TotalCpuSeconds(const std::vector<int>& pids) {
  double total = 0;
  for (int pid : pids) {
    std::optional<double> seconds = ProcessCpuSeconds(pid);
    if (!seconds) return std::nullopt;
    total += *seconds;
  }
  return total;
}

absl::StatusOr<std::vector<int>> ParsePids(const std::string& text) {
  std::vector<int> pids;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int pid = 0;
    if (!absl::SimpleAtoi(part, &pid) || pid <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("not a process id: '", part, "'"));
    }
    pids.push_back(pid);
  }
  return pids;
}

}  // namespace penncloud::bench
