// Launch records: how the coordinator can stop and start processes it did not start.
//
// Whoever launches a PennCloud process (scripts/lib/cluster.sh, tests/e2e/cluster.js, the
// tests/support fixtures, the coordinator itself for new replicas) writes
// `<run_dir>/<name>.json`:
//
//   {"name", "tier", "address", "argv": [...], "cwd", "log", "pid"}
//
// `address` is the host:port the process serves its clients on; it is how a record is
// matched to a node of the admin console. "pid" is kept current on every restart.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace penncloud::coordinator {

struct LaunchRecord {
  std::string name;
  std::string tier;     // "kvs", "frontend", "smtp", "pop3", "imap", "coordinator"
  std::string address;  // host:port served to clients
  std::vector<std::string> argv;
  std::string cwd;
  std::string log;  // stdout and stderr are appended here
  pid_t pid = 0;
};

absl::StatusOr<LaunchRecord> ParseLaunchRecord(const std::string& json_text);
std::string FormatLaunchRecord(const LaunchRecord& record);

// Every readable record in `run_dir` (unreadable or malformed files are skipped and logged).
std::vector<LaunchRecord> ReadLaunchRecords(const std::string& run_dir);

// Writes `<run_dir>/<record.name>.json` atomically (temporary file + rename), and keeps a
// `<name>.pid` file beside it current if one exists (scripts/stop.sh reads those).
absl::Status WriteLaunchRecord(const std::string& run_dir, const LaunchRecord& record);

}  // namespace penncloud::coordinator
