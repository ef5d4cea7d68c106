#include "coordinator/history.h"

namespace penncloud::coordinator {

void History::Add(Series& series, const std::string& id, Sample sample) {
  std::deque<Sample>& samples = series[id];
  samples.push_back(sample);
  while (!samples.empty() && samples.front().unix_ms < sample.unix_ms - window_ms_) {
    samples.pop_front();
  }
  // A series that stopped receiving samples (a removed group) ages out as a whole.
  for (auto it = series.begin(); it != series.end();) {
    bool stale = it->second.empty() || it->second.back().unix_ms < sample.unix_ms - window_ms_;
    it = stale ? series.erase(it) : std::next(it);
  }
}

void History::AddFrontend(const std::string& node_id, Sample sample) {
  std::lock_guard lock(mu_);
  Add(frontends_, node_id, sample);
}

void History::AddGroup(const std::string& group_id, Sample sample) {
  std::lock_guard lock(mu_);
  Add(groups_, group_id, sample);
}

std::map<std::string, std::vector<Sample>> History::Since(const Series& series,
                                                          int64_t from_ms) const {
  std::map<std::string, std::vector<Sample>> out;
  for (const auto& [id, samples] : series) {
    std::vector<Sample>& dst = out[id];
    for (const Sample& s : samples) {
      if (s.unix_ms > from_ms) dst.push_back(s);
    }
  }
  return out;
}

std::map<std::string, std::vector<Sample>> History::Frontends(int64_t now_ms, int seconds) const {
  std::lock_guard lock(mu_);
  return Since(frontends_, now_ms - int64_t{seconds} * 1000);
}

std::map<std::string, std::vector<Sample>> History::Groups(int64_t now_ms, int seconds) const {
  std::lock_guard lock(mu_);
  return Since(groups_, now_ms - int64_t{seconds} * 1000);
}

}  // namespace penncloud::coordinator
