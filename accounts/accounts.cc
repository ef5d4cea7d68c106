#include "accounts/accounts.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "accounts/tokens.h"

namespace penncloud::accounts {
namespace {

constexpr char kPasswordCol[] = "password";
constexpr char kAdminCol[] = "admin";
constexpr char kFailCol[] = "fail";
constexpr char kCreatedCol[] = "created";
constexpr char kSessionCol[] = "data";

std::string AccountRow(std::string_view user) { return std::string("acct/").append(user); }
std::string SessionRow(std::string_view digest) { return std::string("sess/").append(digest); }
std::string IndexRow(std::string_view user) { return std::string("usess/").append(user); }

absl::Status Unauthenticated() { return absl::UnauthenticatedError("wrong username or password"); }

struct Failures {
  int64_t count = 0;
  int64_t last_ms = 0;
};

Failures ParseFailures(std::string_view text) {
  Failures f;
  std::vector<std::string> parts = absl::StrSplit(std::string(text), ' ');
  if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &f.count) &&
      absl::SimpleAtoi(parts[1], &f.last_ms)) {
    return f;
  }
  return {};
}

}  // namespace

absl::StatusOr<std::string> NormalizeUsername(std::string_view username) {
  std::string user(username);
  for (char& c : user) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (user.size() < 3 || user.size() > 32) {
    return absl::InvalidArgumentError("username must be 3 to 32 characters");
  }
  if (user[0] < 'a' || user[0] > 'z') {
    return absl::InvalidArgumentError("username must start with a letter");
  }
  for (char c : user) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          "username may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return user;
}

absl::Status ValidatePassword(std::string_view password) {
  if (password.size() < 8)
    return absl::InvalidArgumentError("password must be at least 8 characters");
  if (password.size() > 128)
    return absl::InvalidArgumentError("password must be at most 128 bytes");
  return absl::OkStatus();
}

Accounts::Accounts(kvs::Client* store, Options options)
    : store_(store), options_(std::move(options)) {
  dummy_hash_ = HashPassword("penncloud-dummy-password", options_.hash_params).value();
}

absl::StatusOr<std::string> Accounts::SignUp(std::string_view username, std::string_view password,
                                             bool admin) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return user.status();
  if (absl::Status s = ValidatePassword(password); !s.ok()) return s;
  absl::StatusOr<std::string> hash = HashPassword(password, options_.hash_params);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<bool> won = store_->CPut(AccountRow(*user), kPasswordCol, std::nullopt, *hash);
  if (!won.ok()) return won.status();
  if (!*won) return absl::AlreadyExistsError("username is taken");
  // Its age decides when it may send mail outside the domain (sending_policy.h).
  if (absl::Status s = store_->Put(AccountRow(*user), kCreatedCol,
                                   absl::StrCat(absl::ToUnixSeconds(options_.now())));
      !s.ok()) {
    return s;
  }
  if (admin) {
    if (absl::Status s = SetAdmin(*user, true); !s.ok()) return s;
  }
  return *user;
}

absl::StatusOr<std::string> Accounts::Authenticate(std::string_view username,
                                                   std::string_view password) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok() || password.size() > 128) {
    VerifyPassword(password.substr(0, 128), dummy_hash_);
    return Unauthenticated();
  }
  // One round trip for the hash and the failure count.
  absl::StatusOr<kvs::ColumnPage> row =
      store_->List(AccountRow(*user), {.after = "", .limit = 16, .with_values = true});
  if (!row.ok()) return row.status();
  std::optional<std::string> hash;
  std::optional<std::string> fail_cell;  // the counter exactly as stored, for the CPut
  for (const kvs::Cell& cell : row->cells) {
    if (cell.column == kPasswordCol) hash = cell.value;
    if (cell.column == kFailCol) fail_cell = cell.value;
  }
  if (!hash) {
    VerifyPassword(password, dummy_hash_);
    return Unauthenticated();
  }
  if (absl::Status s = TakeFailureStep(*user, std::move(fail_cell)); !s.ok()) return s;
  if (!VerifyPassword(password, *hash)) return Unauthenticated();  // the step stays taken
  // The right password clears the count, this attempt's own step included.
  if (absl::Status s = store_->Delete(AccountRow(*user), kFailCol); !s.ok()) return s;
  return *user;
}

absl::Status Accounts::TakeFailureStep(const std::string& user, std::optional<std::string> cell) {
  // Every password check first counts as a failure, taken by CPut from the value this
  // attempt saw. Of N parallel guesses each must win its own CPut, so N guesses cost N
  // steps; a loser reads the counter again and is refused if it now says to wait. (Reading,
  // hashing and only then writing let them all through one back-off window.)
  constexpr int kMaxRaces = 32;
  for (int race = 0; race < kMaxRaces; ++race) {
    Failures failures = cell ? ParseFailures(*cell) : Failures{};
    if (failures.count >= kFreeFailures) {
      int64_t shift = std::min<int64_t>(failures.count - kFreeFailures, 20);
      absl::Duration wait = std::min(absl::Seconds(int64_t{1} << shift), options_.max_backoff);
      absl::Time until = absl::FromUnixMillis(failures.last_ms) + wait;
      absl::Time now = options_.now();
      if (now < until) {
        int64_t secs = absl::ToInt64Seconds(absl::Ceil(until - now, absl::Seconds(1)));
        return absl::ResourceExhaustedError(absl::StrCat("too many failed logins; try again in ",
                                                         std::max<int64_t>(secs, 1), " s"));
      }
    }
    std::string taken = absl::StrCat(failures.count + 1, " ", absl::ToUnixMillis(options_.now()));
    std::optional<std::string_view> expected;
    if (cell) expected = *cell;
    absl::StatusOr<bool> won = store_->CPut(AccountRow(user), kFailCol, expected, taken);
    if (!won.ok()) return won.status();
    if (*won) return absl::OkStatus();
    absl::StatusOr<std::string> stored = store_->Get(AccountRow(user), kFailCol);
    if (absl::IsNotFound(stored.status())) {
      cell.reset();
    } else if (!stored.ok()) {
      return stored.status();
    } else {
      cell = *std::move(stored);
    }
  }
  return absl::ResourceExhaustedError("too many concurrent logins; try again later");
}

absl::StatusOr<LoginResult> Accounts::CreateSession(const std::string& user) {
  LoginResult result;
  result.token = NewToken();
  result.session.username = user;
  result.session.csrf = NewToken();
  result.session.expires = options_.now() + options_.session_ttl;
  absl::StatusOr<bool> admin = IsAdmin(user);
  if (!admin.ok()) return admin.status();
  result.session.admin = *admin;
  std::string digest = Sha256Hex(result.token);
  std::string expiry = absl::StrCat(absl::ToUnixSeconds(result.session.expires));
  // Index first: a session that exists is always findable by a password change.
  if (absl::Status s = store_->Put(IndexRow(user), digest, expiry); !s.ok()) return s;
  if (absl::Status s = store_->Put(SessionRow(digest), kSessionCol,
                                   absl::StrCat(user, "\n", result.session.csrf, "\n", expiry,
                                                result.session.admin ? "\nadmin" : ""));
      !s.ok()) {
    return s;
  }
  return result;
}

absl::StatusOr<LoginResult> Accounts::LogIn(std::string_view username, std::string_view password) {
  absl::StatusOr<std::string> user = Authenticate(username, password);
  if (!user.ok()) return user.status();
  return CreateSession(*user);
}

absl::StatusOr<std::string> Accounts::CheckPassword(std::string_view username,
                                                    std::string_view password) {
  return Authenticate(username, password);
}

absl::StatusOr<Session> Accounts::WhoAmI(std::string_view token) {
  if (token.empty() || token.size() > 128) return absl::UnauthenticatedError("not logged in");
  absl::StatusOr<std::string> data = store_->Get(SessionRow(Sha256Hex(token)), kSessionCol);
  if (absl::IsNotFound(data.status())) return absl::UnauthenticatedError("not logged in");
  if (!data.ok()) return data.status();
  std::vector<std::string> parts = absl::StrSplit(*data, '\n');
  int64_t expiry = 0;
  // user, csrf, expiry, and "admin" as a fourth line for an admin's session.
  if (parts.size() < 3 || parts.size() > 4 || !absl::SimpleAtoi(parts[2], &expiry)) {
    return absl::InternalError("corrupt session record");
  }
  Session session{parts[0], parts[1], absl::FromUnixSeconds(expiry),
                  parts.size() == 4 && parts[3] == "admin"};
  if (options_.now() >= session.expires) return absl::UnauthenticatedError("session expired");
  return session;
}

absl::Status Accounts::LogOut(std::string_view token) {
  absl::StatusOr<Session> session = WhoAmI(token);
  std::string digest = Sha256Hex(token);
  if (absl::Status s = store_->Delete(SessionRow(digest), kSessionCol); !s.ok()) return s;
  if (session.ok()) return store_->Delete(IndexRow(session->username), digest);
  return absl::OkStatus();
}

absl::Status Accounts::ChangePassword(std::string_view token, std::string_view old_password,
                                      std::string_view new_password) {
  absl::StatusOr<Session> session = WhoAmI(token);
  if (!session.ok()) return session.status();
  if (absl::Status s = ValidatePassword(new_password); !s.ok()) return s;
  absl::StatusOr<std::string> user = Authenticate(session->username, old_password);
  if (!user.ok()) return user.status();
  absl::StatusOr<std::string> hash = HashPassword(new_password, options_.hash_params);
  if (!hash.ok()) return hash.status();
  if (absl::Status s = store_->Put(AccountRow(*user), kPasswordCol, *hash); !s.ok()) return s;

  const std::string keep = Sha256Hex(token);
  const std::string index = IndexRow(*user);
  kvs::ListOptions page{.after = "", .limit = 100, .with_values = false};
  while (true) {
    absl::StatusOr<kvs::ColumnPage> cols = store_->List(index, page);
    if (!cols.ok()) return cols.status();
    for (const kvs::Cell& cell : cols->cells) {
      if (cell.column == keep) continue;
      if (absl::Status s = store_->Delete(SessionRow(cell.column), kSessionCol); !s.ok()) return s;
      if (absl::Status s = store_->Delete(index, cell.column); !s.ok()) return s;
    }
    if (!cols->more || cols->cells.empty()) break;
    page.after = cols->cells.back().column;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Accounts::IsAdmin(std::string_view username) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return false;
  absl::StatusOr<std::string> flag = store_->Get(AccountRow(*user), kAdminCol);
  if (absl::IsNotFound(flag.status())) return false;
  if (!flag.ok()) return flag.status();
  return *flag == "1";
}

absl::Status Accounts::SetAdmin(std::string_view username, bool admin) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return user.status();
  if (admin) return store_->Put(AccountRow(*user), kAdminCol, "1");
  return store_->Delete(AccountRow(*user), kAdminCol);
}

absl::StatusOr<bool> Accounts::Exists(std::string_view username) {
  absl::StatusOr<std::string> user = NormalizeUsername(username);
  if (!user.ok()) return false;
  absl::StatusOr<std::string> hash = store_->Get(AccountRow(*user), kPasswordCol);
  if (absl::IsNotFound(hash.status())) return false;
  if (!hash.ok()) return hash.status();
  return true;
}

bool Accounts::CsrfMatches(const Session& session, std::string_view provided) {
  return !provided.empty() && ConstantTimeEquals(session.csrf, provided);
}

}  // namespace penncloud::accounts
