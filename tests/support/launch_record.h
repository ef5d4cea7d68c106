// Launch records for processes a test starts (docs/admin.md): `<run_dir>/<name>.json` with
// name, tier, address, argv, cwd, log and pid, so a coordinator started with --run_dir can
// stop and start them from its admin console, exactly as for scripts/start.sh's processes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace penncloud::testing {

struct LaunchRecordInfo {
  std::string name;     // file name without .json, e.g. "kvs-g1-r2"
  std::string tier;     // "kvs", "frontend", "smtp", "pop3"
  std::string address;  // host:port served to clients
  std::string binary;   // argv[0], as Process::Start runs it
  std::vector<std::string> args;
  std::string log;
  pid_t pid = 0;
};

absl::Status WriteLaunchRecord(const std::string& run_dir, const LaunchRecordInfo& info);

// SIGKILLs every process a record in `run_dir` names whose command line still matches the
// record (for instance those a coordinator restarted, which are not the test's children).
void KillRecordedProcesses(const std::string& run_dir);

}  // namespace penncloud::testing
