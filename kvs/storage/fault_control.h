// Drives a FaultFileSystem from a small text file, so that a test can break a running
// kvs_server's disk (kvs_server --fault_fs_control; test only, never used by start.sh).
//
// The file holds words separated by white space; the file system's faults follow the
// words present, read every few milliseconds:
//   sync_fails   every sync fails with EIO (fault_fs.h DiskFaults)
//   no_space     every write fails with ENOSPC
//   crash        lose everything not synced and exit at once with kCrashExitCode
// A missing or empty file means no faults. Once the faults of a new text are in force the
// watcher copies the text to <file>.seen, so a test can wait for them.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "kvs/storage/fault_fs.h"

namespace penncloud::kvs::storage {

class FaultControl {
 public:
  static constexpr int kCrashExitCode = 99;

  FaultControl(std::string path, std::shared_ptr<FaultFileSystem> fs);
  ~FaultControl();
  FaultControl(const FaultControl&) = delete;
  FaultControl& operator=(const FaultControl&) = delete;

  // Reads the file once and applies it (the watcher does this every few milliseconds).
  void Poll();

 private:
  const std::string path_;
  const std::shared_ptr<FaultFileSystem> fs_;
  std::optional<std::string> seen_;  // the text last applied (the polling thread's)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread watcher_;
};

}  // namespace penncloud::kvs::storage
