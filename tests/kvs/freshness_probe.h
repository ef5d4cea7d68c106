// A direct check that no read returns a value older than a write acknowledged before the
// read began: one thread writes a counter that only grows (1, 2, 3, ...) to one cell, other
// threads read the cell, each through a client of its own choosing (one pinned to an old
// leader, one following the leader). A read that returns n while n + k was acknowledged
// before it started is stale. Every call is also recorded as a lincheck operation, so the
// same history goes through the linearizability checker with the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kvs/client/client.h"
#include "kvs/lincheck/history.h"

namespace penncloud::testing {

class FreshnessProbe {
 public:
  struct Read {
    int reader = 0;
    int64_t call = 0;  // microseconds since the epoch
    int64_t ret = 0;
    bool answered = false;  // false: the client gave up (no value to judge)
    int64_t value = 0;      // 0: the cell did not exist yet
  };
  struct Verdict {
    int64_t reads = 0;  // answered reads judged
    int64_t stale = 0;
    std::string first_stale;  // what the first stale read saw and what it should have
  };

  // `clients` are held, not owned; writer_client writes, reader_clients[i] is reader i.
  // Times count from `epoch`, shared with the other recorders of the run.
  FreshnessProbe(kvs::Client* writer_client, std::vector<kvs::Client*> reader_clients,
                 std::chrono::steady_clock::time_point epoch);
  ~FreshnessProbe();

  void Start();
  void Stop();  // joins the threads
  int64_t acknowledged() const { return acked_count_; }
  // Waits until `more` writes beyond those acknowledged now are; false after `timeout`.
  bool WaitForMoreWrites(int64_t more, std::chrono::milliseconds timeout);

  // After Stop: every answered read judged against the writes acknowledged before it began.
  // A read that returns the value of a write whose outcome the writer never learned is not
  // judged (that write may legitimately take effect late, after later ones).
  Verdict Judge() const;
  // After Stop: the answered reads of `reader` that began at or after `since`.
  int64_t AnsweredBy(int reader, int64_t since) const;
  // After Stop: every call as a lincheck operation on key "fresh/n".
  std::vector<lincheck::Operation> History(int first_client) const;

 private:
  void Writer();
  void Reader(int reader);
  int64_t Micros() const;

  kvs::Client* const writer_client_;
  const std::vector<kvs::Client*> reader_clients_;
  const std::chrono::steady_clock::time_point epoch_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_count_{0};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  // GUARDED_BY(mu_):
  struct Write {
    int64_t value;
    int64_t call;
    int64_t ret;
    bool acknowledged;
  };
  std::vector<Write> writes_;
  std::vector<Read> reads_;
};

}  // namespace penncloud::testing
