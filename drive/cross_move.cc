#include "drive/cross_move.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "drive/keys.h"
#include "drive/path.h"
#include "proto/drive_move.pb.h"

namespace penncloud::drive {
namespace {

// One row for every user's moves under way: a sweep reads one row, and it is empty but
// for moves whose runner is busy or died.
constexpr std::string_view kIntentsRow = "drive-move/intents";
constexpr int kSweepPage = 100;

std::string Serialize(const pb::MoveIntent& intent) {
  std::string out;
  intent.SerializeToString(&out);
  return out;
}

// Errors after which the move is worth resuming rather than taking back: the store did not
// answer, so nothing says the move cannot finish.
bool Transient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

}  // namespace

class CrossDriveMoves::Running {
 public:
  Running(CrossDriveMoves* moves, std::string id) : moves_(moves), id_(std::move(id)) {
    std::lock_guard lock(moves_->mu_);
    moves_->running_ids_.insert(id_);
  }
  ~Running() {
    std::lock_guard lock(moves_->mu_);
    moves_->running_ids_.erase(id_);
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

 private:
  CrossDriveMoves* moves_;
  std::string id_;
};

CrossDriveMoves::CrossDriveMoves(kvs::Client* kvs, Drive* drive, Shares* shares,
                                 CrossMoveOptions options)
    : kvs_(kvs),
      drive_(drive),
      shares_(shares),
      options_(std::move(options)),
      holder_(keys::RandomId()),
      lock_(kvs, [this] { return Now(); }) {
  if (options_.sweep_interval_ms > 0) sweeper_ = std::thread([this] { SweepLoop(); });
}

CrossDriveMoves::~CrossDriveMoves() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

int64_t CrossDriveMoves::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status CrossDriveMoves::Move(std::string_view from_owner, std::string_view from,
                                   std::string_view to_owner, std::string_view to, bool overwrite) {
  if (auto s = ValidateUser(from_owner); !s.ok()) return s;
  if (auto s = ValidateUser(to_owner); !s.ok()) return s;
  if (from_owner == to_owner) return absl::InvalidArgumentError("a move within one drive");
  auto src = SplitPath(from);
  if (!src.ok()) return src.status();
  auto dst = SplitPath(to);
  if (!dst.ok()) return dst.status();
  if (src->empty() || dst->empty()) {
    return absl::FailedPreconditionError("the root folder cannot be moved or replaced");
  }
  // What can be refused before anything is written is refused here, leaving no intent.
  auto from_id = drive_->IdAt(std::string(from_owner), *src);
  if (!from_id.ok()) return from_id.status();
  auto parent = drive_->Stat(to_owner, JoinPath({dst->begin(), dst->end() - 1}));
  if (!parent.ok()) return parent.status();
  if (!parent->folder) return absl::FailedPreconditionError("the destination's parent is a file");
  auto taken = drive_->IdAt(std::string(to_owner), *dst);
  if (taken.ok() && !overwrite) {
    return absl::AlreadyExistsError(absl::StrCat("already exists: ", JoinPath(*dst)));
  }
  if (!taken.ok() && !absl::IsNotFound(taken.status())) return taken.status();

  pb::MoveIntent intent;
  intent.set_id(keys::RandomId());
  intent.set_from_owner(std::string(from_owner));
  intent.set_from_path(JoinPath(*src));
  intent.set_from_id(*from_id);
  intent.set_to_owner(std::string(to_owner));
  intent.set_to_path(JoinPath(*dst));
  intent.set_to_id(keys::RandomId());
  intent.set_overwrite(overwrite);
  intent.set_stage(pb::MoveIntent::COPYING);
  intent.set_holder(holder_);
  intent.set_lease_until_ms(Now() + options_.lease_ms);
  intent.set_started_ms(Now());
  std::string raw = Serialize(intent);
  Running running(this, intent.id());
  if (auto s = kvs_->Put(kIntentsRow, intent.id(), raw); !s.ok()) return s;
  return Run(std::move(intent), std::move(raw));
}

absl::Status CrossDriveMoves::Run(pb::MoveIntent intent, std::string raw) {
  if (intent.stage() == pb::MoveIntent::COPYING) {
    if (auto s = Copy(intent, &raw); !s.ok()) {
      if (!Transient(s)) TakeBack(intent, raw);
      return s;
    }
    pb::MoveIntent copied = intent;
    copied.set_stage(pb::MoveIntent::COPIED);
    auto renewed = Renew(&raw, copied);
    if (!renewed.ok()) return renewed.status();
    if (!*renewed) return absl::UnavailableError("the move is being finished elsewhere");
    intent = std::move(copied);
  }
  // From here the move only goes forward: every step can be run again, and a step that
  // fails is left to a sweep, which finishes it.
  absl::Status s = Finish(intent, raw);
  if (s.ok()) return s;
  return absl::UnavailableError(absl::StrCat(
      "moved; the rest (shares, the source to the trash) follows shortly: ", s.message()));
}

absl::Status CrossDriveMoves::Finish(const pb::MoveIntent& intent, const std::string& raw) {
  if (auto s = shares_->HandOver(intent.from_owner(), intent.from_path(), intent.to_owner(),
                                 intent.to_path());
      !s.ok()) {
    return s;
  }
  auto src = SplitPath(intent.from_path());
  if (!src.ok()) return src.status();
  {
    // The source owner's moves wait (share_lock.h), so the source stays where the intent
    // names it while it goes to the trash.
    auto lock = lock_.Acquire(intent.from_owner());
    if (!lock.ok()) return lock.status();
    absl::Status trashed =
        drive_->TrashForMove(intent.from_owner(), *src, intent.from_id(), intent.id());
    lock_.Release(intent.from_owner(), *lock);
    if (!trashed.ok()) return trashed;
  }
  return kvs_->CDelete(kIntentsRow, intent.id(), raw).status();
}

absl::Status CrossDriveMoves::Copy(const pb::MoveIntent& intent, std::string* raw) {
  auto src = SplitPath(intent.from_path());
  if (!src.ok()) return src.status();
  auto dst = SplitPath(intent.to_path());
  if (!dst.ok()) return dst.status();
  auto now = drive_->IdAt(intent.from_owner(), *src);
  if (!now.ok()) return now.status();
  if (*now != intent.from_id()) {
    return absl::AbortedError("the source was replaced during the move; try again");
  }
  auto there = drive_->IdAt(intent.to_owner(), *dst);
  if (there.ok() && *there != intent.to_id()) {
    if (!intent.overwrite()) {
      return absl::AlreadyExistsError(absl::StrCat("already exists: ", intent.to_path()));
    }
    if (auto s = drive_->RemoveIfId(intent.to_owner(), *dst, *there, /*final=*/false); !s.ok()) {
      return s;
    }
  } else if (!there.ok() && !absl::IsNotFound(there.status())) {
    return there.status();
  }
  // A copy can outlast the lease (a large folder, a loaded store): the lease is renewed as it
  // goes, so no sweep takes over a move whose runner is still copying (both would copy, and
  // this runner would give up with a 503 at its next stage).
  int64_t renewed_ms = intent.lease_until_ms() - options_.lease_ms;
  auto keep_lease = [&]() -> absl::Status {
    if (Now() - renewed_ms < options_.lease_ms / 3) return absl::OkStatus();
    pb::MoveIntent next = intent;
    auto ours = Renew(raw, next);
    if (!ours.ok()) return ours.status();
    if (!*ours) return absl::UnavailableError("the move is being finished elsewhere");
    renewed_ms = Now();
    return absl::OkStatus();
  };
  return drive_->CopyMissing(intent.from_owner(), *src, intent.to_owner(), *dst, intent.to_id(),
                             keep_lease);
}

void CrossDriveMoves::TakeBack(const pb::MoveIntent& intent, const std::string& raw) {
  std::string current = raw;
  pb::MoveIntent next = intent;
  auto ours = Renew(&current, next);
  if (!ours.ok() || !*ours) return;  // a sweep ends it
  auto dst = SplitPath(intent.to_path());
  if (!dst.ok()) return;
  // The copy is only a copy (the source stays), so it goes for good, not to the trash.
  if (auto s = drive_->RemoveIfId(intent.to_owner(), *dst, intent.to_id(), /*final=*/true);
      !s.ok()) {
    PC_LOG(kWarn, "drive.cross_move_take_back_failed")("move", intent.id())("error", s);
    return;
  }
  (void)kvs_->CDelete(kIntentsRow, intent.id(), current);
}

absl::StatusOr<bool> CrossDriveMoves::Renew(std::string* raw, pb::MoveIntent& next) {
  next.set_holder(holder_);
  next.set_lease_until_ms(Now() + options_.lease_ms);
  std::string value = Serialize(next);
  auto done = kvs_->CPut(kIntentsRow, next.id(), *raw, value);
  if (!done.ok()) return done.status();
  if (*done) *raw = std::move(value);
  return *done;
}

absl::StatusOr<int> CrossDriveMoves::ResumeStale() {
  auto page = kvs_->List(kIntentsRow, {.after = "", .limit = kSweepPage, .with_values = true});
  if (!page.ok()) return page.status();
  int claimed_count = 0;
  for (const auto& cell : page->cells) {
    pb::MoveIntent intent;
    if (!intent.ParseFromString(cell.value)) {
      PC_LOG(kWarn, "drive.cross_move_corrupt")("move", cell.column);
      continue;
    }
    if (intent.lease_until_ms() > Now()) continue;  // its runner is still at it
    {
      std::lock_guard lock(mu_);
      if (running_ids_.contains(intent.id())) continue;  // ours, and still at it
    }
    std::string raw = cell.value;
    auto claimed = Renew(&raw, intent);
    if (!claimed.ok()) return claimed.status();
    if (!*claimed) continue;  // another sweep got it
    Running running(this, intent.id());
    absl::Status s = Run(intent, raw);
    PC_LOG(kInfo, "drive.cross_move_resumed")("move", intent.id())("status", s);
    ++claimed_count;
  }
  return claimed_count;
}

void CrossDriveMoves::SweepLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.sweep_interval_ms));
    if (stopping_) break;
    lock.unlock();
    if (auto n = ResumeStale(); !n.ok()) {
      PC_LOG(kInfo, "drive.cross_move_sweep_failed")("error", n.status().ToString());
    }
    lock.lock();
  }
}

}  // namespace penncloud::drive
