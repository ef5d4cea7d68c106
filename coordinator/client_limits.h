// Per-client-address limits at the front door, where every browser, WebDAV client and
// attacker arrives (the frontends only see the coordinator's address):
// - open connections per address, over :8000 and :8443 together;
// - password guesses: answers 401 to logins (POST /api/login) and to requests carrying
//   HTTP Basic credentials (WebDAV) are counted per address; past `login_failures` within
//   `failure_window` further attempts are refused with 429 until the oldest failure ages
//   out, without reaching a frontend (so without an Argon2 check);
// - logins in flight per address: parallel guesses cannot all be checked at once;
// - sign-up attempts per address per hour.
// The per-account back-off (accounts/) still applies behind this; this caps what one
// address can try across all accounts. Plain values in and out, so it is tested without
// sockets; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace penncloud::coordinator {

struct ClientLimitOptions {
  int max_connections = 512;  // per address; 0: no cap
  int login_failures = 20;    // per address within failure_window; 0: no cap
  std::chrono::seconds failure_window{600};
  int concurrent_logins = 4;  // POST /api/login and /api/signup in flight per address
  int signups_per_hour = 20;  // per address; 0: no cap
};

// What a request is, as far as the limits care.
enum class LimitedKind { kNone, kLogin, kSignup, kBasicAuth };

// `path` is percent-decoded; `has_basic_auth`: an "Authorization: Basic ..." header.
LimitedKind ClassifyRequest(std::string_view method, std::string_view path, bool has_basic_auth);

class ClientLimits {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ClientLimits(ClientLimitOptions options) : options_(options) {}

  // Counts a new connection from `address`; false (and not counted) when it would pass
  // the cap.
  bool OpenConnection(const std::string& address);
  void CloseConnection(const std::string& address);

  // Before a request of `kind` (not kNone) goes on: nullopt if admitted (and then counted
  // until Answered), else the seconds the client should wait (Retry-After).
  std::optional<int> Admit(const std::string& address, LimitedKind kind, Clock::time_point now);
  // Once the admitted request is answered (`status` 0 if it never was).
  void Answered(const std::string& address, LimitedKind kind, int status, Clock::time_point now);

  // Addresses with something still counted (for tests: memory stays bounded by live ones).
  size_t TrackedAddresses();

 private:
  struct PerAddress {
    int connections = 0;
    int logins_in_flight = 0;
    std::deque<Clock::time_point> failures;  // newest last
    std::deque<Clock::time_point> signups;   // newest last
  };

  // Drops entries older than their window; REQUIRES: mu_ held.
  void Expire(PerAddress& entry, Clock::time_point now) const;
  // Forgets `address` once nothing about it is left; REQUIRES: mu_ held.
  void ForgetIfIdle(const std::string& address);
  // Every so many admissions, drops what has aged out for every address, so addresses that
  // failed once and never came back (an attacker may own very many) do not pile up.
  // REQUIRES: mu_ held.
  void SweepNowAndThen(Clock::time_point now);

  const ClientLimitOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, PerAddress> by_address_;  // GUARDED_BY(mu_)
  uint64_t admissions_ = 0;                                 // GUARDED_BY(mu_)
};

}  // namespace penncloud::coordinator
