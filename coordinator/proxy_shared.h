// What every proxy session shares: options, the registry and upstream pool, the console's
// router, request ids, the in-flight count and the per-thread lists of open exchanges.
#pragma once

#include <atomic>
#include <boost/intrusive/list.hpp>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/client_limits.h"
#include "coordinator/proxy.h"
#include "coordinator/registry.h"
#include "coordinator/upstream_pool.h"
#include "http/router.h"
#include "http/worker_pool.h"

namespace penncloud::coordinator {

class DownstreamSession;

// A session with an exchange open to a frontend. It is linked into its I/O thread's list
// while the exchange lasts, so that thread's sweep can end the exchange when the frontend
// is marked down. Same-thread only, so no lock; unlinked by itself when destroyed.
struct OpenExchange
    : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
  DownstreamSession* session = nullptr;
};
using OpenExchanges =
    boost::intrusive::list<OpenExchange, boost::intrusive::constant_time_size<false>>;

struct ProxyShared {
  Registry* registry = nullptr;
  const http::Router* local = nullptr;  // serves /admin and /api/admin/
  http::WorkerPool* pool = nullptr;     // runs `local`'s handlers
  ProxyOptions options;
  UpstreamPool* upstreams = nullptr;
  std::string id_prefix;  // request ids are "<id_prefix>-<next_id>"
  std::atomic<uint64_t> next_id{0};
  // Shared with the metrics refresher, which may outlive the proxy.
  std::shared_ptr<std::atomic<int64_t>> in_flight_cell = std::make_shared<std::atomic<int64_t>>(0);
  std::atomic<int64_t>& in_flight = *in_flight_cell;
  std::atomic<bool> draining{false};
  std::vector<std::unique_ptr<OpenExchanges>> open_exchanges;  // one per I/O thread
  std::unique_ptr<ClientLimits> limits;
  uint16_t https_port = 0;  // as bound, for redirects
  std::string hsts;         // the Strict-Transport-Security value
};

}  // namespace penncloud::coordinator
