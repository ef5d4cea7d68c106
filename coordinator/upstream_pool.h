// The frontends the proxy may use, idle keep-alive connections to each, and the requests
// in flight to each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/registry.h"
#include "coordinator/upstream.h"

namespace penncloud::coordinator {

using Candidates = std::vector<Candidate>;

class UpstreamPool {
 public:
  // `threads`: the proxy's I/O threads (idle connections are kept per thread).
  UpstreamPool(size_t max_idle_per_thread, size_t threads)
      : max_idle_(max_idle_per_thread), threads_(threads) {}

  // The healthy frontends. Asking the Registry copies every address under its mutex; done
  // per request that was the proxy's largest cost after the kernel's, so the list is
  // shared and re-read at most every kRefresh, or at once when `fresh` (the caller found
  // no usable frontend in it) or after Invalidate (a frontend failed). Heartbeats change
  // the loads only once a second, so nothing of value is lost.
  std::shared_ptr<const Candidates> Healthy(Registry* registry, bool fresh);
  void Invalidate();

  // An idle connection to `u` opened on I/O thread `thread`, if one is still usable: not
  // near the frontend's 60 s idle timeout, and not closed (or written to) by the frontend
  // while it sat here. A request sent on a connection the frontend had already closed
  // would fail after it was written, when the proxy can no longer tell whether the
  // frontend read it; checking first keeps such requests repeatable.
  std::optional<boost::asio::ip::tcp::socket> Take(Upstream* u, size_t thread,
                                                   Clock::time_point now);
  void Give(Upstream* u, size_t thread, boost::asio::ip::tcp::socket socket, Clock::time_point now);
  // Drops every idle connection to `u` (it failed).
  void Forget(Upstream* u);

  uint64_t NextTurn() { return turn_.fetch_add(1, std::memory_order_relaxed); }

  static constexpr std::chrono::seconds kMaxIdleAge{30};

 private:
  static constexpr std::chrono::milliseconds kRefresh{100};
  const size_t max_idle_;
  const size_t threads_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Upstream>> upstreams_;  // GUARDED_BY(mu_)
  std::shared_ptr<const Candidates> healthy_;                   // GUARDED_BY(mu_)
  Clock::time_point refresh_at_;                                // GUARDED_BY(mu_)
  std::atomic<uint64_t> turn_{0};
};

// True if nothing has happened on an idle connection: no end of stream, no error and no
// unexpected bytes waiting. Never blocks.
bool IdleConnectionQuiet(boost::asio::ip::tcp::socket& socket);

}  // namespace penncloud::coordinator
