#include "mail/search_manifest_reads.h"

#include "mail/search_index.h"

namespace penncloud::mail {

absl::StatusOr<pb::SearchManifest> ManifestReads::ReadAfterNow(std::string_view user) {
  std::unique_lock lock(mu_);
  auto it = users_.try_emplace(std::string(user)).first;
  Rounds& rounds = it->second;
  // Every round numbered past the latest begun has not begun yet.
  const uint64_t need = rounds.started + 1;
  ++rounds.waiters;
  absl::StatusOr<pb::SearchManifest> out;
  while (true) {
    if (rounds.done >= need) {
      out = rounds.result;
      break;
    }
    if (!rounds.running) {
      rounds.running = true;
      rounds.started = rounds.done + 1;
      lock.unlock();
      auto read = ReadManifest(kvs_, user);
      lock.lock();
      rounds.result = read.ok() ? absl::StatusOr<pb::SearchManifest>(std::move(read->manifest))
                                : absl::StatusOr<pb::SearchManifest>(read.status());
      rounds.done = rounds.started;
      rounds.running = false;
      finished_.notify_all();
      continue;
    }
    finished_.wait(lock);
  }
  if (--rounds.waiters == 0 && !rounds.running) users_.erase(it);
  return out;
}

}  // namespace penncloud::mail
