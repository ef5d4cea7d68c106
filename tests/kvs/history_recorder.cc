#include "tests/kvs/history_recorder.h"

#include <random>

#include "absl/strings/str_cat.h"

namespace penncloud::testing {

HistoryRecorder::HistoryRecorder(kvs::Client* client, int threads, int keys, bool spread_rows)
    : client_(client),
      threads_(threads),
      keys_(keys),
      spread_rows_(spread_rows),
      epoch_(std::chrono::steady_clock::now()) {}

HistoryRecorder::HistoryRecorder(kvs::Client* client, int threads, int keys, int first_client,
                                 std::chrono::steady_clock::time_point epoch)
    : client_(client),
      threads_(threads),
      keys_(keys),
      spread_rows_(false),
      first_client_(first_client),
      epoch_(epoch) {}

HistoryRecorder::~HistoryRecorder() { Finish(); }

void HistoryRecorder::Start() {
  for (int i = 0; i < threads_; ++i) {
    workers_.emplace_back([this, i] { Worker(first_client_ + i); });
  }
}

std::vector<lincheck::Operation> HistoryRecorder::Finish() {
  stop_ = true;
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  return history_;
}

std::vector<lincheck::Operation> HistoryRecorder::FinishWithFinalReads() {
  std::vector<lincheck::Operation> history = Finish();
  final_reads_ok_ = true;
  for (int k = 0; k < keys_; ++k) {
    lincheck::Operation op;
    op.client = first_client_ + threads_ + k;
    const std::string row = spread_rows_ ? absl::StrCat("lin", k) : "lin";
    const std::string column = spread_rows_ ? "k" : absl::StrCat("k", k);
    op.key = row + "/" + column;
    op.call = Micros();
    Read(op, row, column);
    if (!op.completed) final_reads_ok_ = false;
    history.push_back(op);
  }
  return history;
}

int64_t HistoryRecorder::Micros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               epoch_)
      .count();
}

void HistoryRecorder::Read(lincheck::Operation& op, const std::string& row,
                           const std::string& column) {
  op.kind = lincheck::OpKind::kGet;
  absl::StatusOr<std::string> v = client_->Get(row, column);
  op.ret = Micros();
  if (v.ok()) {
    op.observed = *v;
  } else if (!absl::IsNotFound(v.status())) {
    op.completed = false;  // the read may have seen anything
  }
}

void HistoryRecorder::Worker(int id) {
  std::mt19937 rng(1000 + id);
  int64_t counter = 0;
  std::vector<lincheck::Operation> local;
  while (!stop_) {
    lincheck::Operation op;
    op.client = id;
    const uint64_t k = rng() % keys_;
    const std::string row = spread_rows_ ? absl::StrCat("lin", k) : "lin";
    const std::string column = spread_rows_ ? "k" : absl::StrCat("k", k);
    op.key = row + "/" + column;
    const int dice = rng() % 10;
    op.call = Micros();
    if (dice < 4) {
      Read(op, row, column);
    } else if (dice < 8) {
      op.kind = lincheck::OpKind::kPut;
      op.value = absl::StrCat("c", id, "-", ++counter);
      absl::Status s = client_->Put(row, column, *op.value);
      op.ret = Micros();
      op.completed = s.ok();
      if (s.ok()) ++acked_writes_;
    } else {
      // CPUT against the value this worker last saw for the key, or "absent"; one time in
      // four (when that value exists) a CDELETE of it instead.
      std::optional<std::string> expected;
      for (auto it = local.rbegin(); it != local.rend(); ++it) {
        if (it->key == op.key && it->completed && it->kind == lincheck::OpKind::kGet) {
          expected = it->observed;
          break;
        }
      }
      op.expected = expected;
      absl::StatusOr<bool> done;
      if (expected && rng() % 4 == 0) {
        op.kind = lincheck::OpKind::kCDelete;
        done = client_->CDelete(row, column, *expected);
      } else {
        op.kind = lincheck::OpKind::kCPut;
        op.value = absl::StrCat("c", id, "-", ++counter);
        done = client_->CPut(row, column,
                             expected ? std::optional<std::string_view>(*expected) : std::nullopt,
                             *op.value);
      }
      op.ret = Micros();
      op.completed = done.ok();
      if (done.ok()) {
        op.cput_succeeded = *done;
        if (*done) ++acked_writes_;
      }
    }
    if (op.completed) {
      ++completed_;
    } else {
      ++failed_;
    }
    local.push_back(op);
  }
  std::lock_guard<std::mutex> lock(mu_);
  history_.insert(history_.end(), local.begin(), local.end());
}

bool HistoryRecorder::WaitForMoreWrites(int64_t more, std::chrono::milliseconds timeout) {
  const int64_t target = acked_writes_ + more;
  for (auto deadline = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < deadline;) {
    if (acked_writes_ >= target) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return acked_writes_ >= target;
}

}  // namespace penncloud::testing
