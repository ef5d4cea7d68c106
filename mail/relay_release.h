// Ending a held webmail send's undo window (frontend/mail_delivery_api.h). The held entry
// in the outbound queue carries every recipient; releasing it stores the local
// recipients' copies, marks them delivered in the sender's timeline, and leaves the entry
// with the remote recipients only, due now. Any process that can claim queue entries may
// do it: the smtp relay does, as part of its pass, and every frontend runs a
// HeldMailReleaser, so neither a crashed frontend nor an smtp server started with
// --relay=false leaves held mail behind. The claim (a compare-and-put of a lease) makes
// sure one of them does it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "mail/delivery_status.h"
#include "mail/mail_store.h"
#include "mail/outbound_queue.h"

namespace penncloud::mail {

// Releases `claimed` (a held entry this caller leased), whose source is `source`. Returns
// the entry as rewritten, still leased: the caller goes on with the remote recipients or
// completes it. Local copies are stored before the entry says so, and a release marks the
// entry (release_started_micros) before its first copy: a release that finds the mark
// follows one that died and first looks in each recipient's Inbox for a copy that arrived
// since then (same Message-ID), so nobody gets a second copy. What it cannot see: a copy
// the recipient moved out of the Inbox or deleted between the crash and the next release.
absl::StatusOr<pb::QueuedMessage> ReleaseHeld(OutboundQueue& queue, MailStore& store,
                                              DeliveryStatusStore& timelines,
                                              const pb::QueuedMessage& claimed,
                                              std::string_view source);

// A thread that, every `interval`, claims due held entries and releases them, then hands
// the remote part to the relay (lease dropped) or removes an entry with nothing left.
class HeldMailReleaser {
 public:
  HeldMailReleaser(kvs::Client& kvs, std::string owner,
                   std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~HeldMailReleaser();  // stops the thread

  // One pass; returns how many entries it released.
  int RunOnce();

 private:
  // Adopts `claimed` if its sender died filing it (delivery_intent.h), then releases it.
  absl::StatusOr<pb::QueuedMessage> Release(const pb::QueuedMessage& claimed);

  OutboundQueue queue_;
  MailStore store_;
  DeliveryStatusStore timelines_;
  const std::string owner_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;          // GUARDED_BY(mu_)
  int64_t last_sweep_micros_ = 0;  // only the thread (or a test's RunOnce) touches it
  std::thread thread_;
};

}  // namespace penncloud::mail
