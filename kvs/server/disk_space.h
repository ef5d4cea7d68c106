// Whether a replica's disk has room for more writes, so that a leader can refuse a client
// write with a clear error (RESOURCE_EXHAUSTED) while its disk is nearly full, instead of
// accepting it and aborting when the persist finds no space (docs/kvs.md "Disk faults").
// The leader's client service asks CheckWritable() before it hands a write to the loop
// (--disk_reserve_mb).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace penncloud::kvs::server {

class DiskSpace {
 public:
  // Writes are refused while fewer than `reserve_bytes` are free under `dir`; the free
  // space is read (through storage::DiskFileSystem()) at most once per `refresh`.
  DiskSpace(std::string dir, uint64_t reserve_bytes,
            std::chrono::milliseconds refresh = std::chrono::seconds(1));

  // OK, or RESOURCE_EXHAUSTED naming the directory, the free and the reserved bytes. A
  // failure to read the free space is not a refusal (the persist will tell).
  absl::Status CheckWritable();

 private:
  const std::string dir_;
  const uint64_t reserve_;
  const std::chrono::milliseconds refresh_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_;  // GUARDED_BY(mu_)
  absl::Status verdict_;                           // GUARDED_BY(mu_)
};

}  // namespace penncloud::kvs::server
