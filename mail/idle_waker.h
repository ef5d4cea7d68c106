// What tells a connection whose session waits in IDLE to look at its folder again. The
// server starts a watch when a session enters IDLE and drops it when the session leaves;
// each wake makes the server run ImapSession::OnPoll once (on a worker, never on the I/O
// threads) and send what it returns. Wakes may be spurious: an unchanged folder costs one
// read of its counters.
//
// PollingIdleWaker, the default, knows nothing of changes and wakes every `interval`. A
// waker fed by the store's change notifications replaces it through
// ImapServerOptions::idle_waker.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace penncloud::mail {

class IdleWaker {
 public:
  // Wakes stop once the watch is destroyed (a wake already running may still finish).
  class Watch {
   public:
    virtual ~Watch() = default;
  };

  virtual ~IdleWaker() = default;
  // Calls `wake`, from any thread, whenever `folder` (the store's name) of `user` may have
  // changed, until the returned watch is destroyed. `wake` must return quickly.
  virtual std::unique_ptr<Watch> Start(const std::string& user, const std::string& folder,
                                       std::function<void()> wake) = 0;
};

class PollingIdleWaker : public IdleWaker {
 public:
  PollingIdleWaker(boost::asio::io_context& io, std::chrono::milliseconds interval)
      : io_(io), interval_(interval) {}

  std::unique_ptr<Watch> Start(const std::string& user, const std::string& folder,
                               std::function<void()> wake) override;

 private:
  boost::asio::io_context& io_;
  const std::chrono::milliseconds interval_;
};

}  // namespace penncloud::mail
