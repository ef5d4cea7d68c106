#include "mail/imap_sources.h"

#include <algorithm>

#include "mail/search_concurrency.h"

namespace penncloud::mail {

SourceBatches::SourceBatches(MailStore& store, std::string_view user,
                             std::vector<const pb::MessageMeta*> messages)
    : store_(store), user_(user), messages_(std::move(messages)) {}

const absl::StatusOr<std::string>& SourceBatches::At(size_t k) {
  if (k < first_ || k >= first_ + batch_.size()) {
    first_ = k;
    size_t count = 0;
    uint64_t bytes = 0;
    auto size = [&](size_t i) {
      return static_cast<uint64_t>(std::max<int64_t>(0, messages_[i]->size()));
    };
    while (k + count < messages_.size() && count < kBatch &&
           (count == 0 || bytes + size(k + count) <= kBatchBytes)) {
      bytes += size(k + count);
      ++count;
    }
    batch_.assign(count, absl::StatusOr<std::string>());
    // Every read's outcome lands in its own slot, so none is an error of the whole.
    (void)ForEachConcurrently(batch_.size(), kReaders, [&](size_t i) {
      batch_[i] = store_.Source(user_, *messages_[first_ + i]);
      return absl::OkStatus();
    });
  }
  return batch_[k - first_];
}

}  // namespace penncloud::mail
