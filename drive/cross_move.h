// Moves between two users' drives: a share and one's own drive, either way, or two owners'
// shares. No store write spans two drives (their rows are keyed by owner and may live in
// different groups), so such a move copies the item into the destination's drive and then
// sends the source to its owner's trash. What makes it whole is an intent record, written
// before the first change and deleted after the last:
//
//   1. The intent (proto/drive_move.proto) names both ends, the source's id and the id the
//      copy will carry, leased to this process.
//   2. COPYING: the item is copied under that id. A run that stops part way is picked up
//      where it stopped: what is already at the destination under the move's id was put
//      there by an earlier run and is kept.
//   3. COPIED (one compare-and-put of the intent): the shares of the moved items go to the
//      destination's owner (Shares::HandOver), the source goes to its owner's trash if it
//      still holds the id the move began with (Drive::TrashForMove: written to the trash
//      hidden under the move's id, taken out of the tree, then shown), and the intent is
//      deleted.
//
// If the move cannot finish (the source changed or went, the destination was taken, the
// quota is full), it is taken back: the partial copy is deleted for good, the intent with
// it, and the caller hears why. A process that dies leaves the intent leased; once the lease
// runs out, any frontend's sweep (ResumeStale) claims it and drives it to one end or the
// other. So after any crash, once swept, the move left either no trace or all of it.
// Errors are those of drive.h. kUnavailable says the move was left to a sweep: the store did
// not answer during the copy (the sweep may still finish it), or the copy is whole and its
// last steps follow.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "drive/drive.h"
#include "drive/share.h"
#include "drive/share_lock.h"
#include "kvs/client/client.h"

namespace penncloud::drive {

namespace pb {
class MoveIntent;
}

struct CrossMoveOptions {
  // Milliseconds since the epoch; tests substitute a fake clock.
  std::function<int64_t()> now_ms;
  // How long a move is its runner's before a sweep may take it over; renewed at each stage
  // and, during the copy, whenever a third of it has passed.
  int64_t lease_ms = 120'000;
  // If above 0, a thread runs ResumeStale this often.
  int64_t sweep_interval_ms = 0;
};

class CrossDriveMoves {
 public:
  CrossDriveMoves(kvs::Client* kvs, Drive* drive, Shares* shares, CrossMoveOptions options = {});
  ~CrossDriveMoves();
  CrossDriveMoves(const CrossDriveMoves&) = delete;
  CrossDriveMoves& operator=(const CrossDriveMoves&) = delete;

  // Moves `from_owner`'s file or folder at `from` to `to_owner`'s `to` (the owners differ).
  // With `overwrite`, whatever is at `to` goes to `to_owner`'s trash first; otherwise
  // kAlreadyExists. Returns once the move is whole, or taken back (with the reason).
  absl::Status Move(std::string_view from_owner, std::string_view from, std::string_view to_owner,
                    std::string_view to, bool overwrite);

  // Claims every move whose lease has run out and finishes it or takes it back (a store
  // error leaves it for the next sweep), but for the moves this object is running now (a
  // store write that stalls past the lease does not make its runner dead). Returns how many
  // it claimed.
  absl::StatusOr<int> ResumeStale();

 private:
  int64_t Now() const;
  // Drives a claimed intent (stored as `raw`) to its end.
  absl::Status Run(pb::MoveIntent intent, std::string raw);
  // Copies the item, renewing the lease (stored as `*raw`) as it goes; kUnavailable if
  // another runner took the move over.
  absl::Status Copy(const pb::MoveIntent& intent, std::string* raw);
  // The COPIED stage: shares, the source to the trash, the intent deleted.
  absl::Status Finish(const pb::MoveIntent& intent, const std::string& raw);
  // Deletes the partial copy and the intent, if the intent is still ours.
  void TakeBack(const pb::MoveIntent& intent, const std::string& raw);
  // Rewrites the intent from `*raw` to `next`, leased to us again; false if it is not ours.
  absl::StatusOr<bool> Renew(std::string* raw, pb::MoveIntent& next);
  void SweepLoop();

  kvs::Client* kvs_;
  Drive* drive_;
  Shares* shares_;
  CrossMoveOptions options_;
  const std::string holder_;  // this process, in the leases it takes
  ShareLock lock_;            // the source owner's, while the source goes to the trash

  // Marks a move as run by this object for as long as it lives.
  class Running;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;              // GUARDED_BY(mu_)
  std::set<std::string> running_ids_;  // GUARDED_BY(mu_)
  std::thread sweeper_;
};

}  // namespace penncloud::drive
