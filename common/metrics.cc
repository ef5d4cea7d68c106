#include "common/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace penncloud::metrics {
namespace {

void Die(const std::string& why) {
  std::fprintf(stderr, "metrics: %s\n", why.c_str());
  std::abort();
}

bool ValidName(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colon_ok && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return !name.starts_with("__");
}

// Go's strconv.ParseFloat reads all of these; Prometheus spells infinities "+Inf"/"-Inf".
void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

void AppendEscaped(std::string& out, std::string_view text, bool quote_too) {
  for (char c : text) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (quote_too && c == '"') {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

HistogramCell::HistogramCell(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void HistogramCell::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

HistogramCell::Snapshot HistogramCell::Take() const {
  Snapshot s;
  s.counts.resize(bounds_->size() + 1);
  for (size_t i = 0; i < s.counts.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

double Quantile(const std::vector<double>& bounds, const HistogramCell::Snapshot& before,
                const HistogramCell::Snapshot& now, double q) {
  std::vector<uint64_t> delta(now.counts.size(), 0);
  uint64_t total = 0;
  for (size_t i = 0; i < delta.size(); ++i) {
    uint64_t was = i < before.counts.size() ? before.counts[i] : 0;
    delta[i] = now.counts[i] >= was ? now.counts[i] - was : 0;
    total += delta[i];
  }
  if (total == 0 || bounds.empty()) return 0;
  double rank = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (static_cast<double>(seen + delta[i]) >= rank && delta[i] > 0) {
      double lower = i == 0 ? 0 : bounds[i - 1];
      double into = (rank - static_cast<double>(seen)) / static_cast<double>(delta[i]);
      return lower + (bounds[i] - lower) * into;
    }
    seen += delta[i];
  }
  return bounds.back();
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  if (!ValidName(name_, true)) Die("bad metric name '" + name_ + "'");
  for (const auto& l : label_names_) {
    if (!ValidName(l, false) || l == "le") Die("bad label name '" + l + "' on " + name_);
  }
}

void FamilyBase::CheckLabels(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    Die(name_ + " takes " + std::to_string(label_names_.size()) + " label values, got " +
        std::to_string(values.size()));
  }
}

void FamilyBase::WriteHeader(std::string& out, std::string_view type) const {
  out.append("# HELP ").append(name_).push_back(' ');
  AppendEscaped(out, help_, /*quote_too=*/false);
  out.append("\n# TYPE ").append(name_).push_back(' ');
  out.append(type).push_back('\n');
}

void FamilyBase::WriteSeriesName(std::string& out, std::string_view suffix,
                                 const LabelValues& values, std::string_view extra) const {
  out.append(name_).append(suffix);
  if (values.empty() && extra.empty()) return;
  out.push_back('{');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(label_names_[i]).append("=\"");
    AppendEscaped(out, values[i], /*quote_too=*/true);
    out.push_back('"');
  }
  if (!extra.empty()) {
    if (!values.empty()) out.push_back(',');
    out.append(extra);
  }
  out.push_back('}');
}

void CounterFamily::Write(std::string& out) const {
  WriteHeader(out, "counter");
  std::shared_lock lock(mu_);
  for (const auto& [values, cell] : children_) {
    WriteSeriesName(out, "", values);
    out.append(" ").append(std::to_string(cell->Value())).push_back('\n');
  }
}

void GaugeFamily::Write(std::string& out) const {
  WriteHeader(out, "gauge");
  std::shared_lock lock(mu_);
  for (const auto& [values, cell] : children_) {
    WriteSeriesName(out, "", values);
    out.push_back(' ');
    AppendNumber(out, cell->Value());
    out.push_back('\n');
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : Family(std::move(name), std::move(help), std::move(label_names)), bounds_(std::move(bounds)) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      Die("histogram " + name_ + ": bounds must be finite and ascending");
    }
  }
}

void HistogramFamily::Write(std::string& out) const {
  WriteHeader(out, "histogram");
  std::shared_lock lock(mu_);
  for (const auto& [values, cell] : children_) {
    HistogramCell::Snapshot s = cell->Take();
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s.counts[i];
      std::string le = "le=\"";
      if (i < bounds_.size()) {
        AppendNumber(le, bounds_[i]);
      } else {
        le.append("+Inf");
      }
      le.push_back('"');
      WriteSeriesName(out, "_bucket", values, le);
      out.append(" ").append(std::to_string(cumulative)).push_back('\n');
    }
    WriteSeriesName(out, "_sum", values);
    out.push_back(' ');
    AppendNumber(out, s.sum);
    out.push_back('\n');
    // The count is the +Inf bucket's, so the two always agree within one exposition.
    WriteSeriesName(out, "_count", values);
    out.append(" ").append(std::to_string(cumulative)).push_back('\n');
  }
}

template <typename F, typename... Extra>
F& Registry::Get(const std::string& name, const std::string& help, std::vector<std::string> labels,
                 Extra&&... extra) {
  std::lock_guard lock(mu_);
  auto& slot = families_[name];
  if (!slot) {
    slot = std::make_unique<F>(name, help, std::move(labels), std::forward<Extra>(extra)...);
    return static_cast<F&>(*slot);
  }
  auto* existing = dynamic_cast<F*>(slot.get());
  if (existing == nullptr) Die("metric " + name + " registered twice with different types");
  return *existing;
}

CounterFamily& Registry::Counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> labels) {
  return Get<CounterFamily>(name, help, std::move(labels));
}

GaugeFamily& Registry::Gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> labels) {
  return Get<GaugeFamily>(name, help, std::move(labels));
}

HistogramFamily& Registry::Histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  return Get<HistogramFamily>(name, help, std::move(labels), std::move(bounds));
}

void Registry::OnCollect(std::function<void()> refresh) {
  std::lock_guard lock(mu_);
  refreshers_.push_back(std::move(refresh));
}

std::string Registry::Expose() const {
  std::vector<std::function<void()>> refreshers;
  {
    std::lock_guard lock(mu_);
    refreshers = refreshers_;
  }
  // Unlocked: a refresher may register the families it fills.
  for (const auto& refresh : refreshers) refresh();
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) family->Write(out);
  return out;
}

Registry& Default() {
  static Registry* registry = new Registry();  // never destroyed: used until exit
  return *registry;
}

}  // namespace penncloud::metrics
