// Process metrics in the Prometheus text exposition format (version 0.0.4): counters,
// gauges and histograms, each a family of children told apart by label values.
//
//   auto& requests = metrics::Default().Counter("http_requests_total", "HTTP requests served",
//                                               {"route", "status"});
//   requests.With({"/api/me", "200"}).Inc();
//
// The hot path is one relaxed atomic add on a child. Finding a child by label values takes
// a shared (reader) lock on its family only; callers on very hot paths keep the child
// reference, which stays valid for the life of the process (children are never removed).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace penncloud::metrics {

using LabelValues = std::vector<std::string>;

class CounterCell {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class GaugeCell {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts of observations per bucket; bounds are upper bounds, ascending, +Inf implied.
class HistogramCell {
 public:
  explicit HistogramCell(const std::vector<double>* bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> counts;  // per bucket (not cumulative); the last is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Take() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// The q-quantile (0 < q <= 1) of the observations between `before` and `now` of one cell,
// interpolated linearly inside the bucket it falls in (as Prometheus' histogram_quantile
// does). 0 when nothing was observed; the highest finite bound when it lands in +Inf.
double Quantile(const std::vector<double>& bounds, const HistogramCell::Snapshot& before,
                const HistogramCell::Snapshot& now, double q);

// Latency buckets in seconds, 0.5 ms to 10 s.
const std::vector<double>& LatencyBuckets();

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  virtual void Write(std::string& out) const = 0;

 protected:
  // Aborts unless there is one value per label name (a programming error).
  void CheckLabels(const LabelValues& values) const;
  void WriteHeader(std::string& out, std::string_view type) const;
  // `name{labels,extra}` (the braces only when there is any label).
  void WriteSeriesName(std::string& out, std::string_view suffix, const LabelValues& values,
                       std::string_view extra = {}) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
};

template <typename Cell>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  // The child with these label values (one per label name), created on first use.
  Cell& With(const LabelValues& values) {
    {
      std::shared_lock lock(mu_);
      auto it = children_.find(values);
      if (it != children_.end()) return *it->second;
    }
    CheckLabels(values);
    std::unique_lock lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = MakeCell();
    return *slot;
  }
  Cell& With() { return With(LabelValues{}); }

 protected:
  virtual std::unique_ptr<Cell> MakeCell() const = 0;

  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<Cell>> children_;  // GUARDED_BY(mu_)
};

class CounterFamily final : public Family<CounterCell> {
 public:
  using Family::Family;
  void Write(std::string& out) const override;

 private:
  std::unique_ptr<CounterCell> MakeCell() const override { return std::make_unique<CounterCell>(); }
};

class GaugeFamily final : public Family<GaugeCell> {
 public:
  using Family::Family;
  void Write(std::string& out) const override;

 private:
  std::unique_ptr<GaugeCell> MakeCell() const override { return std::make_unique<GaugeCell>(); }
};

class HistogramFamily final : public Family<HistogramCell> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  void Write(std::string& out) const override;

 private:
  std::unique_ptr<HistogramCell> MakeCell() const override {
    return std::make_unique<HistogramCell>(&bounds_);
  }
  const std::vector<double> bounds_;
};

class Registry {
 public:
  // Registering the same name twice returns the first family (same type and labels
  // required; a mismatch is a programming error and aborts).
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> labels = {});
  GaugeFamily& Gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> labels = {});
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> labels = {},
                             std::vector<double> bounds = LatencyBuckets());

  // Runs before every exposition, e.g. to copy a component's state into gauges.
  void OnCollect(std::function<void()> refresh);

  // The whole registry in text format 0.0.4, families sorted by name.
  std::string Expose() const;

 private:
  template <typename F, typename... Extra>
  F& Get(const std::string& name, const std::string& help, std::vector<std::string> labels,
         Extra&&... extra);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;  // GUARDED_BY(mu_)
  std::vector<std::function<void()>> refreshers_;                // GUARDED_BY(mu_)
};

// The process-wide registry every component reports into.
Registry& Default();

// Content-Type of Expose()'s output.
inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace penncloud::metrics
