#include "accounts/app_passwords.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "accounts/tokens.h"

namespace penncloud::accounts {
namespace {

constexpr absl::Duration kLastUsedResolution = absl::Minutes(1);

std::string Row(std::string_view user) { return std::string("appw/").append(user); }

std::string Encode(int64_t created, int64_t last_used, std::string_view name) {
  return absl::StrCat(created, " ", last_used, " ").append(name);
}

std::optional<AppPassword> Decode(std::string id, absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, absl::MaxSplits(' ', 2));
  int64_t created = 0;
  int64_t last_used = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &created) ||
      !absl::SimpleAtoi(parts[1], &last_used)) {
    return std::nullopt;
  }
  AppPassword p{std::move(id), std::string(parts[2]), absl::FromUnixSeconds(created), {}};
  if (last_used != 0) p.last_used = absl::FromUnixSeconds(last_used);
  return p;
}

absl::Status ValidateName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("give the app password a name");
  if (name.size() > kMaxAppPasswordName) {
    return absl::InvalidArgumentError(
        absl::StrCat("app password names are at most ", kMaxAppPasswordName, " bytes"));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("app password names may not hold control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

AppPasswords::AppPasswords(kvs::Client* store, std::function<absl::Time()> now)
    : store_(store), now_(std::move(now)) {}

absl::StatusOr<NewAppPassword> AppPasswords::Create(std::string_view user, std::string_view name) {
  if (absl::Status s = ValidateName(name); !s.ok()) return s;
  absl::StatusOr<std::vector<AppPassword>> existing = List(user);
  if (!existing.ok()) return existing.status();
  if (existing->size() >= kMaxAppPasswords) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", kMaxAppPasswords, " app passwords; revoke one first"));
  }
  NewAppPassword created;
  created.secret = NewTypedSecret(kAppPasswordGroups);
  created.info.id = Sha256Hex(*CanonicalTypedSecret(created.secret, kAppPasswordGroups));
  created.info.name = std::string(name);
  created.info.created = absl::FromUnixSeconds(absl::ToUnixSeconds(now_()));
  absl::Status s = store_->Put(Row(user), created.info.id,
                               Encode(absl::ToUnixSeconds(created.info.created), 0, name));
  if (!s.ok()) return s;
  return created;
}

absl::StatusOr<std::vector<AppPassword>> AppPasswords::List(std::string_view user) {
  std::vector<AppPassword> out;
  kvs::ListOptions page{.after = "", .limit = 100, .with_values = true};
  while (true) {
    absl::StatusOr<kvs::ColumnPage> cells = store_->List(Row(user), page);
    if (!cells.ok()) return cells.status();
    for (kvs::Cell& cell : cells->cells) {
      if (std::optional<AppPassword> p = Decode(cell.column, cell.value)) out.push_back(*p);
    }
    if (!cells->more || cells->cells.empty()) break;
    page.after = cells->cells.back().column;
  }
  std::sort(out.begin(), out.end(),
            [](const AppPassword& a, const AppPassword& b) { return a.created > b.created; });
  return out;
}

absl::Status AppPasswords::Revoke(std::string_view user, std::string_view id) {
  absl::StatusOr<bool> exists = Exists(user, id);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::NotFoundError("no such app password");
  return store_->Delete(Row(user), id);
}

absl::StatusOr<std::optional<std::string>> AppPasswords::Match(std::string_view user,
                                                               std::string_view typed) {
  std::optional<std::string> canonical = CanonicalTypedSecret(typed, kAppPasswordGroups);
  if (!canonical) return std::nullopt;
  std::string id = Sha256Hex(*canonical);
  absl::StatusOr<std::string> value = store_->Get(Row(user), id);
  if (absl::IsNotFound(value.status())) return std::nullopt;
  if (!value.ok()) return value.status();
  std::optional<AppPassword> stored = Decode(id, *value);
  if (!stored) return absl::InternalError("corrupt app password record");
  const absl::Time now = now_();
  if (!stored->last_used || now - *stored->last_used >= kLastUsedResolution) {
    // Best effort: a lost race (another login, or a revoke) leaves the cell as it is.
    (void)store_->CPut(
        Row(user), id, *value,
        Encode(absl::ToUnixSeconds(stored->created), absl::ToUnixSeconds(now), stored->name));
  }
  return id;
}

absl::StatusOr<bool> AppPasswords::Exists(std::string_view user, std::string_view id) {
  // Ids are SHA-256 hex digests; anything else (from a URL, say) names none.
  if (id.size() != 64 || id.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return false;
  }
  absl::StatusOr<std::string> value = store_->Get(Row(user), id);
  if (absl::IsNotFound(value.status())) return false;
  if (!value.ok()) return value.status();
  return true;
}

}  // namespace penncloud::accounts
