// The queue runner: takes due messages from the outbound queue, delivers them to the
// configured smarthost or to the recipient domain's MX, and decides what happens next:
// delivered -> removed; temporary failure -> retried with exponential backoff; permanent
// failure (or too many attempts) -> a bounce to the sender. Bounces are sent from the null
// sender <> and are never bounced themselves. A held webmail send is released here when
// its undo window ends (any runner may: the entry, not a process, holds it).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/delivery_status.h"
#include "mail/mail_store.h"
#include "mail/outbound_queue.h"
#include "mail/smtp_client.h"

namespace penncloud::mail {

struct RelayOptions {
  std::string domain = "penncloud.local";  // local domain: bounces to it go to the inbox
  std::string smarthost_host;              // "" = look up MX
  int smarthost_port = 25;
  int64_t retry_base_micros = 60'000'000;  // first retry after this, doubling each time
  int64_t retry_max_micros = 3'600'000'000;
  int max_attempts = 12;
  int64_t lease_micros = 300'000'000;
  std::chrono::milliseconds poll_interval{1000};
  std::string owner = "relay";  // this runner's name in queue leases
  // Signs a message before it leaves (DKIM, mail/dkim.h); unset: sent as queued. A message
  // that cannot be signed is sent unsigned rather than held back.
  std::function<absl::StatusOr<std::string>(std::string_view message)> sign;
};

// Delivers one message to one host; the real one is SendMail.
using SendFunction = std::function<std::vector<RecipientResult>(
    const std::string& host, int port, const std::string& sender,
    const std::vector<std::string>& recipients, const std::string& message)>;

class Relay {
 public:
  Relay(OutboundQueue& queue, MailStore& store, RelayOptions options, SendFunction send,
        std::function<int64_t()> now_micros = nullptr);
  ~Relay();

  // One pass over the due messages; returns how many were handled.
  int RunOnce();
  void Start();
  void Stop();

 private:
  void Process(const pb::QueuedMessage& claimed);
  // Writes the attempt's outcome into the sender's timeline (webmail sends only), while
  // this runner still holds the entry: see mail/delivery_status.h for why that orders it.
  void RecordTimeline(const pb::QueuedMessage& entry, const std::vector<RecipientResult>& results,
                      int attempts, int64_t next_attempt_micros, bool done);
  void Bounce(const pb::QueuedMessage& entry, const std::string& source,
              const std::vector<RecipientResult>& failed);

  OutboundQueue& queue_;
  MailStore& store_;
  const RelayOptions options_;
  SendFunction send_;
  std::function<int64_t()> now_micros_;
  DeliveryStatusStore timelines_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  // RunOnce runs on one thread at a time: when it last swept the due index and counted it.
  static constexpr int64_t kStatsMicros = 10'000'000;
  int64_t last_sweep_micros_ = 0;
  int64_t last_stats_micros_ = 0;
};

// The text of a delivery status notification for `failed` recipients of `source`.
std::string BounceMessage(std::string_view domain, std::string_view sender,
                          const std::vector<RecipientResult>& failed, std::string_view source);

}  // namespace penncloud::mail
