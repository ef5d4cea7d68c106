// Who may open a public link: the password check, the browser grant that spares a second
// Argon2 run per download, and the limits on guessing.
//
// Guessing is limited twice, per token (wrong passwords) and per client address (wrong
// passwords and unknown tokens together), in fixed windows kept in this frontend's memory;
// over the limit the answer is 429 before any Argon2 run or store read.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "drive/share.h"
#include "frontend/api_context.h"

namespace penncloud::frontend {

inline constexpr char kSharePasswordHeader[] = "X-Share-Password";

struct GuessLimits {
  int per_token = 10;    // wrong passwords for one link per window
  int per_address = 30;  // wrong passwords and unknown tokens from one address per window
  int64_t window_ms = 10 * 60 * 1000;
  size_t max_keys = 100000;  // the table is cleared when it grows past this
};

// Counts failures per key in fixed windows. Thread-safe.
class GuessLimiter {
 public:
  explicit GuessLimiter(int limit, int64_t window_ms, size_t max_keys);
  // Whether `key` may try again now.
  bool Allowed(const std::string& key, int64_t now_ms);
  void Failed(const std::string& key, int64_t now_ms);

 private:
  struct Window {
    int64_t start_ms = 0;
    int failures = 0;
  };
  int limit_;
  int64_t window_ms_;
  size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, Window> windows_;  // GUARDED_BY(mu_)
};

// Opens /s/{token} requests: finds the link, applies the limits and the password.
class LinkGate {
 public:
  LinkGate(drive::Shares* shares, GuessLimits limits = {});

  // The link of request.params["token"], if the caller may use it: 404 for unknown,
  // expired or revoked links, 429 over a guessing limit, 401 if a password is needed and
  // neither X-Share-Password nor a grant cookie gives it.
  absl::StatusOr<drive::Share> Open(const Request& request);
  // Like Open, but a link that needs a password is returned without one (for the page's
  // description of the link); *unlocked says whether the caller gave it.
  absl::StatusOr<drive::Share> Peek(const Request& request, bool* unlocked);
  // Checks a password given to the page's form; on success returns the Set-Cookie value of
  // a grant for this link (12 hours, HttpOnly, SameSite=Strict, Path=/s/<token>).
  absl::StatusOr<std::string> Unlock(const ApiContext& ctx, const Request& request,
                                     std::string_view password);

 private:
  absl::StatusOr<drive::Share> Find(const Request& request);
  absl::StatusOr<bool> HasGrant(const drive::Share& link, const Request& request);
  absl::StatusOr<bool> CheckPassword(const drive::Share& link, const Request& request,
                                     std::string_view password);

  drive::Shares* shares_;
  GuessLimiter per_token_;
  GuessLimiter per_address_;
};

// The grant cookie's name for a link: one per link, so grants never mix.
std::string GrantCookieName(const drive::Share& link);
// HMAC-SHA256 of "<token>.<expires_ms>" keyed with the link's stored password hash: only
// a frontend can make one, and a new password or a revoked link voids it.
std::string GrantValue(const drive::Share& link, const std::string& secret, int64_t expires_ms);

}  // namespace penncloud::frontend
