// Drives a KVS Client from several threads with a random mix of operations (GET, PUT, CPUT,
// CDELETE) on a few keys and records every call and its outcome for the linearizability
// checker. Each put writes
// a value never written before, so a lost or resurrected write cannot hide.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kvs/client/client.h"
#include "kvs/lincheck/history.h"

namespace penncloud::testing {

class HistoryRecorder {
 public:
  // Keys are columns of one row, or with `spread_rows` one row each (so that a sharded
  // store places them in different groups).
  HistoryRecorder(kvs::Client* client, int threads, int keys, bool spread_rows = false);
  // One of several recorders whose histories are merged (clients on both sides of a
  // partition): its workers are clients first_client, first_client + 1, ... (their values
  // are named after them, so they stay unique across recorders) and its clock counts from
  // `epoch`, shared by the others. Final reads are clients first_client + threads + k.
  HistoryRecorder(kvs::Client* client, int threads, int keys, int first_client,
                  std::chrono::steady_clock::time_point epoch);
  ~HistoryRecorder();

  void Start();
  // Stops the workers and returns the history.
  std::vector<lincheck::Operation> Finish();
  // Finish, then one more read of every key, after every recorded operation returned, added
  // to the history: the checker then also proves that the final state holds exactly what the
  // acknowledged writes left (a lost acknowledged write cannot hide). A read that fails is
  // recorded as such and fails `final_reads_ok()`.
  std::vector<lincheck::Operation> FinishWithFinalReads();
  bool final_reads_ok() const { return final_reads_ok_; }

  int64_t acknowledged_writes() const { return acked_writes_; }
  // Waits until `more` writes beyond those acknowledged now are acknowledged: the store is
  // taking writes again (after a start, a crash or a change). False after `timeout`.
  bool WaitForMoreWrites(int64_t more, std::chrono::milliseconds timeout);
  int64_t failed_ops() const { return failed_; }
  int64_t completed_ops() const { return completed_; }

 private:
  void Worker(int id);
  // Microseconds since the recorder was made: the history's clock.
  int64_t Micros() const;
  // Reads row/column as `op` (a GET whose call time is already set) and records the answer.
  void Read(lincheck::Operation& op, const std::string& row, const std::string& column);

  kvs::Client* client_;
  const int threads_;
  const int keys_;
  const bool spread_rows_;
  const int first_client_ = 0;
  std::atomic<bool> stop_{false};
  bool final_reads_ok_ = false;
  std::atomic<int64_t> acked_writes_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> completed_{0};
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::vector<lincheck::Operation> history_;  // GUARDED_BY(mu_)
  const std::chrono::steady_clock::time_point epoch_;
};

}  // namespace penncloud::testing
