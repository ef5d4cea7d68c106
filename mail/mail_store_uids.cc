#include "mail/mail_store_uids.h"

#include "mail/text.h"

namespace penncloud::mail {
namespace {

// Folders remembered at most; past this the idle ones are forgotten (their next batch
// reads the cell first).
constexpr size_t kMaxFolders = 10'000;
constexpr size_t kMaxWrittenRemembered = 1'000;

}  // namespace

UidBatcher::Folder& UidBatcher::FolderOf(std::string_view user, std::string_view folder) {
  return folders_[Cat(user, std::string_view("\0", 1), folder)];
}

absl::StatusOr<TakenUid> UidBatcher::Take(std::string_view user, std::string_view folder,
                                          std::string_view id) {
  Waiter me;
  me.id = id;
  std::unique_lock lock(mu_);
  Folder& f = FolderOf(user, folder);
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
  std::vector<std::string> written = std::move(f.written);
  f.written.clear();
  lock.unlock();
  std::vector<std::string> ids;
  for (const Waiter* w : batch) ids.push_back(w->id);
  auto state = reserve_(user, folder, ids, written, known);
  lock.lock();
  f.busy = false;
  if (!state.ok()) {  // their records may still be there: the next batch drops them
    f.written.insert(f.written.end(), written.begin(), written.end());
  }
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
    // A forgotten folder's records of written entries are dropped by a reader instead.
    std::erase_if(folders_, [](const auto& entry) {
      return !entry.second.busy && entry.second.waiting.empty();
    });
  }
  cv_.notify_all();
}

void UidBatcher::Written(std::string_view user, std::string_view folder, std::string_view id) {
  std::lock_guard lock(mu_);
  std::vector<std::string>& written = FolderOf(user, folder).written;
  // Bounded like the cell's records: a folder this process no longer delivers to keeps at
  // most this many (readers drop the records of entries they list).
  if (written.size() < kMaxWrittenRemembered) written.emplace_back(id);
}

}  // namespace penncloud::mail
