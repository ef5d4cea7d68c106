#include "common/write_deadline.h"

#include <charconv>
#include <optional>

namespace penncloud::write_deadline {

namespace {

using Clock = std::chrono::steady_clock;

struct Budget {
  std::chrono::milliseconds length;
  Clock::time_point started;
};

thread_local std::optional<Budget> t_budget;

}  // namespace

std::chrono::milliseconds BudgetFor(std::string_view timeout_header) {
  int64_t ms = 0;
  auto [end, ec] =
      std::from_chars(timeout_header.data(), timeout_header.data() + timeout_header.size(), ms);
  if (ec != std::errc() || end != timeout_header.data() + timeout_header.size() || ms <= 0 ||
      ms > kMaxBudget.count()) {
    return kMaxBudget;
  }
  return std::chrono::milliseconds(ms);
}

std::chrono::milliseconds Remaining(std::chrono::milliseconds budget, std::string_view sent_header,
                                    std::chrono::system_clock::time_point now) {
  int64_t sent_ms = 0;
  auto [end, ec] =
      std::from_chars(sent_header.data(), sent_header.data() + sent_header.size(), sent_ms);
  if (ec != std::errc() || end != sent_header.data() + sent_header.size() || sent_ms <= 0) {
    return budget;
  }
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (now_ms <= sent_ms) return budget;
  // Past any budget already: nothing is left (and no overflow from a tiny stamp).
  if (now_ms - sent_ms > budget.count()) return std::chrono::milliseconds(0);
  return budget - std::chrono::milliseconds(now_ms - sent_ms);
}

Scope::Scope(std::chrono::milliseconds budget) { t_budget = Budget{budget, Clock::now()}; }

Scope::~Scope() { t_budget.reset(); }

void Restart() {
  if (t_budget) t_budget->started = Clock::now();
}

bool Passed() { return t_budget && Clock::now() - t_budget->started >= t_budget->length; }

std::optional<Clock::time_point> Deadline() {
  if (!t_budget) return std::nullopt;
  return t_budget->started + t_budget->length;
}

}  // namespace penncloud::write_deadline
