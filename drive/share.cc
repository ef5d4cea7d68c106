#include "drive/share.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/keys.h"
#include "drive/locks.h"
#include "drive/path.h"
#include "drive/share_lock.h"
#include "drive/share_records.h"
#include "proto/drive_share.pb.h"

namespace penncloud::drive {
namespace {

using share_records::CountsRow;
using share_records::FromProto;
using share_records::IncomingColumn;
using share_records::IncomingRow;
using share_records::kLinkColumn;
using share_records::LinkRow;
using share_records::ListRow;
using share_records::Parse;
using share_records::Serialize;
using share_records::SharesRow;

constexpr int kCountAttempts = 8;
// Compare-and-put rounds of one share record against concurrent rewrites before kAborted.
constexpr int kRewriteAttempts = 32;

// 256 random bits, URL-safe: twice the floor, at no cost.
std::string NewToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no entropy: nothing is safe
  return absl::WebSafeBase64Escape(std::string(reinterpret_cast<char*>(bytes), sizeof bytes));
}

pb::Share::Permission ToProto(SharePermission p) {
  switch (p) {
    case SharePermission::kRead:
      return pb::Share::READ;
    case SharePermission::kUpload:
      return pb::Share::UPLOAD;
    case SharePermission::kWrite:
      return pb::Share::WRITE;
  }
  return pb::Share::PERMISSION_UNSPECIFIED;
}

pb::Share ToProto(const Share& s, const std::string& password_hash) {
  pb::Share out;
  out.set_id(s.id);
  out.set_kind(s.kind == ShareKind::kLink ? pb::Share::LINK : pb::Share::USER);
  out.set_owner(s.owner);
  out.set_path(s.path);
  out.set_permission(ToProto(s.permission));
  out.set_token(s.token);
  out.set_password_hash(password_hash);
  out.set_expires_ms(s.expires_ms);
  out.set_user(s.user);
  out.set_created_ms(s.created_ms);
  out.set_node_id(s.node_id);
  out.set_moving_to(s.moving_to);
  out.set_name(s.name);
  return out;
}

// `path` (at or under `from`) once `from` has moved to `to`.
std::string MovedPath(const std::string& path, const std::string& from, const std::string& to) {
  return to + path.substr(from.size());
}

}  // namespace

std::string_view PermissionName(SharePermission permission) {
  switch (permission) {
    case SharePermission::kRead:
      return "read";
    case SharePermission::kUpload:
      return "upload";
    case SharePermission::kWrite:
      return "write";
  }
  return "";
}

std::optional<SharePermission> ParsePermission(std::string_view name) {
  if (name == "read") return SharePermission::kRead;
  if (name == "upload") return SharePermission::kUpload;
  if (name == "write") return SharePermission::kWrite;
  return std::nullopt;
}

Shares::Shares(kvs::Client* kvs, Drive* drive, ShareOptions options)
    : kvs_(kvs), drive_(drive), options_(std::move(options)), lock_(kvs, [this] { return Now(); }) {
  drive_->SetMoveHook([this](const std::string& user, const std::string& from,
                             const std::string& to) { return FollowMove(user, from, to); });
}

Shares::~Shares() { drive_->SetMoveHook(nullptr); }

int64_t Shares::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::string> Shares::NormalizeOwnerPath(std::string_view owner,
                                                       std::string_view path, EntryInfo* item) {
  if (auto s = ValidateUser(owner); !s.ok()) return s;
  auto parts = SplitPath(path);
  if (!parts.ok()) return parts.status();
  if (parts->empty()) return absl::InvalidArgumentError("the whole drive cannot be shared");
  std::string normal = JoinPath(*parts);
  auto info = drive_->Stat(owner, normal);
  if (!info.ok()) return info.status();
  *item = *std::move(info);
  return normal;
}

absl::Status Shares::Store(const Share& share, const std::string& password_hash) {
  // The owner's list is written first, so whatever grants access can always be revoked.
  std::string raw = Serialize(ToProto(share, password_hash));
  if (auto s = kvs_->Put(SharesRow(share.owner), share.id, raw); !s.ok()) return s;
  if (share.kind == ShareKind::kLink) return kvs_->Put(LinkRow(share.token), kLinkColumn, raw);
  pb::Share incoming = ToProto(share, "");
  incoming.clear_token();
  return kvs_->Put(IncomingRow(share.user), IncomingColumn(share.owner, share.id),
                   Serialize(incoming));
}

absl::StatusOr<Share> Shares::CreateLink(std::string_view owner, const LinkRequest& request) {
  if (request.permission != SharePermission::kRead &&
      request.permission != SharePermission::kUpload) {
    return absl::InvalidArgumentError("a link's permission is \"read\" or \"upload\"");
  }
  if (request.expires_ms != 0 && request.expires_ms <= Now()) {
    return absl::InvalidArgumentError("the expiry is in the past");
  }
  std::string hash;
  if (request.password) {
    if (request.password->empty() || request.password->size() > kMaxSharePasswordBytes) {
      return absl::InvalidArgumentError("a link password is 1-128 bytes");
    }
    auto hashed = accounts::HashPassword(*request.password, options_.hash_params);
    if (!hashed.ok()) return hashed.status();
    hash = *std::move(hashed);
  }
  // Under the owner's lock, so no move runs between finding the item and storing its path.
  auto lock = lock_.Acquire(owner);
  if (!lock.ok()) return lock.status();
  absl::Cleanup release = [&] { lock_.Release(owner, *lock); };
  EntryInfo item;
  auto path = NormalizeOwnerPath(owner, request.path, &item);
  if (!path.ok()) return path.status();
  if (request.permission == SharePermission::kUpload && !item.folder) {
    return absl::FailedPreconditionError("an upload link needs a folder");
  }
  auto existing = ListMine(owner);
  if (!existing.ok()) return existing.status();
  if (existing->size() >= kMaxSharesPerOwner) {
    return absl::ResourceExhaustedError("too many shares; revoke some first");
  }
  Share share;
  share.id = keys::RandomId();
  share.kind = ShareKind::kLink;
  share.owner = std::string(owner);
  share.path = *path;
  share.node_id = item.id;
  share.name = item.name;
  share.permission = request.permission;
  share.token = NewToken();
  share.password = !hash.empty();
  share.expires_ms = request.expires_ms;
  share.created_ms = Now();
  if (auto s = Store(share, hash); !s.ok()) return s;
  return share;
}

absl::StatusOr<Share> Shares::ShareWithUser(std::string_view owner, std::string_view path,
                                            std::string_view user, SharePermission permission) {
  if (permission != SharePermission::kRead && permission != SharePermission::kWrite) {
    return absl::InvalidArgumentError("a share with an account is \"read\" or \"write\"");
  }
  if (auto s = ValidateUser(user); !s.ok()) return s;
  if (user == owner) return absl::InvalidArgumentError("you cannot share with yourself");
  auto lock = lock_.Acquire(owner);
  if (!lock.ok()) return lock.status();
  absl::Cleanup release = [&] { lock_.Release(owner, *lock); };
  EntryInfo item;
  auto normal = NormalizeOwnerPath(owner, path, &item);
  if (!normal.ok()) return normal.status();
  auto existing = ListMine(owner);
  if (!existing.ok()) return existing.status();
  if (existing->size() >= kMaxSharesPerOwner) {
    return absl::ResourceExhaustedError("too many shares; revoke some first");
  }
  for (const Share& s : *existing) {
    // The recipient sees shares by owner and name, so a name must be unique per recipient.
    if (s.kind == ShareKind::kUser && s.user == user && s.name == item.name) {
      return absl::AlreadyExistsError("something of that name is already shared with them");
    }
  }
  Share share;
  share.id = keys::RandomId();
  share.kind = ShareKind::kUser;
  share.owner = std::string(owner);
  share.path = *normal;
  share.node_id = item.id;
  share.name = item.name;
  share.permission = permission;
  share.user = std::string(user);
  share.created_ms = Now();
  if (auto s = Store(share, ""); !s.ok()) return s;
  return share;
}

absl::StatusOr<std::vector<Share>> Shares::ListMine(std::string_view owner) {
  if (auto s = ValidateUser(owner); !s.ok()) return s;
  auto cells = ListRow(kvs_, SharesRow(owner));
  if (!cells.ok()) return cells.status();
  auto counts = ListRow(kvs_, CountsRow(owner));
  if (!counts.ok()) return counts.status();
  std::vector<Share> out;
  for (const auto& cell : *cells) {
    auto share = Parse(cell.value);
    if (!share.ok()) continue;  // one bad record must not hide the rest
    out.push_back(FromProto(*share));
    if (!out.back().moving_to.empty()) {
      // A move ended without its last step: show where the item is.
      if (auto at = CurrentPath(out.back()); at.ok()) out.back().path = *at;
    }
    for (const auto& count : *counts) {
      if (count.column == cell.column) (void)absl::SimpleAtoi(count.value, &out.back().downloads);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Share& a, const Share& b) { return a.created_ms > b.created_ms; });
  return out;
}

absl::StatusOr<std::vector<Share>> Shares::ListIncoming(std::string_view user) {
  if (auto s = ValidateUser(user); !s.ok()) return s;
  auto cells = ListRow(kvs_, IncomingRow(user));
  if (!cells.ok()) return cells.status();
  std::vector<Share> out;
  for (const auto& cell : *cells) {
    auto share = Parse(cell.value);
    if (share.ok()) out.push_back(FromProto(*share));
  }
  return out;
}

absl::Status Shares::Revoke(std::string_view owner, std::string_view id) {
  if (auto s = ValidateUser(owner); !s.ok()) return s;
  auto raw = kvs_->Get(SharesRow(owner), id);
  if (!raw.ok()) return raw.status();
  auto share = Parse(*raw);
  if (!share.ok()) return share.status();
  // Access goes first: once this returns, no frontend finds the share any more.
  absl::Status access =
      share->kind() == pb::Share::LINK
          ? kvs_->Delete(LinkRow(share->token()), kLinkColumn)
          : kvs_->Delete(IncomingRow(share->user()), IncomingColumn(share->owner(), share->id()));
  if (!access.ok()) return access;
  if (auto s = kvs_->Delete(SharesRow(owner), id); !s.ok()) return s;
  return kvs_->Delete(CountsRow(owner), id);
}

absl::StatusOr<Share> Shares::OpenLink(std::string_view token) {
  auto raw = kvs_->Get(LinkRow(token), kLinkColumn);
  if (absl::IsNotFound(raw.status())) return absl::NotFoundError("no such link");
  if (!raw.ok()) return raw.status();
  auto share = Parse(*raw);
  if (!share.ok()) return share.status();
  if (share->token() != token) return absl::NotFoundError("no such link");
  if (share->expires_ms() != 0 && share->expires_ms() <= Now()) {
    return absl::NotFoundError("this link has expired");
  }
  Share link = FromProto(*share);
  auto at = CurrentPath(link);
  if (!at.ok()) return at.status();
  link.path = *at;
  return link;
}

absl::StatusOr<std::string> Shares::LinkSecret(const Share& link) {
  auto raw = kvs_->Get(LinkRow(link.token), kLinkColumn);
  if (!raw.ok()) return raw.status();
  auto share = Parse(*raw);
  if (!share.ok()) return share.status();
  return share->password_hash();
}

absl::StatusOr<bool> Shares::CheckLinkPassword(const Share& link, std::string_view password) {
  auto hash = LinkSecret(link);
  if (!hash.ok()) return hash.status();
  if (hash->empty()) return true;
  if (password.empty() || password.size() > kMaxSharePasswordBytes) return false;
  return accounts::VerifyPassword(password, *hash);
}

absl::StatusOr<std::string> Shares::Resolve(const Share& share, std::string_view relative) {
  auto parts = SplitPath(relative);
  if (!parts.ok()) return parts.status();
  auto base = SplitPath(share.path);
  if (!base.ok()) return base.status();
  base->insert(base->end(), parts->begin(), parts->end());
  if (base->size() > kMaxDepth) return absl::InvalidArgumentError("the path is too deep");
  return JoinPath(*base);
}

void Shares::CountDownload(const Share& link) {
  std::string row = CountsRow(link.owner);
  for (int attempt = 0; attempt < kCountAttempts; ++attempt) {
    auto current = kvs_->Get(row, link.id);
    uint64_t n = 0;
    std::optional<std::string> expected;
    if (current.ok()) {
      expected = *current;
      (void)absl::SimpleAtoi(*current, &n);
    } else if (!absl::IsNotFound(current.status())) {
      return;
    }
    auto done = kvs_->CPut(row, link.id,
                           expected ? std::optional<std::string_view>(*expected) : std::nullopt,
                           std::to_string(n + 1));
    if (!done.ok() || *done) return;
  }
}

absl::StatusOr<SharedPath> Shares::ResolveIncoming(std::string_view user, std::string_view path,
                                                   bool write) {
  auto parts = SplitPath(path);
  if (!parts.ok()) return parts.status();
  if (parts->size() < 2) return absl::NotFoundError("not a shared item");
  auto incoming = ListIncoming(user);
  if (!incoming.ok()) return incoming.status();
  for (Share& share : *incoming) {
    if (share.owner != (*parts)[0] || share.name != (*parts)[1]) continue;
    if (write && share.permission != SharePermission::kWrite) {
      return absl::PermissionDeniedError("this share is read-only");
    }
    auto at = CurrentPath(share);
    if (!at.ok()) return at.status();
    share.path = *at;
    std::vector<std::string> rest(parts->begin() + 2, parts->end());
    auto owner_path = Resolve(share, JoinPath(rest));
    if (!owner_path.ok()) return owner_path.status();
    return SharedPath{share, *owner_path};
  }
  return absl::NotFoundError("nothing of that name is shared with you");
}

absl::StatusOr<std::string> Shares::CurrentPath(const Share& share) {
  for (const std::string* path : {&share.path, &share.moving_to}) {
    if (path->empty()) continue;
    auto info = drive_->Stat(share.owner, *path);
    if (info.ok() && (share.node_id.empty() || info->id == share.node_id)) return *path;
    // Missing, or a file where a folder was: not there. Anything else: cannot tell.
    if (!info.ok() && !absl::IsNotFound(info.status()) &&
        !absl::IsFailedPrecondition(info.status())) {
      return absl::Status(info.status().code(), "the shared item cannot be reached now");
    }
  }
  return absl::NotFoundError("the shared item is gone (deleted, or in its owner's trash)");
}

absl::Status Shares::Rewrite(const Share& share, const std::function<void(pb::Share&)>& change) {
  // The access record first, then the owner's list, the same order as Store: the access
  // record is what serves requests, the owner's list what the next move reads.
  std::pair<std::string, std::string> copies[] = {
      share.kind == ShareKind::kLink
          ? std::pair{LinkRow(share.token), std::string(kLinkColumn)}
          : std::pair{IncomingRow(share.user), IncomingColumn(share.owner, share.id)},
      {SharesRow(share.owner), share.id}};
  for (const auto& [row, column] : copies) {
    bool done = false;
    for (int attempt = 0; attempt < kRewriteAttempts && !done; ++attempt) {
      auto raw = kvs_->Get(row, column);
      // Revoked meanwhile: a blind write would bring the share back.
      if (absl::IsNotFound(raw.status())) break;
      if (!raw.ok()) return raw.status();
      auto record = Parse(*raw);
      if (!record.ok()) return record.status();
      change(*record);
      std::string next = Serialize(*record);
      if (next == *raw) break;
      auto put = kvs_->CPut(row, column, *raw, next);
      if (!put.ok()) return put.status();
      done = *put;
    }
  }
  return absl::OkStatus();
}

// Crash safety without a multi-row transaction (the store has none): every share about to
// move first gets `moving_to` (its new path) in both copies, then the tree changes, then
// `path` becomes the new path. Whatever step a crash stops at, the item is at `path` or at
// `moving_to`, and CurrentPath serves whichever holds the item's id; the next move that
// touches the share settles it. The owner's lock (share_lock.h) is held from the first read
// of the records to the last step, so two moves never work from each other's old paths.
absl::StatusOr<AfterMove> Shares::FollowMove(const std::string& owner, const std::string& from,
                                             const std::string& to) {
  auto lock = lock_.Acquire(owner);
  if (!lock.ok()) return lock.status();
  absl::Cleanup release = [&] { lock_.Release(owner, *lock); };
  auto cells = ListRow(kvs_, SharesRow(owner));
  if (!cells.ok()) return cells.status();
  struct Moving {
    Share share;
    std::string target;
  };
  std::vector<Moving> moving;
  for (const auto& cell : *cells) {
    auto record = Parse(cell.value);
    if (!record.ok()) continue;
    Share share = FromProto(*record);
    bool touched = PathWithin(share.path, from) ||
                   (!share.moving_to.empty() && PathWithin(share.moving_to, from));
    if (!touched) continue;
    if (!share.moving_to.empty()) {
      // An earlier move of it never took its last step: start from where the item is.
      auto at = CurrentPath(share);
      if (!at.ok() && !absl::IsNotFound(at.status())) return at.status();
      if (at.ok()) share.path = *at;
      share.moving_to.clear();
    }
    std::string target = PathWithin(share.path, from) ? MovedPath(share.path, from, to) : "";
    auto status = Rewrite(share, [&](pb::Share& r) {
      r.set_path(share.path);
      r.set_moving_to(target);
    });
    if (!status.ok()) return status;
    if (!target.empty()) moving.push_back({std::move(share), std::move(target)});
  }
  std::move(release).Cancel();  // the lock now goes with the last step
  return AfterMove([this, owner, token = *lock, moving = std::move(moving)](bool moved) {
    for (const Moving& m : moving) {
      // Only the item's id says whether it went: under a restore's new name, a share of
      // whatever holds the old name stays where it is.
      bool arrived = moved;
      if (moved && !m.share.node_id.empty()) {
        auto info = drive_->Stat(owner, m.target);
        arrived = info.ok() && info->id == m.share.node_id;
      }
      auto status = Rewrite(m.share, [&](pb::Share& r) {
        if (arrived && r.path() == m.share.path) r.set_path(m.target);
        if (r.moving_to() == m.target) r.clear_moving_to();
      });
      // Not fatal: the records still name both places, and CurrentPath finds the item.
      if (!status.ok()) {
        PC_LOG(kWarn, "drive.share_move_unfinished")
        ("share", m.share.id)("error", status.ToString());
      }
    }
    lock_.Release(owner, token);
  });
}

absl::Status AsSeenThroughShare(const absl::Status& status, const std::vector<ShareView>& views) {
  std::string_view message(status.message().data(), status.message().size());
  // The drive's messages end in the path they are about: "no such folder: /a/b".
  size_t colon = message.find(": /");
  if (status.ok() || colon == std::string_view::npos) return status;
  std::string_view named = message.substr(colon + 2);
  std::string text(message.substr(0, colon));
  for (const ShareView& view : views) {
    if (!PathWithin(named, view.share->path)) continue;
    std::string_view rest = named.substr(view.share->path.size());
    text.append(": ").append(rest.empty() || view.root != "/" ? view.root : "").append(rest);
    break;
  }
  absl::Status seen(status.code(), text);
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { seen.SetPayload(url, payload); });
  return seen;
}

}  // namespace penncloud::drive
