// Accounts: the owner's view of their sessions (list, end one, end the others) and the
// "last seen" they show. Layout in accounts.h; rows in rows.h.
#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "accounts/accounts.h"
#include "accounts/rows.h"
#include "accounts/tokens.h"

namespace penncloud::accounts {
namespace {

// Every column of `row` with its value, page by page.
absl::StatusOr<std::vector<kvs::Cell>> AllCells(kvs::Client* store, const std::string& row,
                                                bool with_values) {
  std::vector<kvs::Cell> out;
  kvs::ListOptions page{.after = "", .limit = 100, .with_values = with_values};
  while (true) {
    absl::StatusOr<kvs::ColumnPage> cells = store->List(row, page);
    if (!cells.ok()) return cells.status();
    for (kvs::Cell& cell : cells->cells) out.push_back(std::move(cell));
    if (!cells->more || cells->cells.empty()) break;
    page.after = out.back().column;
  }
  return out;
}

// An index entry: "<expiry>\n<created>\n<address>\n<user agent>", or only "<expiry>" from
// before sessions recorded where they came from.
std::optional<SessionInfo> ParseIndexEntry(std::string id, absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, absl::MaxSplits('\n', 3));
  SessionInfo info;
  info.id = std::move(id);
  int64_t expiry = 0;
  int64_t created = 0;
  if (parts.empty() || !absl::SimpleAtoi(parts[0], &expiry)) return std::nullopt;
  info.expires = absl::FromUnixSeconds(expiry);
  if (parts.size() == 4 && absl::SimpleAtoi(parts[1], &created)) {
    info.created = absl::FromUnixSeconds(created);
    info.address = std::string(parts[2]);
    info.user_agent = std::string(parts[3]);
  } else {
    info.created = absl::InfinitePast();
  }
  return info;
}

}  // namespace

void Accounts::NoteSeen(const std::string& user, const std::string& digest) {
  absl::Time now = options_.now();
  if (!seen_.ShouldWrite(digest, now)) return;
  // Best effort: a lost write only makes "last seen" older. Ending a session deletes this
  // cell after the session itself, so a write racing the end leaves at most one stray cell,
  // which ListSessions clears.
  (void)store_->Put(rows::Seen(user), digest, absl::StrCat(absl::ToUnixSeconds(now)));
}

absl::StatusOr<std::vector<SessionInfo>> Accounts::ListSessions(std::string_view token) {
  absl::StatusOr<Session> session = WhoAmI(token);
  if (!session.ok()) return session.status();
  const std::string& user = session->username;
  absl::StatusOr<std::vector<kvs::Cell>> index =
      AllCells(store_, rows::SessionIndex(user), /*with_values=*/true);
  if (!index.ok()) return index.status();
  absl::StatusOr<std::vector<kvs::Cell>> seen =
      AllCells(store_, rows::Seen(user), /*with_values=*/true);
  if (!seen.ok()) return seen.status();
  std::map<std::string, int64_t> seen_at;
  for (const kvs::Cell& cell : *seen) {
    int64_t at = 0;
    if (absl::SimpleAtoi(cell.value, &at)) seen_at[cell.column] = at;
  }
  const std::string current = Sha256Hex(token);
  const absl::Time now = options_.now();
  std::vector<SessionInfo> out;
  for (const kvs::Cell& cell : *index) {
    std::optional<SessionInfo> info = ParseIndexEntry(cell.column, cell.value);
    if (!info || info->expires <= now) continue;
    auto at = seen_at.find(cell.column);
    info->last_seen = at != seen_at.end() ? absl::FromUnixSeconds(at->second) : info->created;
    if (at != seen_at.end()) seen_at.erase(at);
    info->current = info->id == current;
    out.push_back(std::move(*info));
  }
  // Last-seen cells of sessions no longer indexed (a write that raced an end): tidy up.
  for (const auto& [stray, at] : seen_at) (void)store_->Delete(rows::Seen(user), stray);
  // The current session first, then the most recently seen.
  std::sort(out.begin(), out.end(), [](const SessionInfo& a, const SessionInfo& b) {
    if (a.current != b.current) return a.current;
    return a.last_seen > b.last_seen;
  });
  return out;
}

absl::Status Accounts::EndSession(std::string_view token, std::string_view id) {
  absl::StatusOr<Session> session = WhoAmI(token);
  if (!session.ok()) return session.status();
  // Only sessions in the caller's own index: an id is no licence to end someone else's.
  if (id.size() != 64 || id.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return absl::NotFoundError("no such session");
  }
  absl::StatusOr<std::string> entry = store_->Get(rows::SessionIndex(session->username), id);
  if (absl::IsNotFound(entry.status())) return absl::NotFoundError("no such session");
  if (!entry.ok()) return entry.status();
  std::string digest(id);
  if (absl::Status s = store_->Delete(rows::Session(digest), rows::kSessionCol); !s.ok()) return s;
  if (absl::Status s = store_->Delete(rows::SessionIndex(session->username), digest); !s.ok()) {
    return s;
  }
  return store_->Delete(rows::Seen(session->username), digest);
}

absl::Status Accounts::EndOtherSessions(std::string_view token) {
  absl::StatusOr<Session> session = WhoAmI(token);
  if (!session.ok()) return session.status();
  return EndSessionsExcept(session->username, Sha256Hex(token));
}

absl::Status Accounts::EndSessionsExcept(const std::string& user, const std::string& keep) {
  const std::string index = rows::SessionIndex(user);
  absl::StatusOr<std::vector<kvs::Cell>> cells = AllCells(store_, index, /*with_values=*/false);
  if (!cells.ok()) return cells.status();
  for (const kvs::Cell& cell : *cells) {
    if (cell.column == keep) continue;
    // The session first: from then on it is refused everywhere.
    if (absl::Status s = store_->Delete(rows::Session(cell.column), rows::kSessionCol); !s.ok()) {
      return s;
    }
    if (absl::Status s = store_->Delete(index, cell.column); !s.ok()) return s;
    if (absl::Status s = store_->Delete(rows::Seen(user), cell.column); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace penncloud::accounts
