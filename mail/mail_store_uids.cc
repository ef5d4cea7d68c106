#include "mail/mail_store_uids.h"

#include "mail/text.h"

namespace penncloud::mail {
namespace {

// Folders remembered at most; past this the idle ones are forgotten (their next batch
// reads the cell first).
constexpr size_t kMaxFolders = 10'000;

}  // namespace

absl::StatusOr<TakenUid> UidBatcher::Take(std::string_view user, std::string_view folder) {
  Waiter me;
  std::unique_lock lock(mu_);
  Folder& f = folders_[Cat(user, std::string_view("\0", 1), folder)];
  f.waiting.push_back(&me);
  // Once `me` is done its folder may be forgotten: nothing touches `f` after that.
  while (!me.done) {
    if (f.busy) {
      cv_.wait(lock);
    } else {
      ServeBatch(lock, user, folder, f);
    }
  }
  return std::move(me.result);
}

void UidBatcher::ServeBatch(std::unique_lock<std::mutex>& lock, std::string_view user,
                            std::string_view folder, Folder& f) {
  f.busy = true;
  std::vector<Waiter*> batch = std::move(f.waiting);
  f.waiting.clear();
  std::optional<pb::FolderState> known = f.known;
  lock.unlock();
  auto state = reserve_(user, folder, static_cast<uint32_t>(batch.size()), known);
  lock.lock();
  f.busy = false;
  if (state.ok()) {
    f.known = *state;
    // The cell went from (uid_next - n, highest_modseq - n) to these: one of each per waiter.
    const uint32_t first_uid = state->uid_next() - static_cast<uint32_t>(batch.size());
    const uint64_t first_modseq = state->highest_modseq() - batch.size() + 1;
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->result = TakenUid{first_uid + static_cast<uint32_t>(i), first_modseq + i};
    }
  } else {
    f.known.reset();
    for (Waiter* w : batch) w->result = state.status();
  }
  for (Waiter* w : batch) w->done = true;
  if (folders_.size() > kMaxFolders) {
    std::erase_if(folders_, [](const auto& entry) {
      return !entry.second.busy && entry.second.waiting.empty();
    });
  }
  cv_.notify_all();
}

}  // namespace penncloud::mail
