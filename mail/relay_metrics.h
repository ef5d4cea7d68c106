// The outbound relay on /metrics (docs/operations.md): how much mail waits for other
// domains, how old the oldest is, and what each delivery attempt came to. A queue that only
// grows, or deliveries that keep failing temporarily, mean the smarthost or the remote
// servers are unreachable.
#pragma once

#include <cstdint>

#include "mail/outbound_queue.h"
#include "mail/smtp_client.h"

namespace penncloud::mail {

// What one queue runner pass listed (the durable queue is shared by every SMTP server).
void RecordQueuePass(const QueueStats& stats, int64_t now_micros);
// One recipient's outcome in one delivery attempt.
void RecordRecipientResult(RecipientOutcome outcome);
// What became of one message after one attempt: "delivered" (every recipient taken),
// "retry" (some deferred), "bounced" (done, some refused for good), "error" (the attempt
// could not be made, e.g. its body could not be read; the lease runs out and it is retried).
void RecordMessageOutcome(const char* outcome);

}  // namespace penncloud::mail
