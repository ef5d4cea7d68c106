// UIDs for the messages concurrent deliveries add to one folder (mail_store.h). Each new
// entry needs the folder's next UID and change number, taken by compare-and-put of the
// folder's cell; deliveries to one busy mailbox would all race for that one cell. Here
// the deliveries of one process share the work instead: whoever asks first advances the
// cell by one for every delivery waiting on the same folder, in one compare-and-put, and
// hands each its own UID. The cell as last written is remembered, so that compare-and-put
// needs no read first unless another writer (another process, a flag change) moved it.
// UIDs stay unique across processes because the cell is only ever advanced by
// compare-and-put; a batch whose entries are never written only leaves UIDs unused.
//
// Each UID taken is recorded in the cell as reserved (pb::FolderState::Reservation) until
// its entry is written, so that readers show no entry above it meanwhile (mail_store.h).
// Dropping the record costs no write of its own: the entries this process has written
// since are dropped by its next batch of the folder.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/mail.pb.h"

namespace penncloud::mail {

struct TakenUid {
  uint32_t uid = 0;
  uint64_t modseq = 0;
};

class UidBatcher {
 public:
  // Advances the folder's cell by one UID and change number for each of `ids` (in order),
  // recording them as reserved and dropping the records of `written`, trying `known` (the
  // cell as last seen) as the expected value first; returns the cell as written.
  using Reserve = std::function<absl::StatusOr<pb::FolderState>(
      std::string_view user, std::string_view folder, const std::vector<std::string>& ids,
      const std::vector<std::string>& written, const std::optional<pb::FolderState>& known)>;
  explicit UidBatcher(Reserve reserve) : reserve_(std::move(reserve)) {}

  // A UID for the entry of message `id`.
  absl::StatusOr<TakenUid> Take(std::string_view user, std::string_view folder,
                                std::string_view id);
  // The entry of `id` that took a UID here is written (or never will be): its record can go.
  void Written(std::string_view user, std::string_view folder, std::string_view id);

 private:
  struct Waiter {
    std::string id;
    bool done = false;
    absl::StatusOr<TakenUid> result;
  };
  struct Folder {
    std::vector<Waiter*> waiting;
    bool busy = false;  // a batch of this folder is being reserved
    std::optional<pb::FolderState> known;
    std::vector<std::string> written;  // reserved here, written since the last batch
  };
  Folder& FolderOf(std::string_view user, std::string_view folder);  // REQUIRES: mu_ held
  // Reserves UIDs for `f`'s waiters; called and returns with mu_ held.
  void ServeBatch(std::unique_lock<std::mutex>& lock, std::string_view user,
                  std::string_view folder, Folder& f);

  const Reserve reserve_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Folder> folders_;  // GUARDED_BY(mu_), by user '\0' folder
};

}  // namespace penncloud::mail
