#include "mail/mailbox_watch.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "mail/mail_store.h"

namespace penncloud::mail {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The folder state cells of the mailbox row (mail/mail_store.h's layout): every change to
// a folder's messages takes a new change number there.
constexpr std::string_view kStatePrefix = "box/";

}  // namespace

struct MailboxWatch::Shared {
  Key key;
  std::map<uint64_t, std::function<void()>> subscribers;  // GUARDED_BY(MailboxWatch::mu_)
  bool stopping = false;                                  // GUARDED_BY(MailboxWatch::mu_)
  kvs::WatchCancel cancel;
  std::thread thread;
  std::atomic<bool> ended{false};  // the thread touches nothing of the watch any more
};

class MailboxWatch::Handle final : public Subscription {
 public:
  Handle(MailboxWatch& owner, Key key, uint64_t id)
      : owner_(owner), key_(std::move(key)), id_(id) {}
  ~Handle() override { owner_.Unsubscribe(key_, id_); }

 private:
  MailboxWatch& owner_;
  const Key key_;
  const uint64_t id_;
};

MailboxWatch::MailboxWatch(kvs::Client& kvs, MailboxWatchOptions options)
    : kvs_(kvs), options_(options) {}

MailboxWatch::~MailboxWatch() {
  std::vector<std::unique_ptr<Shared>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, shared] : active_) retired_.push_back(std::move(shared));
    active_.clear();
    for (auto& shared : retired_) {
      shared->stopping = true;
      shared->cancel.Cancel();
    }
    all = std::move(retired_);
  }
  stop_cv_.notify_all();
  for (auto& shared : all) shared->thread.join();
}

std::unique_ptr<MailboxWatch::Subscription> MailboxWatch::Subscribe(const std::string& user,
                                                                    const std::string& folder,
                                                                    std::function<void()> changed) {
  Key key(user, folder);
  uint64_t id;
  bool joined = false;  // a watch that may have looked already: call now
  {
    std::lock_guard lock(mu_);
    Reap();
    id = next_id_++;
    std::unique_ptr<Shared>& shared = active_[key];
    if (shared == nullptr) {
      shared = std::make_unique<Shared>();
      shared->key = key;
      shared->subscribers.emplace(id, changed);
      shared->thread = std::thread([this, s = shared.get()] { Run(s); });
    } else {
      shared->subscribers.emplace(id, changed);
      joined = true;
    }
  }
  // A new watch calls everyone after its first look at the store instead.
  if (joined) changed();
  return std::make_unique<Handle>(*this, std::move(key), id);
}

void MailboxWatch::Unsubscribe(const Key& key, uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = active_.find(key);
  if (it == active_.end()) return;
  it->second->subscribers.erase(id);
  if (it->second->subscribers.empty()) {
    // Its thread ends once the cancelled watch returns; a later Subscribe or the
    // destructor joins it.
    it->second->stopping = true;
    it->second->cancel.Cancel();
    retired_.push_back(std::move(it->second));
    active_.erase(it);
    stop_cv_.notify_all();
  }
  Reap();
}

void MailboxWatch::Reap() {
  auto ended = std::partition(retired_.begin(), retired_.end(),
                              [](const std::unique_ptr<Shared>& s) { return !s->ended.load(); });
  for (auto it = ended; it != retired_.end(); ++it) (*it)->thread.join();
  retired_.erase(ended, retired_.end());
}

size_t MailboxWatch::watches() const {
  std::lock_guard lock(mu_);
  return active_.size();
}

absl::StatusOr<std::vector<kvs::WatchedCell>> MailboxWatch::Load(const Shared& shared) {
  const auto& [user, folder] = shared.key;
  std::vector<kvs::WatchedCell> cells;
  if (!folder.empty()) {
    const std::string column = std::string(kStatePrefix) + folder;
    absl::StatusOr<std::string> value = kvs_.Get(MailboxRow(user), column);
    if (!value.ok() && !absl::IsNotFound(value.status())) return value.status();
    cells.push_back(
        {column, value.ok() ? std::optional<std::string>(*std::move(value)) : std::nullopt});
    return cells;
  }
  // Any folder: the state cells that exist now (the first kMaxWatchCells of them); one
  // created later is seen at the next fallback, which loads them again.
  kvs::ListOptions list;
  list.after = std::string(kStatePrefix);
  list.limit = static_cast<int>(kvs::kMaxWatchCells);
  list.with_values = true;
  absl::StatusOr<kvs::ColumnPage> page = kvs_.List(MailboxRow(user), list);
  if (!page.ok()) return page.status();
  size_t bytes = 0;
  for (kvs::Cell& cell : page->cells) {
    if (!cell.column.starts_with(kStatePrefix)) break;
    bytes += cell.value.size();
    if (bytes > kvs::kMaxWatchKnownBytes) break;
    cells.push_back({std::move(cell.column), std::move(cell.value)});
  }
  // A new mailbox has no state cell yet: its inbox's appears with the first delivery.
  if (cells.empty())
    cells.push_back({std::string(kStatePrefix) + std::string(kInbox), std::nullopt});
  return cells;
}

void MailboxWatch::Notify(Shared* shared) {
  std::vector<std::function<void()>> calls;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, call] : shared->subscribers) calls.push_back(call);
  }
  for (const auto& call : calls) call();
}

bool MailboxWatch::Pause(Shared* shared, milliseconds pause) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, pause, [&] { return shared->stopping; });
}

void MailboxWatch::Run(Shared* shared) {
  std::optional<std::vector<kvs::WatchedCell>> known;
  auto next_fallback = Clock::now() + options_.fallback;
  auto settle_at = Clock::time_point::max();  // the second call after a change (max: none)
  while (!shared->cancel.cancelled()) {
    if (!known) {
      absl::StatusOr<std::vector<kvs::WatchedCell>> loaded = Load(*shared);
      if (!loaded.ok()) {
        if (!Pause(shared, options_.retry)) break;
        continue;
      }
      known = *std::move(loaded);
      // Whatever changed before this look (since a subscriber's own, or while the store
      // could not be reached) reaches everyone now.
      Notify(shared);
    }
    const auto until = std::min(settle_at, next_fallback);
    const auto left =
        std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(until - Clock::now()));
    absl::StatusOr<std::vector<kvs::WatchedCell>> changed =
        kvs_.Watch(MailboxRow(shared->key.first), *known, left, &shared->cancel);
    if (shared->cancel.cancelled()) break;
    bool call = false;
    const auto now = Clock::now();
    if (changed.ok() && !changed->empty()) {
      for (kvs::WatchedCell& fresh : *changed) {
        for (kvs::WatchedCell& cell : *known) {
          if (cell.column == fresh.column) cell.value = std::move(fresh.value);
        }
      }
      call = true;
      if (options_.settle > milliseconds(0)) settle_at = now + options_.settle;
    } else if (!changed.ok()) {
      // A store that cannot watch is polled at the fallback interval; any other failure
      // (no leader for the client's whole deadline) is tried again soon, from a fresh read.
      known.reset();
      const bool polling = absl::IsUnimplemented(changed.status());
      if (!Pause(shared, polling ? left : options_.retry)) break;
    } else if (now >= settle_at) {
      settle_at = Clock::time_point::max();
      call = true;
    }
    if (Clock::now() >= next_fallback) {
      next_fallback = Clock::now() + options_.fallback;
      if (shared->key.second.empty()) {
        known.reset();  // folders created since: the next look calls everyone
      } else {
        call = true;
      }
    }
    if (call) Notify(shared);
  }
  shared->ended.store(true);
}

}  // namespace penncloud::mail
