// The proxy's threads, listeners and sweep; a connection's life is DownstreamSession's.
#include "coordinator/proxy.h"

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/downstream_session.h"
#include "coordinator/proxy_metrics.h"
#include "coordinator/proxy_shared.h"
#include "coordinator/upstream_pool.h"
#include "http/listener.h"

namespace penncloud::coordinator {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class Proxy::Impl {
 public:
  // One single-threaded io_context per I/O thread, each connection pinned to one. A shared
  // io_context with a strand per connection made two threads contend on the scheduler's
  // mutex and wake each other through futexes on every completion; here a thread runs
  // its own connections' handlers inline, with no locking and no strand.
  Impl(Registry* registry, const http::Router* local, http::WorkerPool* pool, ProxyOptions options)
      : upstreams_(options.max_idle_per_upstream,
                   static_cast<size_t>(std::max(1, options.io_threads))) {
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      contexts_.push_back(std::make_unique<net::io_context>(1));
      guards_.push_back(net::make_work_guard(*contexts_.back()));
      shared_.open_exchanges.push_back(std::make_unique<OpenExchanges>());
      sweep_timers_.push_back(std::make_unique<net::steady_timer>(*contexts_.back()));
    }
    // Connections are spread over the I/O threads round-robin; the acceptors run on the first.
    auto lane = [this](size_t thread) -> http::Listener::Executor {
      return contexts_[thread]->get_executor();
    };
    plain_.emplace(
        contexts_[0]->get_executor(), contexts_.size(), lane,
        [this](tcp::socket s, size_t thread) { StartSession(std::move(s), thread, nullptr); });
    if (options.tls != nullptr) {
      tls_.emplace(contexts_[0]->get_executor(), contexts_.size(), lane,
                   [this, tls = options.tls](tcp::socket s, size_t thread) {
                     StartSession(std::move(s), thread, tls);
                   });
    }
    shared_.limits = std::make_unique<ClientLimits>(options.limits);
    shared_.hsts = absl::StrCat("max-age=", options.hsts_max_age_s);
    shared_.registry = registry;
    shared_.local = local;
    shared_.pool = pool;
    shared_.options = options;
    shared_.upstreams = &upstreams_;
    metrics::Default().OnCollect([cell = shared_.in_flight_cell] {
      Metrics().in_flight.With().Set(static_cast<double>(cell->load()));
    });
    // Request ids are "<start time>-<counter>": unique across coordinator restarts.
    shared_.id_prefix = absl::StrCat(
        absl::Hex(std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffffff));
  }

  absl::StatusOr<uint16_t> Start() {
    const ProxyOptions& o = shared_.options;
    if (absl::Status s = plain_->Listen(o.address, o.port); !s.ok()) return s;
    if (tls_) {
      if (absl::Status s = tls_->Listen(o.address, o.https_port); !s.ok()) {
        return absl::UnavailableError(absl::StrCat("HTTPS ", s.message()));
      }
      shared_.https_port = tls_->port();
      tls_->Start();
    } else {
      shared_.https_port = o.https_port;
    }
    plain_->Start();
    for (size_t t = 0; t < contexts_.size(); ++t) ScheduleSweep(t);
    return plain_->port();
  }

  uint16_t https_port() const { return shared_.https_port; }

  void Run() {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts_.size(); ++i)
      threads.emplace_back([ioc = contexts_[i].get()] { ioc->run(); });
    contexts_[0]->run();
    for (auto& t : threads) t.join();
  }

  void Stop() {
    for (auto& ioc : contexts_) ioc->stop();
  }

  void Drain(int grace_ms) {
    shared_.draining = true;
    plain_->Close();
    if (tls_) tls_->Close();
    http::AwaitIdle(shared_.in_flight, std::chrono::milliseconds(grace_ms));
    PC_LOG(kInfo, "proxy.drained")("unfinished", shared_.in_flight.load());
    Stop();
  }

 private:
  // Every sweep_ms, each I/O thread ends its exchanges with frontends that are no longer
  // healthy (see DownstreamSession::AbandonIfStalled). New requests already avoid them:
  // the balancer reads the same list.
  void ScheduleSweep(size_t thread) {
    auto& timer = *sweep_timers_[thread];
    timer.expires_after(std::chrono::milliseconds(shared_.options.sweep_ms));
    timer.async_wait([this, thread](boost::system::error_code ec) {
      if (ec) return;
      Sweep(thread);
      ScheduleSweep(thread);
    });
  }

  void Sweep(size_t thread) {
    OpenExchanges& open = *shared_.open_exchanges[thread];
    if (open.empty()) return;
    std::shared_ptr<const Candidates> healthy = upstreams_.Healthy(shared_.registry, false);
    const Clock::time_point now = Clock::now();
    const auto stall = std::chrono::milliseconds(shared_.options.stall_ms);
    for (OpenExchange& e : open) {
      Upstream* target = e.session->target();
      bool up = std::any_of(healthy->begin(), healthy->end(),
                            [target](const Candidate& c) { return c.upstream == target; });
      // Ending an exchange only cancels its socket; the session unlinks itself later, in
      // its completion handler, so this iteration stays valid.
      if (!up && e.session->AbandonIfStalled(now, stall)) Metrics().abandoned.With().Inc();
    }
  }

  void StartSession(tcp::socket s, size_t thread, net::ssl::context* tls) {
    std::make_shared<DownstreamSession>(std::move(s), &shared_, thread, tls)->Start();
  }

  UpstreamPool upstreams_;
  ProxyShared shared_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::optional<http::Listener> plain_;                           // :8000
  std::optional<http::Listener> tls_;                             // HTTPS
  std::vector<std::unique_ptr<net::steady_timer>> sweep_timers_;  // one per context
};

Proxy::Proxy(Registry* registry, const http::Router* local, http::WorkerPool* pool,
             ProxyOptions options)
    : impl_(std::make_unique<Impl>(registry, local, pool, std::move(options))) {}
Proxy::~Proxy() = default;
absl::StatusOr<uint16_t> Proxy::Start() { return impl_->Start(); }
uint16_t Proxy::https_port() const { return impl_->https_port(); }
void Proxy::Run() { impl_->Run(); }
void Proxy::Stop() { impl_->Stop(); }
void Proxy::Drain(int grace_ms) { impl_->Drain(grace_ms); }

}  // namespace penncloud::coordinator
