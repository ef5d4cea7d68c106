#include "mail/delivery.h"

#include <set>

#include "absl/time/clock.h"
#include "common/log.h"
#include "mail/delivery_intent.h"
#include "mail/delivery_pool.h"
#include "mail/delivery_status.h"
#include "mail/imap_message.h"
#include "mail/mime.h"
#include "mail/text.h"
#include "mail/thread.h"

namespace penncloud::mail {

Delivery::Delivery(MailStore& store, OutboundQueue& queue, std::string domain,
                   Authenticator authenticate, UserExists exists,
                   MaySendOutsideCheck may_send_outside)
    : store_(store),
      queue_(queue),
      domain_(ToLower(domain)),
      authenticate_(std::move(authenticate)),
      exists_(std::move(exists)),
      may_send_outside_(std::move(may_send_outside)) {}

absl::StatusOr<bool> Delivery::MaySendOutside(std::string_view user) {
  if (!may_send_outside_) return true;
  return may_send_outside_(user);
}

absl::StatusOr<std::string> Delivery::Authenticate(std::string_view user,
                                                   std::string_view password) {
  return authenticate_(user, password);
}

absl::StatusOr<bool> Delivery::LocalUserExists(std::string_view user) {
  constexpr auto kTtl = std::chrono::seconds(30);
  std::string name = ToLower(user);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = known_.find(name);
    if (it != known_.end() && now - it->second < kTtl) return true;
  }
  auto exists = exists_(name);
  if (exists.ok() && *exists) {
    std::lock_guard lock(mu_);
    if (known_.size() > 100'000) known_.clear();  // bound the memory
    known_[name] = now;
  }
  return exists;
}

bool Delivery::IsLocal(std::string_view address, std::string* user) const {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  if (ToLower(address.substr(at + 1)) != domain_) return false;
  *user = ToLower(address.substr(0, at));
  return true;
}

absl::StatusOr<std::optional<pb::MessageMeta>> FindSentCopy(MailStore& store, std::string_view user,
                                                            std::string_view source,
                                                            int64_t now_micros) {
  return FindCopy(store, user, kSent, source, now_micros - kSentCopyWindowMicros,
                  kSentCopyCandidates);
}

absl::StatusOr<std::optional<pb::MessageMeta>> FindCopy(MailStore& store, std::string_view user,
                                                        std::string_view folder,
                                                        std::string_view source,
                                                        int64_t since_micros, int candidates) {
  const ParsedMessage parsed = ParseMessage(HeaderBlock(source));
  const std::string& id = parsed.message_id;
  if (id.empty()) return std::nullopt;
  // Entries keep the Message-ID as threading reads it: compared there, no source is read.
  const std::string listed_id = ScrubUtf8(ThreadMessageId(parsed));
  auto newest = store.List(user, folder, "", candidates);
  if (!newest.ok()) return newest.status();
  for (const pb::MessageMeta& m : newest->messages) {
    if (m.received_micros() < since_micros) break;  // newest first
    if (!listed_id.empty() && !m.message_id().empty()) {
      if (m.message_id() == listed_id) return m;
      continue;
    }
    // An entry from before the listing kept it, or an id threading cannot read.
    auto candidate = store.Source(user, m);
    if (!candidate.ok()) continue;  // removed meanwhile
    if (ParseMessage(HeaderBlock(*candidate)).message_id == id) return m;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> Delivery::Deliver(const Envelope& envelope, std::string_view message) {
  if (envelope.authenticated_user.empty()) return DeliverCopies(envelope, message);
  return Submit(envelope, message);
}

absl::StatusOr<std::string> Delivery::FileSentCopy(std::string_view user,
                                                   std::string_view message) {
  auto existing = FindSentCopy(store_, user, message, absl::ToUnixMicros(absl::Now()));
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return (*existing)->id();
  auto added = store_.Add(user, kSent, message, true);
  if (!added.ok()) return added.status();
  return added->id();
}

absl::StatusOr<std::string> Delivery::Submit(const Envelope& envelope, std::string_view message) {
  const std::string& user = envelope.authenticated_user;
  std::set<std::string> local;
  std::vector<std::string> remote;
  for (const auto& r : envelope.recipients) {
    std::string name;
    if (IsLocal(r, &name)) {
      local.insert(name);
    } else {
      remote.push_back(r);
    }
  }
  // The remote part's record comes first (delivery_intent.h): a crash after it leaves a
  // send a runner finishes, never a Sent copy waiting for an entry nobody wrote.
  std::optional<pb::QueuedMessage> record;
  if (!remote.empty()) {
    pb::QueuedMessage entry;
    entry.set_sender(envelope.sender);
    entry.set_user(user);
    for (const std::string& r : remote) entry.add_recipients(r);
    auto begun = BeginSend(queue_, std::move(entry), message, "smtp-submission");
    if (!begun.ok()) return begun.status();
    record = std::move(*begun);
  }
  // The local copies and the Sent copy together; only the local copies must succeed.
  const std::vector<std::string> users(local.begin(), local.end());
  std::vector<std::string> ids(users.size());
  absl::StatusOr<std::string> sent = absl::UnknownError("not filed");
  auto stored = RunTogether(users.size() + 1, [&](size_t i) -> absl::Status {
    if (i == users.size()) {
      sent = FileSentCopy(user, message);
      return absl::OkStatus();
    }
    auto meta = store_.Add(users[i], kInbox, message, false);
    if (meta.ok()) ids[i] = meta->id();
    return meta.status();
  });
  if (!stored.ok()) {
    // The client is told to try again and will send it all again: nothing may leave now.
    if (record) (void)queue_.Complete(*record);
    return stored;
  }
  const int64_t now = queue_.Now();
  if (!sent.ok()) {
    // Without a Sent copy there is nothing to hang a timeline on; the recipients still get
    // the message, which matters more than the copy.
    PC_LOG(kWarn, "mail.sent_copy_failed")("user", user)("error", sent.status().ToString());
    if (!record) return ids.front();
    pb::QueuedMessage plain = *record;
    plain.clear_user();
    if (auto s = queue_.Update(*record, std::move(plain)); !s.ok()) {
      // Still leased and still a send: the runner that adopts it files the copy.
      PC_LOG(kWarn, "mail.submission_update_failed")("id", record->id())("error", s.ToString());
    }
    return record->id();
  }
  pb::DeliveryStatus status;
  if (record) {
    status = NewTimeline(*record, now);
  } else {
    status.set_sent_micros(now);
  }
  for (const std::string& name : users) {
    SetRecipient(status, Cat(name, "@", domain_), kDelivered, "", 0, 1, now);
  }
  if (auto saved = DeliveryStatusStore(queue_.kvs()).Save(user, *sent, status); !saved.ok()) {
    // The runner starts a missing timeline afresh; the mail itself is what must not fail.
    PC_LOG(kWarn, "mail.timeline_failed")("user", user)("error", saved.ToString());
  }
  if (!record) return *sent;
  pb::QueuedMessage named = *record;
  named.set_sent_id(*sent);
  if (auto s = queue_.Update(*record, std::move(named)); !s.ok()) {
    // The send is recorded: a runner adopts the entry once the lease runs out.
    PC_LOG(kWarn, "mail.submission_update_failed")("id", record->id())("error", s.ToString());
  }
  PC_LOG(kInfo, "mail.submitted")
  ("user", user)("local", users.size())("remote", remote.size())("bytes", message.size());
  return record->id();
}

absl::StatusOr<std::string> Delivery::DeliverCopies(const Envelope& envelope,
                                                    std::string_view message) {
  std::set<std::string> local;
  std::vector<std::string> remote;
  for (const auto& r : envelope.recipients) {
    std::string user;
    if (IsLocal(r, &user)) {
      local.insert(user);
    } else {
      remote.push_back(r);
    }
  }
  // Mail from other domains is authenticated first; it may be refused or go to Junk.
  std::string_view folder = kInbox;
  std::string checked;
  if (envelope.authenticated_user.empty() && inbound_check_) {
    InboundDecision decision = inbound_check_(envelope, message);
    if (decision.action == InboundDecision::Action::kReject) {
      return absl::PermissionDeniedError(decision.reason);
    }
    if (decision.action == InboundDecision::Action::kJunk) folder = kJunk;
    checked = std::move(decision.message);
    message = checked;
  }
  // Every local copy and the queue entry at once: each is complete on its own.
  const std::vector<std::string> users(local.begin(), local.end());
  std::vector<std::string> ids(users.size() + 1);
  auto stored = RunTogether(ids.size(), [&](size_t i) -> absl::Status {
    if (i < users.size()) {
      auto meta = store_.Add(users[i], folder, message, false);
      if (meta.ok()) ids[i] = meta->id();
      return meta.status();
    }
    if (remote.empty()) return absl::OkStatus();
    auto queued = queue_.Enqueue(envelope.sender, remote, message);
    if (queued.ok()) ids[i] = *queued;
    return queued.status();
  });
  if (!stored.ok()) return stored;
  const std::string& id = users.empty() ? ids.back() : ids.front();
  PC_LOG(kInfo, "mail.delivered")
  ("from", envelope.sender)("local", local.size())("remote", remote.size())("bytes",
                                                                            message.size());
  return id;
}

}  // namespace penncloud::mail
