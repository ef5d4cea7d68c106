// The IMAP server's IDLE wakes (idle_waker.h) from MailboxWatch: a session idling on a
// folder is woken when the folder changes in the store, whichever process changed it,
// instead of looking every few hundred milliseconds. MailboxWatch's fallback interval is
// the slow poll that remains.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "mail/idle_waker.h"
#include "mail/mailbox_watch.h"

namespace penncloud::mail {

class MailboxIdleWaker final : public IdleWaker {
 public:
  explicit MailboxIdleWaker(MailboxWatch& watch) : watch_(watch) {}

  std::unique_ptr<Watch> Start(const std::string& user, const std::string& folder,
                               std::function<void()> wake) override {
    return std::make_unique<Subscribed>(watch_.Subscribe(user, folder, std::move(wake)));
  }

 private:
  class Subscribed final : public Watch {
   public:
    explicit Subscribed(std::unique_ptr<MailboxWatch::Subscription> s) : s_(std::move(s)) {}

   private:
    std::unique_ptr<MailboxWatch::Subscription> s_;
  };

  MailboxWatch& watch_;
};

}  // namespace penncloud::mail
