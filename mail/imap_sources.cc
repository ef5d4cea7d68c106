#include "mail/imap_sources.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

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
    ReadBatch();
  }
  return batch_[k - first_];
}

void SourceBatches::ReadBatch() {
  // Where the reads land, shared with their callbacks (which may run on the client's
  // threads until the last one returns).
  struct Landing {
    std::mutex mu;
    std::condition_variable all_in;
    size_t left = 0;                     // GUARDED_BY(mu)
    std::vector<kvs::StartedGet> reads;  // GUARDED_BY(mu)
  };
  auto landing = std::make_shared<Landing>();
  landing->left = batch_.size();
  landing->reads.resize(batch_.size());
  for (size_t i = 0; i < batch_.size(); ++i) {
    store_.StartSource(user_, *messages_[first_ + i], [landing, i](kvs::StartedGet read) {
      std::lock_guard<std::mutex> lock(landing->mu);
      landing->reads[i] = std::move(read);
      if (--landing->left == 0) landing->all_in.notify_one();
    });
  }
  std::vector<size_t> unsettled;
  {
    std::unique_lock<std::mutex> lock(landing->mu);
    landing->all_in.wait(lock, [&] { return landing->left == 0; });
    for (size_t i = 0; i < batch_.size(); ++i) {
      if (landing->reads[i].has_value()) {
        batch_[i] = *std::move(landing->reads[i]);
      } else {
        unsettled.push_back(i);
      }
    }
  }
  // Every read's outcome lands in its own slot, so none is an error of the whole.
  (void)ForEachConcurrently(unsettled.size(), kReaders, [&](size_t u) {
    batch_[unsettled[u]] = store_.Source(user_, *messages_[first_ + unsettled[u]]);
    return absl::OkStatus();
  });
}

}  // namespace penncloud::mail
