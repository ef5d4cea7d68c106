#include "mail/address_limits.h"

#include <algorithm>
#include <iterator>

namespace penncloud::mail {
namespace {

// Buckets kept before full ones (addresses quiet for a minute) are forgotten.
constexpr size_t kMaxTrackedAddresses = 10'000;

}  // namespace

AddressLimits::AddressLimits(Options options, Clock now)
    : options_(options), now_(std::move(now)) {}

bool AddressLimits::OpenConnection(const std::string& address) {
  std::lock_guard lock(mu_);
  int& open = open_[address];
  if (options_.max_connections > 0 && open >= options_.max_connections) return false;
  ++open;
  return true;
}

void AddressLimits::CloseConnection(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = open_.find(address);
  if (it == open_.end()) return;
  if (--it->second <= 0) open_.erase(it);
}

void AddressLimits::Refill(Bucket& bucket, std::chrono::steady_clock::time_point now) const {
  double capacity = options_.login_attempts_per_minute;
  std::chrono::duration<double> elapsed = now - bucket.updated;
  bucket.tokens = std::min(capacity, bucket.tokens + elapsed.count() * capacity / 60.0);
  bucket.updated = now;
}

bool AddressLimits::AllowLoginAttempt(const std::string& address) {
  if (options_.login_attempts_per_minute <= 0) return true;
  auto now = now_();
  std::lock_guard lock(mu_);
  if (attempts_.size() >= kMaxTrackedAddresses) {
    for (auto it = attempts_.begin(); it != attempts_.end();) {
      Refill(it->second, now);
      it = it->second.tokens >= options_.login_attempts_per_minute ? attempts_.erase(it)
                                                                   : std::next(it);
    }
  }
  auto [it, fresh] = attempts_.try_emplace(
      address, Bucket{static_cast<double>(options_.login_attempts_per_minute), now});
  Bucket& bucket = it->second;
  if (!fresh) Refill(bucket, now);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

}  // namespace penncloud::mail
