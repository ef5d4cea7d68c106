// A send that files a Sent copy with a delivery timeline (webmail's, and an authenticated
// SMTP submission with remote recipients) takes several writes: the queue entry, the Sent
// copy, the timeline and, for webmail, the local recipients' copies. The queue entry is the
// record of the whole send, so it is written first, leased by the sender for
// kSendLeaseMicros; it names its Sent copy (`sent_id`) only once that copy is filed, and
// only then does the sender drop the lease.
//
// A sender that dies on the way leaves a leased entry with a user and no `sent_id`. Once the
// lease runs out, whichever runner claims it (the smtp relay, or a frontend's releaser for a
// held one) finishes the filing from the entry itself (AdoptSend): it finds the Sent copy by
// Message-ID, or files it, writes the timeline if none was written, and names the copy in
// the entry; then the entry goes on as any other. So no Sent message says "queued" with
// nothing behind it, and no message leaves without the Sent copy its sender was promised.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "mail/delivery_status.h"
#include "mail/mail_store.h"
#include "mail/outbound_queue.h"

namespace penncloud::mail {

// Long enough for a sender to file a 32 MiB Sent copy and the local copies under load; it
// is also how long a crashed sender's mail waits before a runner finishes it.
inline constexpr int64_t kSendLeaseMicros = 60'000'000;

// Writes the record of a new send: `entry` as the sender wants it (user, sender,
// recipients, hold; no `sent_id`), leased to `owner`. Returns it as stored.
absl::StatusOr<pb::QueuedMessage> BeginSend(OutboundQueue& queue, pb::QueuedMessage entry,
                                            std::string_view source, std::string_view owner);

// A webmail send: `entry` names the user, the sender, the remote `recipients` and the
// `local_recipients`. Writes its record, files the Sent copy and the timeline, then holds
// everything for `hold_micros` (the undo window) or, with 0, stores the local copies now and
// leaves the rest to the relay. Returns the Sent copy's entry. An error means nothing was
// sent, unless a crash or a store fault kept the send from being taken back: then its
// record is adopted and the send finished, Sent copy and all.
absl::StatusOr<pb::MessageMeta> Send(OutboundQueue& queue, MailStore& store,
                                     DeliveryStatusStore& timelines, pb::QueuedMessage entry,
                                     std::string_view source, int64_t hold_micros);

// The timeline of a send nothing has happened to yet: every recipient of `entry` queued,
// naming the entry, with the undo window if it is held.
pb::DeliveryStatus NewTimeline(const pb::QueuedMessage& entry, int64_t now_micros);

// Whether `entry` is a send whose sender never finished filing it (see above).
bool Unfiled(const pb::QueuedMessage& entry);

// Finishes the filing of `claimed` (Unfiled, leased by the caller), whose source is
// `source`. Returns the entry as rewritten, naming its Sent copy and still leased.
absl::StatusOr<pb::QueuedMessage> AdoptSend(OutboundQueue& queue, MailStore& store,
                                            DeliveryStatusStore& timelines,
                                            const pb::QueuedMessage& claimed,
                                            std::string_view source);

}  // namespace penncloud::mail
