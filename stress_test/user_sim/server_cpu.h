// The CPU the servers spend while a level is measured, read from /proc/<pid>/stat at the
// level's start and end, so a figure per step covers exactly the steps the level counts
// (not the sign-ups before it, nor the users still arriving).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::sim {

struct ServerProcess {
  std::string name;  // as the caller names it (frontend-1, kvs-g1-r2, ...)
  int pid;
};

// Parses "name=pid,name=pid"; an error names the bad element.
absl::StatusOr<std::vector<ServerProcess>> ParseServerProcesses(const std::string& text);

// CPU seconds (user + system) each process has used so far, in the order given; a process
// that is gone reads as -1.
std::vector<double> SampleCpuSeconds(const std::vector<ServerProcess>& processes);

}  // namespace penncloud::sim
