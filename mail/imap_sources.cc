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
    batch_.assign(std::min(kBatch, messages_.size() - k), absl::StatusOr<std::string>());
    // Every read's outcome lands in its own slot, so none is an error of the whole.
    (void)ForEachConcurrently(batch_.size(), kReaders, [&](size_t i) {
      batch_[i] = store_.Source(user_, *messages_[first_ + i]);
      return absl::OkStatus();
    });
  }
  return batch_[k - first_];
}

}  // namespace penncloud::mail
