// Concurrent deliveries to one user share their reads of the index manifest: a delivery
// must read the manifest after its doc is written (search_index.h), and any read that
// begins after that serves it as well as its own. So a delivery joins the next read to
// begin, and one read answers every delivery that was waiting when it began; under load
// the manifest is read once per batch of deliveries rather than once per message.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kvs/client/client.h"
#include "proto/mail_search.pb.h"

namespace penncloud::mail {

class ManifestReads {
 public:
  explicit ManifestReads(kvs::Client& kvs) : kvs_(kvs) {}

  // The manifest as read by a read that began after this call did.
  absl::StatusOr<pb::SearchManifest> ReadAfterNow(std::string_view user);

 private:
  struct Rounds {
    uint64_t started = 0;  // the latest round begun
    uint64_t done = 0;     // the latest round finished
    bool running = false;
    int waiters = 0;
    absl::StatusOr<pb::SearchManifest> result;  // of round `done`
  };

  kvs::Client& kvs_;
  std::mutex mu_;
  std::condition_variable finished_;
  std::map<std::string, Rounds, std::less<>> users_;  // GUARDED_BY(mu_)
};

}  // namespace penncloud::mail
