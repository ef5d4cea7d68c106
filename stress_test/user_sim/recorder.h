// Every request the simulated users make, with its latency and outcome, kept per I/O thread
// (no locks on the hot path), written out as CSV and summarised per ramp level and per step.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace penncloud::sim {

// The steps of a user's visit, in the order the script takes them.
enum class Op : uint8_t {
  kSignup,
  kLogin,
  kListInbox,
  kReadMail,
  kSendMail,
  kListDrive,
  kUpload,
  kDownload,
  kVerify,
  kCount,
};
std::string_view OpName(Op op);

enum class Outcome : uint8_t {
  kOk,
  kBusy,        // 503: the server shed the request (graceful degradation)
  kHttpError,   // any other unexpected status
  kTransport,   // connection refused/reset/closed before an answer
  kTimeout,     // no answer within the request timeout
  kBadContent,  // 2xx but the bytes are not what was stored
  kCount,
};
std::string_view OutcomeName(Outcome outcome);

struct Record {
  int64_t start_us;    // since the run began (the scheduled time in open-loop runs)
  int32_t latency_us;  // to the final answer, retries included
  int32_t user;
  int16_t status;  // last HTTP status, 0 if none
  Op op;
  Outcome outcome;
  uint8_t attempts;
  uint8_t level;  // index into the ramp's levels; 255 while a level's users still arrive
};

class Recorder {
 public:
  void Add(const Record& r) { records_.push_back(r); }
  // A check after the answer (the downloaded bytes) can still fail the last request.
  void MarkLast(Outcome outcome) { records_.back().outcome = outcome; }
  const std::vector<Record>& records() const { return records_; }

 private:
  std::vector<Record> records_;
};

struct LevelInfo {
  int users;
  int64_t begin_us;  // when the level's users were all started (and prepared)
  int64_t end_us;
  // CPU seconds each named server process used between begin and end (when asked for).
  std::vector<std::pair<std::string, double>> server_cpu_s;
};

// Merges the per-thread records (sorted by start time).
std::vector<Record> Merge(const std::vector<Recorder>& recorders);

void WriteCsv(const std::vector<Record>& records, std::ostream& out);

// Per level: users, requests, ok req/s, latency mean/p50/p90/p99/max, outcome counts, the
// servers' CPU (`server_cpu_ms`, by process); per step the same; and the totals. Requests that
// started in a level's window count for it.
nlohmann::json Summarize(const std::vector<Record>& records, const std::vector<LevelInfo>& levels);

// A human-readable table of Summarize's result.
void PrintSummary(const nlohmann::json& summary, std::ostream& out);

}  // namespace penncloud::sim
