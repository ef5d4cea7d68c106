#include "common/write_deadline.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace penncloud::write_deadline {

namespace {

using Clock = std::chrono::steady_clock;

struct Budget {
  std::chrono::milliseconds length;
  Clock::time_point started;
  Clock::time_point hard_end;  // the client's own deadline; time_point::max() without one
};

// A header's number of milliseconds; nullopt unless the whole value is a positive number.
std::optional<int64_t> PositiveMs(std::string_view header) {
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), ms);
  if (ec != std::errc() || end != header.data() + header.size() || ms <= 0) return std::nullopt;
  return ms;
}

int64_t ToEpochMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

thread_local std::optional<Budget> t_budget;

}  // namespace

std::chrono::milliseconds BudgetFor(std::string_view timeout_header) {
  const std::optional<int64_t> ms = PositiveMs(timeout_header);
  if (!ms || *ms > kMaxBudget.count()) return kMaxBudget;
  return std::chrono::milliseconds(*ms);
}

std::chrono::milliseconds Remaining(std::chrono::milliseconds budget, std::string_view sent_header,
                                    std::chrono::system_clock::time_point now) {
  const std::optional<int64_t> sent_ms = PositiveMs(sent_header);
  if (!sent_ms) return budget;
  const int64_t now_ms = ToEpochMs(now);
  if (now_ms <= *sent_ms) return budget;
  // Past any budget already: nothing is left (and no overflow from a tiny stamp).
  if (now_ms - *sent_ms > budget.count()) return std::chrono::milliseconds(0);
  return budget - std::chrono::milliseconds(now_ms - *sent_ms);
}

std::optional<std::chrono::milliseconds> UntilClientDeadline(
    std::string_view deadline_header, std::chrono::system_clock::time_point now) {
  const std::optional<int64_t> deadline_ms = PositiveMs(deadline_header);
  if (!deadline_ms) return std::nullopt;
  // Clamped both ways, so a far stamp neither overflows the steady clock nor outlives kMaxBudget.
  const int64_t left = std::clamp<int64_t>(*deadline_ms - ToEpochMs(now), -1, kMaxBudget.count());
  return std::chrono::milliseconds(left);
}

Scope::Scope(std::chrono::milliseconds budget,
             std::optional<std::chrono::milliseconds> hard_limit) {
  const Clock::time_point now = Clock::now();
  t_budget = Budget{budget, now, hard_limit ? now + *hard_limit : Clock::time_point::max()};
}

Scope::~Scope() { t_budget.reset(); }

void Restart() {
  if (t_budget) t_budget->started = Clock::now();
}

std::optional<Clock::time_point> Deadline() {
  if (!t_budget) return std::nullopt;
  return std::min(t_budget->started + t_budget->length, t_budget->hard_end);
}

bool Passed() { return t_budget && Clock::now() >= *Deadline(); }

}  // namespace penncloud::write_deadline
