// CPU time of other processes (the servers under test), read from /proc/PID/stat. On a
// shared machine throughput swings with everyone else's load; the servers' CPU seconds per
// operation does much less, so kvs_bench reports it beside the throughput.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::bench {

// User + system CPU seconds a process has used so far; nullopt if it is gone.
std::optional<double> ProcessCpuSeconds(int pid);

// The sum over `pids`; nullopt if any of them is gone (a measurement over a window in which
// a server died would undercount).
std::optional<double> TotalCpuSeconds(const std::vector<int>& pids);

// Parses "123,456" into pids; an error names the bad element.
absl::StatusOr<std::vector<int>> ParsePids(const std::string& text);

}  // namespace penncloud::bench
