// The admin console's charts: about ten minutes of once-a-second samples per series
// (requests/s and p99 of each frontend, operations/s of each group). Old samples fall off
// the front, so memory is bounded by series x window.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace penncloud::coordinator {

struct Sample {
  int64_t unix_ms = 0;
  double rate = 0;               // requests/s (frontends) or operations/s (groups)
  std::optional<double> p99_ms;  // frontends only, when the node reports it
};

class History {
 public:
  explicit History(int64_t window_ms = 600'000) : window_ms_(window_ms) {}

  void AddFrontend(const std::string& node_id, Sample sample);
  void AddGroup(const std::string& group_id, Sample sample);

  // Samples newer than now_ms - seconds * 1000, oldest first, per series.
  std::map<std::string, std::vector<Sample>> Frontends(int64_t now_ms, int seconds) const;
  std::map<std::string, std::vector<Sample>> Groups(int64_t now_ms, int seconds) const;

 private:
  using Series = std::map<std::string, std::deque<Sample>>;
  void Add(Series& series, const std::string& id, Sample sample);  // REQUIRES: mu_ held
  std::map<std::string, std::vector<Sample>> Since(const Series& series, int64_t from_ms) const;

  const int64_t window_ms_;
  mutable std::mutex mu_;
  Series frontends_;  // GUARDED_BY(mu_)
  Series groups_;     // GUARDED_BY(mu_)
};

}  // namespace penncloud::coordinator
