// Accounts and sessions of PennCloud: sign up, log in, log out, change password, "who am
// I", CSRF tokens, and password checks for SMTP AUTH / POP3 (the same credentials).
// A plain library over kvs::Client; it never sees HTTP.
//
// Rules:
// - Usernames: 3-32 characters of [a-z0-9._-], starting with a letter. Input is
//   lower-cased first (so "Alice" is "alice", as mail addresses are case-insensitive).
// - Passwords: 8-128 bytes. Stored only as Argon2id PHC strings (see password_hash.h).
// - Sessions: a 256-bit token from RAND_bytes, stored under its SHA-256, with an expiry
//   (default 7 days) and its own 256-bit CSRF token. Logout deletes it; a password change
//   deletes every other session of the account.
// - Failed logins: after kFreeFailures failures in a row, each further attempt must wait
//   2^(failures - kFreeFailures) seconds (capped at 15 minutes) after the last failure;
//   attempts during the wait are refused with kResourceExhausted without checking the
//   password. Every checked attempt first takes a failure step by CPut (so N parallel
//   guesses cost N steps, not one); a success then clears the count. The state lives in
//   the store, so every frontend and the mail servers (web, POP3, SMTP AUTH) share it.
//
// Store layout (rows / columns):
//   acct/<user>   password = PHC string, admin = "1" (absent: not admin),
//                 fail = "<count> <unix ms of last failure>", created = unix seconds,
//                 external = "1" (sending_policy.h)
//   sess/<sha256(token)>  data = "<user>\n<csrf>\n<expiry unix seconds>"
//   usess/<user>  <sha256(token)> = expiry   (index, so a password change finds them all)
//
// Errors: kInvalidArgument (bad name/password shape), kAlreadyExists (name taken),
// kUnauthenticated (wrong credentials, unknown/expired session), kResourceExhausted
// (throttled), kUnavailable/kDeadlineExceeded (store unreachable).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "accounts/password_hash.h"
#include "kvs/client/client.h"

namespace penncloud::accounts {

inline constexpr int kFreeFailures = 5;

struct Options {
  HashParams hash_params;
  absl::Duration session_ttl = absl::Hours(24 * 7);
  absl::Duration max_backoff = absl::Minutes(15);
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

struct Session {
  std::string username;
  std::string csrf;
  absl::Time expires;
  // Whether the user was an admin when the session began: what the web app uses to show the
  // admin console's link. Admin pages and APIs still ask IsAdmin on every request.
  bool admin = false;
};

struct LoginResult {
  std::string token;  // the session cookie's value
  Session session;
};

// Lower-cases ASCII letters and checks the username rules above.
absl::StatusOr<std::string> NormalizeUsername(std::string_view username);
absl::Status ValidatePassword(std::string_view password);

class Accounts {
 public:
  // `store` must outlive this object. Thread-safe.
  explicit Accounts(kvs::Client* store, Options options = {});

  // Creates the account; kAlreadyExists if the name is taken (decided by CPut, so of two
  // concurrent sign-ups of one name exactly one wins). Returns the normalized name.
  absl::StatusOr<std::string> SignUp(std::string_view username, std::string_view password,
                                     bool admin = false);

  absl::StatusOr<LoginResult> LogIn(std::string_view username, std::string_view password);

  // For SMTP AUTH and POP3: checks the credentials (with the same throttling) without
  // creating a session. Returns the normalized name.
  absl::StatusOr<std::string> CheckPassword(std::string_view username, std::string_view password);

  // The live session of `token`; kUnauthenticated if unknown or expired.
  absl::StatusOr<Session> WhoAmI(std::string_view token);

  // Ends the session; succeeds if it was already gone.
  absl::Status LogOut(std::string_view token);

  // Checks `old_password`, stores `new_password`, and ends every other session.
  absl::Status ChangePassword(std::string_view token, std::string_view old_password,
                              std::string_view new_password);

  absl::StatusOr<bool> IsAdmin(std::string_view username);
  absl::Status SetAdmin(std::string_view username, bool admin);
  // Whether the account exists (for mail delivery to local users).
  absl::StatusOr<bool> Exists(std::string_view username);

  // Constant-time check of a request's X-CSRF-Token against its session.
  static bool CsrfMatches(const Session& session, std::string_view provided);

 private:
  absl::StatusOr<std::string> Authenticate(std::string_view username, std::string_view password);
  // Counts this attempt as a failure before its password is checked (CPut from `cell`, the
  // counter as read; absent if none); kResourceExhausted if the account must wait.
  absl::Status TakeFailureStep(const std::string& user, std::optional<std::string> cell);
  absl::StatusOr<LoginResult> CreateSession(const std::string& user);

  kvs::Client* const store_;
  const Options options_;
  std::string dummy_hash_;  // verified against for unknown users, so timing reveals nothing
};

}  // namespace penncloud::accounts
