#include "frontend/events_api.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "mail/mail_store.h"
#include "mail/mailbox_watch.h"
#include "nlohmann/json.hpp"

namespace penncloud::frontend {
namespace {

// How often a stream looks whether its watch fired (memory only).
constexpr std::chrono::milliseconds kPoll{100};
// A change is announced once more this long after, by when the entry it numbered has
// been written (the number is taken first).
constexpr absl::Duration kResend = absl::Milliseconds(500);
constexpr absl::Duration kSessionCheck = absl::Seconds(1);
// Short, because a write is how this frontend learns the browser left: the coordinator
// closes its side of the stream at once (it watches the client), and a stream that writes
// nothing would hold its place in the per-user bound until the next keep-alive fails.
constexpr absl::Duration kKeepAlive = absl::Seconds(2);
// The folder state cells of the mailbox row (mail/mail_store.h's layout).
constexpr std::string_view kFolderStatePrefix = "box/";

// Open streams on this frontend, in all and per user.
class StreamCounts {
 public:
  bool Acquire(const std::string& user) {
    std::lock_guard lock(mu_);
    if (total_ >= kMaxEventStreams || per_user_[user] >= kMaxEventStreamsPerUser) return false;
    ++total_;
    ++per_user_[user];
    return true;
  }
  void Release(const std::string& user) {
    std::lock_guard lock(mu_);
    --total_;
    if (--per_user_[user] == 0) per_user_.erase(user);
  }

 private:
  std::mutex mu_;
  int total_ = 0;
  std::map<std::string, int> per_user_;
};

// Folder name -> its highest change number.
using ChangeNumbers = std::map<std::string, uint64_t>;

absl::StatusOr<ChangeNumbers> ReadChangeNumbers(kvs::Client& store, const std::string& user) {
  ChangeNumbers out;
  kvs::ListOptions options;
  options.after = std::string(kFolderStatePrefix);
  options.limit = 100;
  options.with_values = true;
  for (int page_count = 0; page_count < 100; ++page_count) {
    auto page = store.List(mail::MailboxRow(user), options);
    if (!page.ok()) return page.status();
    for (const kvs::Cell& cell : page->cells) {
      if (!cell.column.starts_with(kFolderStatePrefix)) return out;
      mail::pb::FolderState state;
      if (!state.ParseFromString(cell.value)) continue;
      out[cell.column.substr(kFolderStatePrefix.size())] = state.highest_modseq();
    }
    if (!page->more || page->cells.empty()) return out;
    options.after = page->cells.back().column;
  }
  return out;
}

std::vector<std::string> Changed(const ChangeNumbers& before, const ChangeNumbers& now) {
  std::vector<std::string> changed;
  for (const auto& [name, number] : now) {
    auto it = before.find(name);
    if (it == before.end() || it->second != number) changed.push_back(name);
  }
  for (const auto& [name, number] : before) {
    if (!now.contains(name)) changed.push_back(name);
  }
  return changed;
}

// One open stream; Next is called for each piece, one call at a time.
class EventStream {
 public:
  EventStream(const ApiContext& ctx, std::shared_ptr<StreamCounts> counts,
              std::shared_ptr<mail::MailboxWatch> watch, std::string token, std::string user)
      : ctx_(ctx),
        counts_(std::move(counts)),
        watch_(std::move(watch)),
        token_(std::move(token)),
        user_(std::move(user)) {}
  ~EventStream() { counts_->Release(user_); }

  absl::StatusOr<std::optional<std::string>> Next() {
    absl::Time now = absl::Now();
    if (!started_) {
      started_ = true;
      opened_ = last_check_ = last_write_ = now;
      auto numbers = ReadChangeNumbers(*ctx_.store, user_);
      if (numbers.ok()) seen_ = std::move(*numbers);
      // Every change after that read fires the watch (its first call comes after it).
      subscription_ = watch_->Subscribe(user_, "", [wakes = wakes_] { wakes->fetch_add(1); });
      // The browser waits 1 s before it reconnects after the stream ends.
      return std::optional<std::string>("retry: 1000\nevent: ready\ndata: {}\n\n");
    }
    if (now - opened_ > absl::FromChrono(kMaxEventStreamAge)) return std::nullopt;
    if (now - last_check_ >= kSessionCheck) {
      last_check_ = now;
      auto session = ctx_.accounts->WhoAmI(token_);
      if (absl::IsUnauthenticated(session.status()) || absl::IsNotFound(session.status())) {
        return std::nullopt;
      }
    }
    std::vector<std::string> changed;
    if (const uint64_t wakes = wakes_->load(); wakes != read_at_wakes_) {
      auto numbers = ReadChangeNumbers(*ctx_.store, user_);
      if (numbers.ok()) {
        read_at_wakes_ = wakes;
        changed = Changed(seen_, *numbers);
        seen_ = std::move(*numbers);
      }
    }
    if (!changed.empty()) {
      resend_ = changed;
      resend_at_ = now + kResend;
    } else if (!resend_.empty() && now >= resend_at_) {
      changed = std::exchange(resend_, {});
    }
    if (!changed.empty()) {
      last_write_ = now;
      nlohmann::json data = {{"folders", changed}};
      return std::optional<std::string>(
          "event: mail\ndata: " +
          data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n");
    }
    if (now - last_write_ >= kKeepAlive) {
      last_write_ = now;
      return std::optional<std::string>(": keep-alive\n\n");
    }
    return std::optional<std::string>("");
  }

 private:
  const ApiContext& ctx_;
  std::shared_ptr<StreamCounts> counts_;
  std::shared_ptr<mail::MailboxWatch> watch_;  // outlives subscription_
  const std::string token_, user_;
  // Bumped by the watch (on its thread), possibly after the stream is gone: shared.
  std::shared_ptr<std::atomic<uint64_t>> wakes_ = std::make_shared<std::atomic<uint64_t>>(0);
  uint64_t read_at_wakes_ = 0;
  std::unique_ptr<mail::MailboxWatch::Subscription> subscription_;
  bool started_ = false;
  absl::Time opened_, last_check_, last_write_;
  ChangeNumbers seen_;
  std::vector<std::string> resend_;  // the last change, announced again once
  absl::Time resend_at_;
};

}  // namespace

void RegisterEventRoutes(Router& router, const ApiContext& ctx) {
  auto counts = std::make_shared<StreamCounts>();
  // One watch per user with open streams on this frontend, whatever their number.
  auto watch = std::make_shared<mail::MailboxWatch>(
      *ctx.store, mail::MailboxWatchOptions{.fallback = kEventFallback,
                                            .settle = std::chrono::milliseconds(0)});
  router.Add("GET", "/api/events",
             WithSession(ctx, [&ctx, counts, watch](Request& req, const accounts::Session& s) {
               if (!counts->Acquire(s.username)) {
                 return ErrorResponse(429, "too many open event streams");
               }
               auto stream = std::make_shared<EventStream>(ctx, counts, watch,
                                                           req.Cookie(kSessionCookie), s.username);
               Response res;
               res.headers.Set("Content-Type", "text/event-stream");
               res.headers.Set("Cache-Control", "no-store");
               res.headers.Set("X-Accel-Buffering", "no");
               res.stream = [stream] { return stream->Next(); };
               res.stream_poll = kPoll;
               return res;
             }));
}

}  // namespace penncloud::frontend
