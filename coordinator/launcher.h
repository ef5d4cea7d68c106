// Stops and starts PennCloud processes from their launch records (launch_record.h), for the
// admin console's fault controls.
//
// Stop is a crash: SIGKILL on the recorded pid, so the process loses its memory and every
// connection at once. Before signalling, /proc/<pid>/cmdline must equal the recorded argv:
// a pid the kernel has since handed to an unrelated process is never touched.
// Start runs the recorded argv again in the recorded cwd, appending to the recorded log,
// detached in a session of its own (so it outlives the coordinator), and records its pid.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/launch_record.h"

namespace penncloud::coordinator {

class Launcher {
 public:
  // An empty `run_dir` disables the launcher: nothing can be stopped or started.
  explicit Launcher(std::string run_dir) : run_dir_(std::move(run_dir)) {}

  bool enabled() const { return !run_dir_.empty(); }
  const std::string& run_dir() const { return run_dir_; }

  // The records on disk now (read fresh: scripts and tests rewrite them on restart).
  std::vector<LaunchRecord> Records() const;
  // The record of the process serving `address` for `tier`, if any.
  std::optional<LaunchRecord> Find(const std::string& tier, const std::string& address) const;

  // Whether the recorded pid is alive and still runs the recorded argv.
  static bool IsRunning(const LaunchRecord& record);

  // kFailedPrecondition if the process is not running; waits (bounded) until it is gone.
  absl::Status Stop(const LaunchRecord& record);
  // kFailedPrecondition if it is running. Returns the record with the new pid (written).
  absl::StatusOr<LaunchRecord> Start(LaunchRecord record);

 private:
  const std::string run_dir_;
  std::mutex mu_;  // one stop/start at a time, so two clicks cannot start a node twice
};

// Runs argv detached (own session, stdin /dev/null, stdout+stderr appended to `log`,
// no inherited descriptors) and returns its pid. The caller does not have to reap it.
absl::StatusOr<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& cwd,
                                    const std::string& log);

}  // namespace penncloud::coordinator
