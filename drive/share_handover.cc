// A move between two users' drives gives the moved items to the destination's owner, and
// their shares go with them: the same links (same tokens, passwords, expiry, counts) and the
// same accounts now reach the copy, and the new owner lists and revokes them. A share with
// the new owner themself ends (it is theirs now). Driven by cross_move.cc, after the copy is
// whole and before the source goes to the trash.
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "drive/locks.h"
#include "drive/path.h"
#include "drive/share.h"
#include "drive/share_records.h"

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

// The recipient sees shares by owner and name: a name the new owner already shares with
// them becomes "name (2)", "name (3)", ...
std::string FreeName(const std::string& name, const std::set<std::string>& taken) {
  if (!taken.contains(name)) return name;
  for (int n = 2;; ++n) {
    std::string candidate = absl::StrCat(name, " (", n, ")");
    if (!taken.contains(candidate)) return candidate;
  }
}

// A delete whose cell may already be gone (a handover run again after a crash).
absl::Status DeleteCell(kvs::Client* kvs, const std::string& row, const std::string& column) {
  absl::Status s = kvs->Delete(row, column);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

}  // namespace

absl::Status Shares::HandOver(const std::string& from_owner, const std::string& from,
                              const std::string& to_owner, const std::string& to) {
  // The new owner's moves wait, so the paths named here stay true until written.
  auto lock = lock_.Acquire(to_owner);
  if (!lock.ok()) return lock.status();
  absl::Cleanup release = [&] { lock_.Release(to_owner, *lock); };
  auto cells = ListRow(kvs_, SharesRow(from_owner));
  if (!cells.ok()) return cells.status();
  auto theirs = ListRow(kvs_, SharesRow(to_owner));
  if (!theirs.ok()) return theirs.status();
  std::map<std::string, std::set<std::string>> names;  // the new owner's, per recipient
  for (const auto& cell : *theirs) {
    auto record = Parse(cell.value);
    if (record.ok() && record->kind() == pb::Share::USER) {
      names[record->user()].insert(FromProto(*record).name);
    }
  }
  for (const auto& cell : *cells) {
    auto record = Parse(cell.value);
    if (!record.ok()) continue;
    Share share = FromProto(*record);
    if (!PathWithin(share.path, from) &&
        !(!share.moving_to.empty() && PathWithin(share.moving_to, from))) {
      continue;
    }
    // Only a share whose item is inside what was copied: not one left behind (in the trash
    // already, say), nor one of something newer at its old path.
    auto at = CurrentPath(share);
    if (absl::IsNotFound(at.status())) continue;
    if (!at.ok()) return at.status();
    if (!PathWithin(*at, from)) continue;
    std::string new_path = to + at->substr(from.size());
    auto copy = drive_->Stat(to_owner, new_path);
    if (absl::IsNotFound(copy.status())) continue;  // added to the source after it was copied
    if (!copy.ok()) return copy.status();

    pb::Share moved = *record;
    moved.set_owner(to_owner);
    moved.set_path(new_path);
    moved.clear_moving_to();
    moved.set_node_id(copy->id);
    bool to_themself = moved.kind() == pb::Share::USER && moved.user() == to_owner;
    if (!to_themself) {
      if (moved.kind() == pb::Share::USER) {
        auto& taken = names[moved.user()];
        moved.set_name(FreeName(share.name, taken));
        taken.insert(moved.name());
      }
      // The new owner's list first, as when a share is made, then the access record.
      if (auto s = kvs_->Put(SharesRow(to_owner), share.id, Serialize(moved)); !s.ok()) return s;
      if (moved.kind() == pb::Share::LINK) {
        if (auto s = kvs_->Put(LinkRow(moved.token()), kLinkColumn, Serialize(moved)); !s.ok()) {
          return s;
        }
      } else {
        pb::Share incoming = moved;
        incoming.clear_token();
        incoming.clear_password_hash();
        if (auto s = kvs_->Put(IncomingRow(moved.user()), IncomingColumn(to_owner, share.id),
                               Serialize(incoming));
            !s.ok()) {
          return s;
        }
      }
      if (auto count = kvs_->Get(CountsRow(from_owner), share.id); count.ok()) {
        if (auto s = kvs_->Put(CountsRow(to_owner), share.id, *count); !s.ok()) return s;
      } else if (!absl::IsNotFound(count.status())) {
        return count.status();
      }
    }
    // Then the old owner's records go, their list last: while it names the share, a run of
    // this hand-over after a crash finds it again.
    if (moved.kind() == pb::Share::USER) {
      if (auto s =
              DeleteCell(kvs_, IncomingRow(moved.user()), IncomingColumn(from_owner, share.id));
          !s.ok()) {
        return s;
      }
    }
    if (auto s = DeleteCell(kvs_, CountsRow(from_owner), share.id); !s.ok()) return s;
    if (auto s = DeleteCell(kvs_, SharesRow(from_owner), share.id); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace penncloud::drive
