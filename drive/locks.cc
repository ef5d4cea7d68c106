#include "drive/locks.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "drive/keys.h"
#include "drive/path.h"
#include "proto/drive.pb.h"

namespace penncloud::drive {
namespace {

constexpr std::string_view kLockColumn = "set";
constexpr int kMaxAttempts = 32;

LockInfo FromRecord(const pb::DavLock& l) {
  return LockInfo{.token = l.token(),
                  .path = l.path(),
                  .infinite = l.infinite(),
                  .shared = l.shared(),
                  .owner_xml = l.owner_xml(),
                  .timeout_s = l.timeout_s(),
                  .expires_ms = l.expires_ms()};
}

pb::DavLock ToRecord(const LockInfo& l) {
  pb::DavLock r;
  r.set_token(l.token);
  r.set_path(l.path);
  r.set_infinite(l.infinite);
  r.set_shared(l.shared);
  r.set_owner_xml(l.owner_xml);
  r.set_timeout_s(l.timeout_s);
  r.set_expires_ms(l.expires_ms);
  return r;
}

bool Live(const pb::DavLock& l, int64_t now) { return l.expires_ms() == 0 || l.expires_ms() > now; }

bool Overlap(const pb::DavLock& held, const LockInfo& want) {
  return (want.path == held.path()) || (held.infinite() && PathWithin(want.path, held.path())) ||
         (want.infinite && PathWithin(held.path(), want.path));
}

int64_t ExpiryOf(int64_t timeout_s, int64_t now) {
  return timeout_s == 0 ? 0 : now + timeout_s * 1000;
}

// "opaquelocktoken:" + a random UUID (RFC 4918 appendix C).
std::string NewToken() {
  std::string hex = keys::RandomId();
  return absl::StrCat("opaquelocktoken:", hex.substr(0, 8), "-", hex.substr(8, 4), "-4",
                      hex.substr(13, 3), "-a", hex.substr(17, 3), "-", hex.substr(20, 12));
}

}  // namespace

bool PathWithin(std::string_view inner, std::string_view outer) {
  if (outer == "/" || inner == outer) return true;
  return inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/';
}

LockTable::LockTable(kvs::Client* kvs, std::function<int64_t()> now_ms)
    : kvs_(kvs), now_ms_(std::move(now_ms)) {}

int64_t LockTable::Now() const {
  if (now_ms_) return now_ms_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Reads the set, lets `change` edit its live locks, and writes it back by compare-and-put;
// `change` returns the status to answer (not OK: nothing is written).
absl::Status Update(kvs::Client* kvs, std::string_view user, int64_t now,
                    const std::function<absl::Status(pb::DavLockSet*)>& change) {
  std::string row = keys::UserRow(user, "locks");
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto raw = kvs->Get(row, kLockColumn);
    if (!raw.ok() && !absl::IsNotFound(raw.status())) return raw.status();
    pb::DavLockSet set, live;
    if (raw.ok() && !set.ParseFromString(*raw)) set.Clear();  // a damaged set frees all
    for (const auto& l : set.locks()) {
      if (Live(l, now)) *live.add_locks() = l;
    }
    if (auto s = change(&live); !s.ok()) return s;
    std::string next;
    live.SerializeToString(&next);
    std::optional<std::string_view> expected;
    if (raw.ok()) expected = *raw;
    auto done = kvs->CPut(row, kLockColumn, expected, next);
    if (!done.ok()) return done.status();
    if (*done) return absl::OkStatus();
  }
  return absl::AbortedError("locks changed too often; try again");
}

}  // namespace

absl::StatusOr<LockInfo> LockTable::Lock(std::string_view user, LockInfo lock) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  if (lock.owner_xml.size() > kMaxOwnerBytes) {
    return absl::InvalidArgumentError("lock owner too long");
  }
  int64_t now = Now();
  lock.timeout_s = std::min(lock.timeout_s, kMaxLockSeconds);
  lock.expires_ms = ExpiryOf(lock.timeout_s, now);
  lock.token = NewToken();
  auto s = Update(kvs_, user, now, [&](pb::DavLockSet* set) {
    if (static_cast<size_t>(set->locks_size()) >= kMaxLocksPerUser) {
      return absl::ResourceExhaustedError("too many locks");
    }
    for (const auto& held : set->locks()) {
      if (Overlap(held, lock) && (!lock.shared || !held.shared())) {
        return absl::FailedPreconditionError(absl::StrCat("locked: ", held.path()));
      }
    }
    *set->add_locks() = ToRecord(lock);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return lock;
}

absl::StatusOr<LockInfo> LockTable::Refresh(std::string_view user, std::string_view token,
                                            int64_t timeout_s) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  int64_t now = Now();
  timeout_s = std::min(timeout_s, kMaxLockSeconds);
  LockInfo out;
  auto s = Update(kvs_, user, now, [&](pb::DavLockSet* set) {
    for (auto& l : *set->mutable_locks()) {
      if (l.token() != token) continue;
      l.set_timeout_s(timeout_s);
      l.set_expires_ms(ExpiryOf(timeout_s, now));
      out = FromRecord(l);
      return absl::OkStatus();
    }
    return absl::NotFoundError("no such lock");
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status LockTable::Unlock(std::string_view user, std::string_view token) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  return Update(kvs_, user, Now(), [&](pb::DavLockSet* set) {
    auto* locks = set->mutable_locks();
    for (int i = 0; i < locks->size(); ++i) {
      if (locks->Get(i).token() != token) continue;
      locks->DeleteSubrange(i, 1);
      return absl::OkStatus();
    }
    return absl::NotFoundError("no such lock");
  });
}

absl::StatusOr<std::vector<LockInfo>> LockTable::Covering(std::string_view user,
                                                          std::string_view path, bool below) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  std::vector<LockInfo> out;
  auto raw = kvs_->Get(keys::UserRow(user, "locks"), kLockColumn);
  if (absl::IsNotFound(raw.status())) return out;
  if (!raw.ok()) return raw.status();
  pb::DavLockSet set;
  if (!set.ParseFromString(*raw)) return out;
  int64_t now = Now();
  for (const auto& l : set.locks()) {
    if (!Live(l, now)) continue;
    bool covers = l.path() == path || (l.infinite() && PathWithin(path, l.path())) ||
                  (below && PathWithin(l.path(), path));
    if (covers) out.push_back(FromRecord(l));
  }
  return out;
}

}  // namespace penncloud::drive
