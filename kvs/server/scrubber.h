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
#include <mutex>
#include <thread>

#include "kvs/storage/replica_store.h"

namespace penncloud::kvs::server {

class Scrubber {
 public:
  // The first pass `first` from now, then one every `every` after a pass ends.
  Scrubber(const storage::ReplicaStore& store, std::chrono::milliseconds first,
           std::chrono::milliseconds every);
  // Stops a pass in progress and waits for the thread.
  ~Scrubber();
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

 private:
  void Run(std::chrono::milliseconds first, std::chrono::milliseconds every);

  const storage::ReplicaStore& store_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace penncloud::kvs::server
