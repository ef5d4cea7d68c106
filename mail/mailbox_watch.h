// Push for clients that wait on a mailbox (IMAP IDLE, webmail's event streams): one KVS
// watch (kvs::Client::Watch) per (user, folder) per process, on the folder's state cell,
// shared by every subscriber waiting on that folder. A change to the folder (a delivery,
// a move, a flag set from anywhere) reaches each subscriber within a store round trip.
//
// Each watch runs on a thread of its own while it has subscribers, so a process holds one
// thread per folder being waited on, not per waiting client.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "kvs/client/client.h"

namespace penncloud::mail {

struct MailboxWatchOptions {
  // Every subscriber is also called at least this often: the slow poll that covers what no
  // watch reports (a store without watches, a folder created while "any folder" is
  // watched).
  std::chrono::milliseconds fallback{10000};
  // The pause after a failed watch or read before the next attempt.
  std::chrono::milliseconds retry{500};
  // After a change, subscribers are called again this long after it: a folder's change
  // number is taken before the entry it numbers is written (mail_store.h), so the first
  // call may come before the entry can be read. 0: no second call.
  std::chrono::milliseconds settle{300};
};

class MailboxWatch {
 public:
  // Dropping it ends the subscription; a call of its callback already under way may
  // still finish.
  class Subscription {
   public:
    virtual ~Subscription() = default;
  };

  explicit MailboxWatch(kvs::Client& kvs, MailboxWatchOptions options = {});
  // Ends every watch. Every subscription must be gone by then.
  ~MailboxWatch();
  MailboxWatch(const MailboxWatch&) = delete;
  MailboxWatch& operator=(const MailboxWatch&) = delete;

  // Calls `changed` (it must return quickly; from a watch thread, or from this call): once
  // soon, so a change made just before the subscription is not missed, then whenever `folder` (the
  // store's name; "" = any folder) of `user` changes (and once more `settle` later), and
  // at least every `fallback`.
  std::unique_ptr<Subscription> Subscribe(const std::string& user, const std::string& folder,
                                          std::function<void()> changed);

  // Folders watched right now (a thread each).
  size_t watches() const;

 private:
  using Key = std::pair<std::string, std::string>;  // (user, folder)
  struct Shared;
  class Handle;

  void Unsubscribe(const Key& key, uint64_t id);
  void Run(Shared* shared);
  // The state cells `shared` watches, as the store holds them now.
  absl::StatusOr<std::vector<kvs::WatchedCell>> Load(const Shared& shared);
  void Notify(Shared* shared);
  // Waits `pause` unless the watch is told to stop first; false once it is.
  bool Pause(Shared* shared, std::chrono::milliseconds pause);
  // REQUIRES: mu_ held. Joins the retired watches whose thread has ended.
  void Reap();

  kvs::Client& kvs_;
  const MailboxWatchOptions options_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  std::map<Key, std::unique_ptr<Shared>> active_;  // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Shared>> retired_;   // GUARDED_BY(mu_)
  uint64_t next_id_ = 1;                           // GUARDED_BY(mu_)
};

}  // namespace penncloud::mail
