// Reads a replica's whole store now and then (ReplicaStore::Scrub), so that damage no
// request has met yet (a cell nobody reads, a bit flipped at rest) is found while the other
// replicas still hold good copies, and not on the day a leader needs that cell. Damage goes
// to the corruption sink like any other (kvs/storage/disk.h): kvs_server marks the store
// for repair and stops, and its next start rebuilds it from the peers (docs/kvs.md "Disk
// faults").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "kvs/storage/replica_store.h"

namespace penncloud::kvs::server {

class Scrubber {
 public:
  // The first pass `first` from now, then one every `every` after a pass ends, each reading
  // at most `bytes_per_s` (0 = no limit).
  Scrubber(const storage::ReplicaStore& store, std::chrono::milliseconds first,
           std::chrono::milliseconds every, uint64_t bytes_per_s);
  // Stops a pass in progress and waits for the thread.
  ~Scrubber();
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

  // Passes finished since the start (whole, or ended by damage).
  uint64_t passes() const { return passes_.load(); }

 private:
  void Run(std::chrono::milliseconds first, std::chrono::milliseconds every);
  // Called every `kPaceBytes` of a pass begun at `started`: sleeps until the pass is back
  // under the rate. False once stop is asked for.
  bool Pace(std::chrono::steady_clock::time_point started, uint64_t bytes);

  const storage::ReplicaStore& store_;
  const uint64_t bytes_per_s_;
  std::atomic<uint64_t> passes_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace penncloud::kvs::server
