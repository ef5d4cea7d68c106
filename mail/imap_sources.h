// Message sources read ahead a batch at a time, all of a batch at once (the KVS client
// sends concurrent reads together): a FETCH or SEARCH over many messages costs a few round
// trips per batch instead of one per message, and holds at most one batch of sources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/mail_store.h"
#include "proto/mail.pb.h"

namespace penncloud::mail {

class SourceBatches {
 public:
  // A batch ends at kBatch messages or once it holds kBatchBytes (by the entries' sizes), so
  // a FETCH of a thousand small messages costs a few rounds of reads, and one of large
  // messages holds a few MiB at most (a single message larger than that is read alone).
  static constexpr size_t kBatch = 256;
  static constexpr uint64_t kBatchBytes = 8 << 20;
  // Reads in flight at once: the KVS client sends them to the leader together, so a round
  // of kReaders reads costs about one round trip.
  static constexpr size_t kReaders = 64;

  // `messages` must outlive this; they are read in order, each once.
  SourceBatches(MailStore& store, std::string_view user,
                std::vector<const pb::MessageMeta*> messages);

  // The source of messages[k] (kNotFound if it is gone); reads k's batch first (k and the
  // messages after it, as above) unless k is in the batch read last.
  const absl::StatusOr<std::string>& At(size_t k);

 private:
  MailStore& store_;
  std::string user_;
  std::vector<const pb::MessageMeta*> messages_;
  size_t first_ = 0;  // messages_ index of batch_[0]
  std::vector<absl::StatusOr<std::string>> batch_;
};

}  // namespace penncloud::mail
