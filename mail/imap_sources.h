// Message sources read ahead a batch at a time, all of a batch at once (the KVS client
// sends concurrent reads together): a FETCH or SEARCH over many messages costs a few round
// trips per batch instead of one per message, and holds at most one batch of sources.
//
// A batch's reads are started together without a thread each (MailStore::StartSource), and
// the caller waits once for all of them; only a read that its one quick attempt did not
// settle (a leader change, a store without that path) is read again the blocking way, on
// up to kReaders threads. A thread per read cost a FETCH BODY[] of 1,000 messages about
// 40 ms of CPU, mostly thread switches around the KVS client's batches.
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
  // Threads reading again what the first attempts left unsettled: the KVS client sends
  // their reads to the leader together, so a round of kReaders costs about one round trip.
  static constexpr size_t kReaders = 64;

  // `messages` must outlive this; they are read in order, each once.
  SourceBatches(MailStore& store, std::string_view user,
                std::vector<const pb::MessageMeta*> messages);

  // The source of messages[k] (kNotFound if it is gone); reads k's batch first (k and the
  // messages after it, as above) unless k is in the batch read last.
  const absl::StatusOr<std::string>& At(size_t k);

 private:
  // Reads the batch that starts at messages_[first_] into batch_.
  void ReadBatch();

  MailStore& store_;
  std::string user_;
  std::vector<const pb::MessageMeta*> messages_;
  size_t first_ = 0;  // messages_ index of batch_[0]
  std::vector<absl::StatusOr<std::string>> batch_;
};

}  // namespace penncloud::mail
