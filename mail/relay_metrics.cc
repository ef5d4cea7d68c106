#include "mail/relay_metrics.h"

#include <algorithm>

#include "common/metrics.h"

namespace penncloud::mail {
namespace {

struct RelayMetrics {
  metrics::GaugeCell& length = metrics::Default()
                                   .Gauge("smtp_outbound_queue_length",
                                          "messages in the outbound (relay) queue at the queue "
                                          "runner's last pass, due or not")
                                   .With();
  metrics::GaugeCell& oldest = metrics::Default()
                                   .Gauge("smtp_outbound_queue_oldest_seconds",
                                          "age of the oldest message in the outbound queue at "
                                          "the runner's last pass (0: empty)")
                                   .With();
  metrics::CounterFamily& recipients = metrics::Default().Counter(
      "smtp_relay_recipients_total",
      "recipients by outcome of each delivery attempt (delivered, temporary_failure, "
      "permanent_failure)",
      {"result"});
  metrics::CounterFamily& messages = metrics::Default().Counter(
      "smtp_relay_messages_total",
      "outcome of each delivery attempt of a queued message (delivered, retry, bounced, error)",
      {"outcome"});

  // Every series exists from the first pass, so a scrape shows 0 rather than nothing.
  RelayMetrics() {
    for (const char* r : {"delivered", "temporary_failure", "permanent_failure"}) {
      recipients.With({r});
    }
    for (const char* o : {"delivered", "retry", "bounced", "error"}) messages.With({o});
  }
};

RelayMetrics& Metrics() {
  static RelayMetrics m;
  return m;
}

}  // namespace

void RecordQueuePass(const QueueStats& stats, int64_t now_micros) {
  Metrics().length.Set(static_cast<double>(stats.length));
  const int64_t age = stats.oldest_enqueued_micros == 0
                          ? 0
                          : std::max<int64_t>(0, now_micros - stats.oldest_enqueued_micros);
  Metrics().oldest.Set(static_cast<double>(age) / 1e6);
}

void RecordRecipientResult(RecipientOutcome outcome) {
  const char* result = outcome == RecipientOutcome::kDelivered          ? "delivered"
                       : outcome == RecipientOutcome::kTemporaryFailure ? "temporary_failure"
                                                                        : "permanent_failure";
  Metrics().recipients.With({result}).Inc();
}

void RecordMessageOutcome(const char* outcome) { Metrics().messages.With({outcome}).Inc(); }

}  // namespace penncloud::mail
