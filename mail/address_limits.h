// Per-client-address limits for the mail servers, shared by every listener of one process
// (SMTP's 2500 and 4650, POP3's 11000 and 9950): how many connections one address may
// hold open at once, and how many login attempts it may make per minute. The attempt
// limit is a token bucket (a burst of one minute's worth, then the steady rate), counted
// before the account is even looked up, so guessing across many accounts from one address
// is slowed as well as guessing one account (which the account's own back-off handles).
//
// Addresses are compared as given (one IPv6 host is one address, not its /64). Thread-safe;
// no sockets or timers inside, the clock is injectable.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace penncloud::mail {

class AddressLimits {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  struct Options {
    int max_connections = 0;            // per address; 0 = no limit
    int login_attempts_per_minute = 0;  // per address; 0 = no limit
  };

  explicit AddressLimits(Options options, Clock now = std::chrono::steady_clock::now);

  // Takes a connection slot for `address`; false (and nothing taken) if it holds
  // max_connections already. Every true is matched by one CloseConnection.
  bool OpenConnection(const std::string& address);
  void CloseConnection(const std::string& address);

  // Spends one login attempt of `address`; false if its bucket is empty.
  bool AllowLoginAttempt(const std::string& address);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point updated;
  };
  // Tops the bucket up for the time since it was last updated. REQUIRES: mu_ held.
  void Refill(Bucket& bucket, std::chrono::steady_clock::time_point now) const;

  const Options options_;
  const Clock now_;
  std::mutex mu_;
  std::map<std::string, int> open_;         // GUARDED_BY(mu_); only addresses with > 0
  std::map<std::string, Bucket> attempts_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::mail
