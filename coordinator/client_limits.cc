#include "coordinator/client_limits.h"

#include <algorithm>

namespace penncloud::coordinator {
namespace {

constexpr std::chrono::hours kSignupWindow{1};

int SecondsUntil(ClientLimits::Clock::time_point when, ClientLimits::Clock::time_point now) {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(when - now).count() + 1;
  return static_cast<int>(std::max<int64_t>(1, left));
}

}  // namespace

LimitedKind ClassifyRequest(std::string_view method, std::string_view path, bool has_basic_auth) {
  // A two-step sign-in's code is a guess like a password, and counts as one.
  if (method == "POST" && (path == "/api/login" || path == "/api/login/code")) {
    return LimitedKind::kLogin;
  }
  if (method == "POST" && path == "/api/signup") return LimitedKind::kSignup;
  if (has_basic_auth) return LimitedKind::kBasicAuth;
  return LimitedKind::kNone;
}

bool ClientLimits::OpenConnection(const std::string& address) {
  std::lock_guard lock(mu_);
  PerAddress& entry = by_address_[address];
  if (options_.max_connections > 0 && entry.connections >= options_.max_connections) {
    ForgetIfIdle(address);
    return false;
  }
  ++entry.connections;
  return true;
}

void ClientLimits::CloseConnection(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return;
  --it->second.connections;
  ForgetIfIdle(address);
}

std::optional<int> ClientLimits::Admit(const std::string& address, LimitedKind kind,
                                       Clock::time_point now) {
  if (kind == LimitedKind::kNone) return std::nullopt;
  std::lock_guard lock(mu_);
  SweepNowAndThen(now);
  PerAddress& entry = by_address_[address];
  Expire(entry, now);
  const size_t max_failures = static_cast<size_t>(std::max(0, options_.login_failures));
  if (max_failures > 0 && entry.failures.size() >= max_failures) {
    return SecondsUntil(entry.failures.front() + options_.failure_window, now);
  }
  if (kind == LimitedKind::kSignup && options_.signups_per_hour > 0 &&
      entry.signups.size() >= static_cast<size_t>(options_.signups_per_hour)) {
    return SecondsUntil(entry.signups.front() + kSignupWindow, now);
  }
  if (kind != LimitedKind::kBasicAuth) {
    // Each guess takes a frontend's Argon2 check (tens of ms of CPU): never many at once.
    if (entry.logins_in_flight >= options_.concurrent_logins) return 1;
    ++entry.logins_in_flight;
  }
  if (kind == LimitedKind::kSignup) entry.signups.push_back(now);
  return std::nullopt;
}

void ClientLimits::Answered(const std::string& address, LimitedKind kind, int status,
                            Clock::time_point now) {
  if (kind == LimitedKind::kNone) return;
  std::lock_guard lock(mu_);
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return;
  PerAddress& entry = it->second;
  if (kind != LimitedKind::kBasicAuth) entry.logins_in_flight--;
  if (status == 401 && kind != LimitedKind::kSignup) entry.failures.push_back(now);
  ForgetIfIdle(address);
}

void ClientLimits::Expire(PerAddress& entry, Clock::time_point now) const {
  while (!entry.failures.empty() && entry.failures.front() + options_.failure_window <= now) {
    entry.failures.pop_front();
  }
  while (!entry.signups.empty() && entry.signups.front() + kSignupWindow <= now) {
    entry.signups.pop_front();
  }
}

size_t ClientLimits::TrackedAddresses() {
  std::lock_guard lock(mu_);
  return by_address_.size();
}

void ClientLimits::SweepNowAndThen(Clock::time_point now) {
  constexpr uint64_t kEvery = 1024;
  if (++admissions_ % kEvery != 0) return;
  for (auto it = by_address_.begin(); it != by_address_.end();) {
    PerAddress& e = it->second;
    Expire(e, now);
    bool idle =
        e.connections == 0 && e.logins_in_flight == 0 && e.failures.empty() && e.signups.empty();
    it = idle ? by_address_.erase(it) : std::next(it);
  }
}

void ClientLimits::ForgetIfIdle(const std::string& address) {
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return;
  const PerAddress& e = it->second;
  if (e.connections == 0 && e.logins_in_flight == 0 && e.failures.empty() && e.signups.empty()) {
    by_address_.erase(it);
  }
}

}  // namespace penncloud::coordinator
