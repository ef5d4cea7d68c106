// Shares of a drive's files and folders: public links (anyone holding the token) and shares
// with another account. Records live in the KVS (layout in proto/drive_share.proto) and
// every access reads them again, so a revoked or expired share stops working at once on
// every frontend.
//
// A share names a path in the owner's drive and the shared item's id: it follows the item
// through every move (the Shares installs itself as the Drive's MoveHook) and serves only
// that item, never something else put at its old path. Paths inside a share are resolved
// with drive::SplitPath, which rejects "." and "..", so nothing outside the shared folder can
// be named. Errors are absl::Status values as in drive.h; kNotFound also covers "no such
// link", "expired", "not shared with you" and "the item is in the trash", so a guesser
// learns nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "accounts/password_hash.h"
#include "drive/drive.h"
#include "drive/share_lock.h"
#include "kvs/client/client.h"

namespace penncloud::drive {

namespace pb {
class Share;
}

enum class ShareKind { kLink, kUser };
enum class SharePermission {
  kRead,    // list and download
  kUpload,  // links only: add files, see nothing (a "file drop")
  kWrite,   // accounts only: read, add, replace and delete inside the share
};

struct Share {
  std::string id;  // names the share in the API (not a secret)
  ShareKind kind = ShareKind::kLink;
  std::string owner;
  std::string path;  // in the owner's drive, normalized; where the item is now once resolved
  SharePermission permission = SharePermission::kRead;
  std::string token;       // links: the secret in /s/{token} (empty for the recipient's view)
  bool password = false;   // links: whether a password is needed
  int64_t expires_ms = 0;  // links: 0 = never
  std::string user;        // account shares: who it is shared with
  int64_t created_ms = 0;
  uint64_t downloads = 0;  // links: files and zips served (filled by ListMine)
  std::string node_id;     // the item's EntryInfo.id ("" = whatever is at `path`)
  std::string moving_to;   // a move under way: the item is at `path` or here
  std::string name;        // accounts: the recipient's name for it, fixed when shared
};

struct ShareOptions {
  // Milliseconds since the epoch; tests substitute a fake clock.
  std::function<int64_t()> now_ms;
  accounts::HashParams hash_params;
};

struct LinkRequest {
  std::string path;
  SharePermission permission = SharePermission::kRead;  // kRead or kUpload
  std::optional<std::string> password;                  // 1-128 bytes
  int64_t expires_ms = 0;                               // 0 = never; else in the future
};

// A path inside someone's drive reached through a share.
struct SharedPath {
  Share share;
  std::string owner_path;  // the path in the owner's drive
};

inline constexpr size_t kMaxSharesPerOwner = 1000;
inline constexpr size_t kMaxSharePasswordBytes = 128;

class Shares {
 public:
  // Installs itself as `drive`'s MoveHook (one Shares per Drive) and removes it again when
  // destroyed.
  Shares(kvs::Client* kvs, Drive* drive, ShareOptions options = {});
  ~Shares();
  Shares(const Shares&) = delete;
  Shares& operator=(const Shares&) = delete;

  // A public link to an existing file or folder of `owner`. Upload links need a folder.
  absl::StatusOr<Share> CreateLink(std::string_view owner, const LinkRequest& request);
  // Shares an existing file or folder with `user` (kRead or kWrite). The caller checks that
  // the account exists. kAlreadyExists if that path is already shared with them.
  absl::StatusOr<Share> ShareWithUser(std::string_view owner, std::string_view path,
                                      std::string_view user, SharePermission permission);
  // The owner's shares, newest first, with download counts.
  absl::StatusOr<std::vector<Share>> ListMine(std::string_view owner);
  // What others shared with `user` (tokens never included).
  absl::StatusOr<std::vector<Share>> ListIncoming(std::string_view user);
  // Ends a share at once. kNotFound unless `owner` has a share `id`.
  absl::Status Revoke(std::string_view owner, std::string_view id);

  // The live link of `token`, its path where the item is now: kNotFound if there is none,
  // it has expired or its item is gone (in the trash, say).
  absl::StatusOr<Share> OpenLink(std::string_view token);
  // Whether `password` opens `link` (true for links without a password). Argon2: slow on
  // purpose, so callers rate-limit wrong guesses before they get here.
  absl::StatusOr<bool> CheckLinkPassword(const Share& link, std::string_view password);
  // The stored password hash of a protected link ("" if none): the secret that grants to
  // a browser that gave the right password are signed with (frontend/share_grant.h).
  absl::StatusOr<std::string> LinkSecret(const Share& link);
  // `relative` ("/", "/sub/f.txt") inside the shared item, as a path of the owner's drive.
  // A file share has only "/".
  absl::StatusOr<std::string> Resolve(const Share& share, std::string_view relative);
  // Counts one download of a link (best effort: a lost race is retried a few times).
  void CountDownload(const Share& link);

  // "/<owner>/<name>/rest" of user's "Shared with me" view: which share it falls in (its
  // path where the item is now) and the owner's path. kNotFound if no share of that owner
  // to `user` has that name or its item is gone; kPermissionDenied if `write` is asked of a
  // read-only share.
  absl::StatusOr<SharedPath> ResolveIncoming(std::string_view user, std::string_view path,
                                             bool write);

  // After a move between drives copied `from_owner`'s item at `from` whole to `to_owner`'s
  // `to`: the shares of that item and of everything inside become `to_owner`'s, serving the
  // copy (same ids, tokens, passwords, expiry and download counts; an account's name for it
  // gets " (2)" if the new owner already shares that name with them). A share with
  // `to_owner` themself ends. Run again after a crash, it finishes what is left.
  absl::Status HandOver(const std::string& from_owner, const std::string& from,
                        const std::string& to_owner, const std::string& to);

 private:
  int64_t Now() const;
  absl::StatusOr<std::string> NormalizeOwnerPath(std::string_view owner, std::string_view path,
                                                 EntryInfo* item);
  absl::Status Store(const Share& share, const std::string& password_hash);
  // Where the shared item is: `path` or `moving_to`, whichever holds node_id.
  absl::StatusOr<std::string> CurrentPath(const Share& share);
  // The MoveHook: marks the shares at or under `from` as moving to `to` before the tree
  // changes, and names the new path once it has (share.cc says why that order).
  absl::StatusOr<AfterMove> FollowMove(const std::string& owner, const std::string& from,
                                       const std::string& to);
  // Applies `change` to every stored copy of `share` that still exists (compare-and-put).
  absl::Status Rewrite(const Share& share, const std::function<void(pb::Share&)>& change);

  kvs::Client* kvs_;
  Drive* drive_;
  ShareOptions options_;
  ShareLock lock_;  // per owner, in the store: moves and new shares take turns
};

// A share as one viewer sees it: its root is "/Shared with me/<owner>/<name>" for its
// recipient, "/" for a link's visitors.
struct ShareView {
  const Share* share;
  std::string root;
};

// `status` of a drive call made on behalf of a share's viewer, as that viewer may see it: a
// path in the message inside one of `views` is named from that view's root, and any other
// path is dropped, so an error never shows the owner's folders.
absl::Status AsSeenThroughShare(const absl::Status& status, const std::vector<ShareView>& views);

// "read", "upload", "write" <-> SharePermission.
std::string_view PermissionName(SharePermission permission);
std::optional<SharePermission> ParsePermission(std::string_view name);

}  // namespace penncloud::drive
