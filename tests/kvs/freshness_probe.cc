#include "tests/kvs/freshness_probe.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace penncloud::testing {
namespace {

constexpr char kRow[] = "fresh";
constexpr char kColumn[] = "n";
// Bounds every loop in count as well as by Stop().
constexpr int64_t kMaxCalls = 200000;

}  // namespace

FreshnessProbe::FreshnessProbe(kvs::Client* writer_client, std::vector<kvs::Client*> reader_clients,
                               std::chrono::steady_clock::time_point epoch)
    : writer_client_(writer_client), reader_clients_(std::move(reader_clients)), epoch_(epoch) {}

FreshnessProbe::~FreshnessProbe() { Stop(); }

void FreshnessProbe::Start() {
  threads_.emplace_back([this] { Writer(); });
  for (int i = 0; i < static_cast<int>(reader_clients_.size()); ++i) {
    threads_.emplace_back([this, i] { Reader(i); });
  }
}

void FreshnessProbe::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

int64_t FreshnessProbe::Micros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               epoch_)
      .count();
}

void FreshnessProbe::Writer() {
  for (int64_t n = 1; !stop_ && n <= kMaxCalls; ++n) {
    const int64_t call = Micros();
    const absl::Status s = writer_client_->Put(kRow, kColumn, absl::StrCat(n));
    const int64_t ret = Micros();
    std::lock_guard<std::mutex> lock(mu_);
    writes_.push_back(Write{n, call, ret, s.ok()});
    if (s.ok()) ++acked_count_;
  }
}

void FreshnessProbe::Reader(int reader) {
  for (int64_t i = 0; !stop_ && i < kMaxCalls; ++i) {
    Read r;
    r.reader = reader;
    r.call = Micros();
    const absl::StatusOr<std::string> v = reader_clients_[reader]->Get(kRow, kColumn);
    r.ret = Micros();
    if (v.ok()) {
      r.answered = absl::SimpleAtoi(*v, &r.value);
    } else {
      r.answered = absl::IsNotFound(v.status());
    }
    std::lock_guard<std::mutex> lock(mu_);
    reads_.push_back(r);
  }
}

bool FreshnessProbe::WaitForMoreWrites(int64_t more, std::chrono::milliseconds timeout) {
  const int64_t target = acked_count_ + more;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (acked_count_ < target && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return acked_count_ >= target;
}

FreshnessProbe::Verdict FreshnessProbe::Judge() const {
  std::lock_guard<std::mutex> lock(mu_);
  // Acknowledged writes by the time their acknowledgement arrived; values only grow with it
  // (one writer, one write at a time).
  std::vector<std::pair<int64_t, int64_t>> acks;  // (ret, value)
  std::set<int64_t> unknown;
  for (const Write& w : writes_) {
    if (w.acknowledged) {
      acks.emplace_back(w.ret, w.value);
    } else {
      unknown.insert(w.value);
    }
  }
  Verdict v;
  for (const Read& r : reads_) {
    if (!r.answered || unknown.count(r.value)) continue;
    ++v.reads;
    // The newest value acknowledged before the read began.
    const auto after =
        std::lower_bound(acks.begin(), acks.end(), std::make_pair(r.call, int64_t{0}));
    if (after == acks.begin()) continue;
    const int64_t floor = std::prev(after)->second;
    if (r.value >= floor) continue;
    if (++v.stale == 1) {
      v.first_stale =
          absl::StrCat("reader ", r.reader, " began at ", r.call, " us and read ", r.value,
                       ", but ", floor, " was acknowledged at ", std::prev(after)->first, " us");
    }
  }
  return v;
}

int64_t FreshnessProbe::AnsweredBy(int reader, int64_t since) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::count_if(reads_.begin(), reads_.end(), [&](const Read& r) {
    return r.reader == reader && r.answered && r.call >= since;
  });
}

std::vector<lincheck::Operation> FreshnessProbe::History(int first_client) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<lincheck::Operation> ops;
  const std::string key = absl::StrCat(kRow, "/", kColumn);
  for (const Write& w : writes_) {
    lincheck::Operation op;
    op.client = first_client;
    op.key = key;
    op.kind = lincheck::OpKind::kPut;
    op.value = absl::StrCat(w.value);
    op.completed = w.acknowledged;
    op.call = w.call;
    op.ret = w.ret;
    ops.push_back(op);
  }
  for (const Read& r : reads_) {
    lincheck::Operation op;
    op.client = first_client + 1 + r.reader;
    op.key = key;
    op.kind = lincheck::OpKind::kGet;
    op.completed = r.answered;
    if (r.value != 0) op.observed = absl::StrCat(r.value);
    op.call = r.call;
    op.ret = r.ret;
    ops.push_back(op);
  }
  return ops;
}

}  // namespace penncloud::testing
