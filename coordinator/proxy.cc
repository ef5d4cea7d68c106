#include "coordinator/proxy.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/intrusive/list.hpp>
#include <charconv>
#include <chrono>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics.h"
#include "coordinator/client_stream.h"
#include "frontend/api_context.h"
#include "frontend/header_bytes.h"

namespace penncloud::coordinator {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace bi = boost::intrusive;

constexpr size_t kPieceBytes = 256 << 10;
constexpr size_t kReadBytes = 16 << 10;           // upstream read buffer per client connection
constexpr uint64_t kMaxAdminBodyBytes = 1 << 20;  // the console's own API (not proxied)

bool SafeToRepeat(http::verb method, std::string_view method_string) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::propfind:
    case http::verb::mkcol:
    case http::verb::copy:
    case http::verb::move:
    case http::verb::trace:
      return true;
    default:
      return method_string == "PROPPATCH" || method_string == "REPORT";
  }
}

// A client's own X-Request-Id is kept if it is short and plain (it goes into every log
// line of the request); anything else is replaced by a fresh one.
bool UsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Requests through :8000, by kind ("proxied" to a frontend, "admin" served here) and
// status; the per-route view is each frontend's own.
struct ProxyMetrics {
  metrics::CounterFamily& requests = metrics::Default().Counter(
      "coordinator_http_requests_total", "HTTP requests answered at :8000, by kind and status",
      {"kind", "status"});
  metrics::HistogramFamily& latency = metrics::Default().Histogram(
      "coordinator_http_request_duration_seconds",
      "HTTP request latency at :8000 (header read to response written), by kind", {"kind"});
  // Looked up once: finding a child builds a label vector and takes the family's lock.
  metrics::HistogramCell& proxied_latency = latency.With({"proxied"});
  metrics::HistogramCell& admin_latency = latency.With({"admin"});
  metrics::CounterFamily& upstream_failures = metrics::Default().Counter(
      "coordinator_upstream_failures_total", "failed exchanges with a frontend (retried or 502)");
  metrics::GaugeFamily& in_flight = metrics::Default().Gauge("coordinator_http_in_flight_requests",
                                                             "requests at :8000 not yet answered");
  metrics::CounterFamily& abandoned = metrics::Default().Counter(
      "coordinator_upstream_abandoned_total",
      "exchanges ended because their frontend was marked down while they waited on it");
};

ProxyMetrics& Metrics() {
  static ProxyMetrics* m = new ProxyMetrics();
  return *m;
}

bool HopByHop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::expect:
    case http::field::content_length:
      return true;
    default:
      return false;
  }
}

// Appends "Name: value\r\n". The proxy writes the heads it sends itself, into a string
// each session reuses: Beast's fields allocate a node per header and its serializer hands
// the kernel several buffers per header, which cost more than the rest of the relay.
void AppendField(std::string& out, beast::string_view name, beast::string_view value) {
  out.append(name.data(), name.size());
  out.append(": ");
  out.append(value.data(), value.size());
  out.append("\r\n");
}

// Headers only the proxy may set: a client's copy would be believed by the frontend.
bool SetByProxy(beast::string_view name) {
  return beast::iequals(name, "X-Request-Id") || beast::iequals(name, "X-Forwarded-For") ||
         beast::iequals(name, "X-Forwarded-Proto");
}

// "example.org:8000" -> "example.org", "[::1]:8000" -> "[::1]"; "" unless the name is made
// of the characters a host name or address may hold (it goes into a Location header).
std::string HostWithoutPort(std::string_view host) {
  size_t end = host.size();
  if (size_t colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    end = colon;
  }
  host = host.substr(0, end);
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '[' || c == ']' || c == ':';
    if (!ok) return "";
  }
  return std::string(host);
}

struct IdleSocket {
  tcp::socket socket;
  std::chrono::steady_clock::time_point since;
};

// One frontend as the proxy sees it. Entries are created once per address and never freed
// (the set of frontends is small), so sessions hold plain pointers to them.
struct Upstream {
  explicit Upstream(std::string a) : address(std::move(a)) {}
  const std::string address;
  // Requests this proxy has in flight to the frontend. An atomic, not a map under a mutex:
  // every request reads it for each candidate and changes it twice.
  std::atomic<int64_t> active{0};
  std::mutex mu;
  // Per I/O thread: a socket belongs to the io_context it was opened on, and a session
  // only takes sockets of its own, so no completion ever crosses threads.
  std::vector<std::vector<IdleSocket>> idle;  // GUARDED_BY(mu)
};

struct Candidate {
  Upstream* upstream;
  int64_t in_flight;  // as last reported by the frontend's heartbeat
};

using Candidates = std::vector<Candidate>;

// Idle keep-alive connections to each frontend, the requests in flight to each, and a
// cached list of the healthy ones.
class UpstreamPool {
 public:
  UpstreamPool(size_t max_idle, size_t threads) : max_idle_(max_idle), threads_(threads) {}

  // The healthy frontends. Asking the Registry copies every address under its mutex; done
  // per request that was the proxy's largest cost after the kernel's, so the list is
  // shared and re-read at most every kRefresh, or at once when `fresh` (the caller found
  // no usable frontend in it) or after Invalidate (a frontend failed). Heartbeats change
  // the loads only once a second, so nothing of value is lost.
  std::shared_ptr<const Candidates> Healthy(Registry* registry, bool fresh) {
    Clock::time_point now = Clock::now();
    std::lock_guard lock(mu_);
    if (fresh || !healthy_ || now >= refresh_at_) {
      auto next = std::make_shared<Candidates>();
      for (const auto& [address, load] : registry->Healthy("frontend", now)) {
        auto& entry = upstreams_[address];
        if (!entry) {
          entry = std::make_unique<Upstream>(address);
          entry->idle.resize(threads_);
        }
        next->push_back({entry.get(), load.in_flight});
      }
      healthy_ = std::move(next);
      refresh_at_ = now + kRefresh;
    }
    return healthy_;
  }

  void Invalidate() {
    std::lock_guard lock(mu_);
    healthy_.reset();
  }

  std::optional<tcp::socket> Take(Upstream* u, size_t thread) {
    std::lock_guard lock(u->mu);
    auto& idle = u->idle[thread];
    auto now = std::chrono::steady_clock::now();
    while (!idle.empty()) {
      IdleSocket s = std::move(idle.back());
      idle.pop_back();
      // The frontend closes idle connections after 60 s; never reuse one near that age.
      if (now - s.since < std::chrono::seconds(30)) return std::move(s.socket);
    }
    return std::nullopt;
  }

  void Give(Upstream* u, size_t thread, tcp::socket socket) {
    std::lock_guard lock(u->mu);
    auto& idle = u->idle[thread];
    if (idle.size() < max_idle_) {
      idle.push_back({std::move(socket), std::chrono::steady_clock::now()});
    }
  }

  void Forget(Upstream* u) {
    std::lock_guard lock(u->mu);
    for (auto& idle : u->idle) idle.clear();
  }

  uint64_t NextTurn() { return turn_.fetch_add(1, std::memory_order_relaxed); }

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

class Session;

// A session with an exchange open to a frontend. It is linked into its I/O thread's list
// while the exchange lasts, so that thread's sweep can end the exchange when the frontend
// is marked down. Same-thread only, so no lock; unlinked by itself when destroyed.
struct OpenExchange : bi::list_base_hook<bi::link_mode<bi::auto_unlink>> {
  Session* session = nullptr;
};
using OpenExchanges = bi::list<OpenExchange, bi::constant_time_size<false>>;

struct Shared {
  Registry* registry;
  const frontend::Router* local;
  frontend::WorkerPool* pool;
  ProxyOptions options;
  UpstreamPool* upstreams;
  std::string id_prefix;
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

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `thread`: the index of the single-threaded io_context that `socket` belongs to.
  // `tls`: the HTTPS context for a connection accepted on the TLS port, else nullptr.
  Session(tcp::socket socket, Shared* shared, size_t thread, net::ssl::context* tls)
      : client_(std::move(socket), tls),
        shared_(shared),
        thread_(thread),
        upstream_(client_.get_executor()),
        timer_(client_.get_executor()) {
    open_.session = this;
    // Beast reads as much as the buffer's free capacity, at least 512 bytes. The parser
    // consumes a response piece by piece, so an unreserved buffer never grows and a 2 KB
    // page took four reads from the frontend and four writes to the client.
    upstream_buffer_.reserve(kReadBytes);
    client_buffer_.reserve(kReadBytes / 4);
    beast::error_code ec;
    auto ep = client_.tcp().socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string();
    // Over the cap, the connection still gets one answer (429) rather than a bare reset.
    over_connection_cap_ = !shared_->limits->OpenConnection(peer_);
    counts_as_connection_ = !over_connection_cap_;
  }

  ~Session() { ReleaseConnection(); }

  void Start() {
    net::dispatch(client_.get_executor(), [self = shared_from_this()] {
      if (!self->client_.is_tls()) return self->ReadHeader();
      self->client_.tcp().expires_after(std::chrono::seconds(10));
      self->client_.tls().async_handshake(net::ssl::stream_base::server,
                                          [self](beast::error_code ec) {
                                            if (ec) return self->CloseClient();
                                            self->ReadHeader();
                                          });
    });
  }

  Upstream* target() const { return target_; }

  // Called by the sweep when this exchange's frontend is marked down (or suspect). A
  // frozen frontend would hold the exchange until the upstream timeout; ending it lets
  // UpstreamFailed retry the request elsewhere or answer 502 now. An exchange whose current
  // step is younger than `stall` is left alone: a frontend still moving bytes (say, one
  // whose heartbeats are lost but which streams a download) keeps its stream.
  bool AbandonIfStalled(Clock::time_point now, Clock::duration stall) {
    if (abandoned_ || !watching_ || now - step_started_ < stall) return false;
    abandoned_ = true;
    beast::error_code ignored;
    upstream_.cancel(ignored);
    upstream_.close(ignored);
    return true;
  }

 private:
  // ---- client side ------------------------------------------------------------------

  void ReadHeader() {
    header_parser_.emplace();
    header_parser_->header_limit(frontend::kMaxHeaderBytes);
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    buffered_parser_.reset();
    stream_parser_.reset();
    tried_.clear();
    attempts_ = 0;
    client_.tcp().expires_after(
        std::chrono::seconds(over_connection_cap_ ? 5 : shared_->options.idle_timeout_s));
    http::async_read_header(client_, client_buffer_, *header_parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec == http::error::header_limit ||
                                  (!ec && frontend::HeaderFieldBytes(self->header_parser_->get()) >
                                              frontend::kMaxHeaderBytes)) {
                                return self->HeaderTooLarge();
                              }
                              if (ec) return self->CloseClient();
                              self->OnHeader();
                            });
  }

  // Answered here, not forwarded: the frontends hold headers to the same limit.
  void HeaderTooLarge() {
    version_ = 11;
    method_ = http::verb::unknown;
    client_keep_alive_ = false;
    started_ = std::chrono::steady_clock::now();
    request_id_ = absl::StrCat(shared_->id_prefix, "-", shared_->next_id.fetch_add(1));
    ReplyError(431, "request header too large");
  }

  void OnHeader() {
    auto& h = header_parser_->get();
    method_ = h.method();
    method_string_ = std::string(h.method_string());
    version_ = h.version();
    client_keep_alive_ = h.keep_alive();
    started_ = std::chrono::steady_clock::now();
    status_ = 0;
    if (!active_) {
      active_ = true;
      shared_->in_flight.fetch_add(1, std::memory_order_relaxed);
    }
    std::string_view given(h["X-Request-Id"].data(), h["X-Request-Id"].size());
    request_id_ = UsableRequestId(given)
                      ? std::string(given)
                      : absl::StrCat(shared_->id_prefix, "-", shared_->next_id.fetch_add(1));
    std::string_view target(h.target().data(), h.target().size());
    // Decoded as the frontends decode it, so "/%61dmin" is the console here too.
    const std::string path = frontend::PercentDecode(target.substr(0, target.find('?')), false);
    local_ = path == "/admin" || path.starts_with("/admin/") || path.starts_with("/api/admin/") ||
             path == "/api/admin";

    if (over_connection_cap_) {
      client_keep_alive_ = false;
      return ReplyError(429, "too many connections from your address");
    }
    if (shared_->options.redirect_to_https && !client_.is_tls()) return RedirectToHttps(h);
    limited_ =
        ClassifyRequest(method_string_, path,
                        beast::string_view(h[http::field::authorization]).starts_with("Basic "));
    if (auto wait = shared_->limits->Admit(peer_, limited_, Clock::now())) {
      limited_ = LimitedKind::kNone;
      // The body is left unread, so the connection cannot carry another request.
      client_keep_alive_ = false;
      frontend::Response res =
          frontend::ErrorResponse(429, "too many attempts from your address; try again later");
      res.headers.Set("Retry-After", std::to_string(*wait));
      return WriteLocal(std::move(res));
    }

    boost::optional<uint64_t> length = header_parser_->content_length();
    bool chunked = header_parser_->chunked();
    streaming_ = !local_ && (chunked || (length && *length > shared_->options.buffer_limit));
    // Beast holds a Content-Length to body_limit only while it parses the header, so the
    // console's limit set in ReadBody would bind chunked bodies alone: checked here.
    if (local_ && length && *length > kMaxAdminBodyBytes) {
      client_keep_alive_ = false;  // the body stays unread
      return ReplyError(413, "request body too large");
    }

    auto after_continue = [self = shared_from_this()] { self->ReadBody(); };
    if (beast::iequals(h[http::field::expect], "100-continue")) {
      auto cont =
          std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      http::async_write(client_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->CloseClient();
                          self->ReadBody();
                        });
      return;
    }
    after_continue();
  }

  void ReadBody() {
    if (streaming_) {
      stream_parser_.emplace(std::move(*header_parser_));
      stream_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
      BuildUpstreamRequest(stream_parser_->get());
      return Attempt();
    }
    if (!local_ && header_parser_->is_done()) {
      // No body (most GETs): forward at once. Another async_read would complete
      // immediately, but only after a round trip through the scheduler queue.
      req_body_.clear();
      WriteRequestHead(header_parser_->get());
      return Attempt();
    }
    buffered_parser_.emplace(std::move(*header_parser_));
    buffered_parser_->body_limit(local_ ? kMaxAdminBodyBytes : shared_->options.buffer_limit);
    http::async_read(client_, client_buffer_, *buffered_parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) {
                         self->client_keep_alive_ = false;
                         return self->ReplyError(413, "request body too large");
                       }
                       if (ec) return self->CloseClient();
                       if (self->local_) return self->ServeLocal();
                       self->req_body_ = std::move(self->buffered_parser_->get().body());
                       self->WriteRequestHead(self->buffered_parser_->get());
                       self->Attempt();
                     });
  }

  // The head of a buffered request for the frontend (req_body_ already set), written into
  // a string the session reuses; kept until the exchange ends, for retries. The same
  // header rules as BuildUpstreamRequest, and Content-Length as Beast's prepare_payload
  // would set it.
  template <typename Body>
  void WriteRequestHead(const http::request<Body>& in) {
    req_head_.clear();
    beast::string_view method = in.method_string(), target = in.target();
    req_head_.append(method.data(), method.size());
    req_head_.push_back(' ');
    req_head_.append(target.data(), target.size());
    req_head_.append(" HTTP/1.1\r\n");
    for (const auto& f : in) {
      if (f.name() != http::field::unknown && HopByHop(f.name())) continue;
      if (SetByProxy(f.name_string())) continue;
      AppendField(req_head_, f.name_string(), f.value());
    }
    AppendField(req_head_, "X-Request-Id", request_id_);
    AppendField(req_head_, "X-Forwarded-For", peer_);
    AppendField(req_head_, "X-Forwarded-Proto", client_.is_tls() ? "https" : "http");
    http::verb verb = in.method();
    if (!req_body_.empty() || verb == http::verb::options || verb == http::verb::put ||
        verb == http::verb::post) {
      absl::StrAppend(&req_head_, "Content-Length: ", req_body_.size(), "\r\n");
    }
    req_head_.append("\r\n");
  }

  // The head of a streamed upload, as Beast fields (its serializer then frames the body).
  template <typename Body>
  void BuildUpstreamRequest(const http::request<Body>& in) {
    upstream_req_ = {};
    upstream_req_.method(in.method());
    if (in.method() == http::verb::unknown) upstream_req_.method_string(in.method_string());
    upstream_req_.target(in.target());
    upstream_req_.version(11);
    for (const auto& f : in) {
      if (f.name() != http::field::unknown && HopByHop(f.name())) continue;
      if (SetByProxy(f.name_string())) continue;
      upstream_req_.insert(f.name_string(), f.value());
    }
    upstream_req_.set("X-Request-Id", request_id_);
    upstream_req_.set("X-Forwarded-For", peer_);
    upstream_req_.set("X-Forwarded-Proto", client_.is_tls() ? "https" : "http");
    upstream_req_.keep_alive(true);
  }

  // Admin paths: served here by the local router on the worker pool (it checks the
  // session against the KVS, which may block).
  void ServeLocal() {
    req_ = frontend::Request();
    auto& in = buffered_parser_->get();
    req_.method = method_string_;
    req_.target = std::string(in.target());
    for (const auto& f : in) {
      if (SetByProxy(f.name_string())) continue;
      req_.headers.Add(std::string(f.name_string()), std::string(f.value()));
    }
    req_.headers.Add("X-Forwarded-Proto", client_.is_tls() ? "https" : "http");
    req_.body = std::move(in.body());
    req_.remote = peer_;
    frontend::ParseTarget(req_);
    bool queued = shared_->pool->Submit([self = shared_from_this()] {
      log::SetRequestId(self->request_id_);
      frontend::Response res = self->shared_->local->Dispatch(self->req_);
      net::post(self->client_.get_executor(),
                [self, res = std::move(res)]() mutable { self->WriteLocal(std::move(res)); });
    });
    if (!queued) ReplyError(503, "coordinator busy");
  }

  void WriteLocal(frontend::Response res) {
    auto msg = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(res.status), version_);
    for (const auto& [k, v] : res.headers.fields()) msg->insert(k, v);
    msg->body() = std::move(res.body);
    status_ = res.status;
    msg->set("X-Request-Id", request_id_);
    if (client_.is_tls()) msg->set(http::field::strict_transport_security, shared_->hsts);
    if (shared_->draining.load(std::memory_order_relaxed)) client_keep_alive_ = false;
    msg->keep_alive(client_keep_alive_);
    msg->prepare_payload();
    if (method_ == http::verb::head) msg->body().clear();
    client_.tcp().expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    http::async_write(client_, *msg,
                      [self = shared_from_this(), msg](beast::error_code ec, size_t) {
                        self->AfterClientResponse(ec);
                      });
  }

  void ReplyError(int status, std::string_view message) {
    frontend::Response res = frontend::ErrorResponse(status, message);
    WriteLocal(std::move(res));
  }

  void AfterClientResponse(beast::error_code ec) {
    if (!ec && active_) {
      ProxyMetrics& m = Metrics();
      // A connection's answers mostly share one status: keep that counter at hand.
      if (!status_cell_ || status_cell_code_ != status_ || status_cell_local_ != local_) {
        status_cell_ = &m.requests.With({local_ ? "admin" : "proxied", std::to_string(status_)});
        status_cell_code_ = status_;
        status_cell_local_ = local_;
      }
      status_cell_->Inc();
      (local_ ? m.admin_latency : m.proxied_latency)
          .Observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    }
    EndRequest();
    if (ec || !client_keep_alive_) return CloseClient();
    ReadHeader();
  }

  void EndRequest() {
    if (limited_ != LimitedKind::kNone) {
      shared_->limits->Answered(peer_, limited_, status_, Clock::now());
      limited_ = LimitedKind::kNone;
    }
    if (!active_) return;
    active_ = false;
    shared_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  }

  // The connection stops counting against its address when its socket closes, not when
  // the session is freed (a pending upstream timer may keep it a while longer).
  void ReleaseConnection() {
    if (!counts_as_connection_) return;
    counts_as_connection_ = false;
    shared_->limits->CloseConnection(peer_);
  }

  void CloseClient() {
    EndRequest();
    DropUpstream();
    ReleaseConnection();
    if (client_.is_tls() && !tls_closing_ && client_.tcp().socket().is_open()) {
      // close_notify first, so a body delimited by the close is not taken for a cut.
      tls_closing_ = true;
      client_.tcp().expires_after(std::chrono::seconds(2));
      client_.tls().async_shutdown([self = shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->client_.tcp().socket().close(ignored);
      });
      return;
    }
    beast::error_code ignored;
    client_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_.tcp().socket().close(ignored);
  }

  // A public deployment's plain listener: the same URL over https, with its port.
  void RedirectToHttps(const http::request_header<>& h) {
    client_keep_alive_ = false;  // any body stays unread
    std::string host = shared_->options.public_host;
    beast::string_view given = h[http::field::host];
    if (host.empty()) host = HostWithoutPort(std::string_view(given.data(), given.size()));
    if (host.empty()) host = shared_->options.address;
    std::string location = absl::StrCat("https://", host);
    if (shared_->https_port != 443) absl::StrAppend(&location, ":", shared_->https_port);
    location.append(h.target().data(), h.target().size());
    frontend::Response res = frontend::ErrorResponse(308, "use https");
    res.headers.Set("Location", location);
    WriteLocal(std::move(res));
  }

  // ---- upstream side ----------------------------------------------------------------

  // Upstream completions need no binding: a session only uses upstream sockets opened on
  // its own single-threaded io_context (the pool keeps them per thread).
  template <typename Handler>
  Handler&& Bind(Handler&& handler) {
    return std::forward<Handler>(handler);
  }

  // Chooses the healthy frontend with the least load among those not yet tried.
  Upstream* Pick() {
    for (bool fresh : {false, true}) {
      std::shared_ptr<const Candidates> healthy =
          shared_->upstreams->Healthy(shared_->registry, fresh);
      size_t n = healthy->size();
      if (n == 0) continue;
      size_t start = shared_->upstreams->NextTurn() % n;
      Upstream* best = nullptr;
      int64_t best_score = 0;
      for (size_t i = 0; i < n; ++i) {
        const Candidate& c = (*healthy)[(start + i) % n];
        if (std::find(tried_.begin(), tried_.end(), c.upstream) != tried_.end()) continue;
        int64_t score = c.upstream->active.load(std::memory_order_relaxed) + c.in_flight;
        if (!best || score < best_score) {
          best = c.upstream;
          best_score = score;
        }
      }
      if (best) return best;
    }
    return nullptr;
  }

  void Attempt() {
    ++attempts_;
    abandoned_ = false;
    target_ = Pick();
    if (!target_) {
      client_keep_alive_ = client_keep_alive_ && !streaming_;
      return ReplyError(503, "no frontend available; try again");
    }
    upstream_address_ = target_->address;
    tried_.push_back(target_);
    target_->active.fetch_add(1, std::memory_order_relaxed);
    counted_active_ = true;
    if (!open_.is_linked()) shared_->open_exchanges[thread_]->push_back(open_);
    sent_anything_ = false;
    std::optional<tcp::socket> pooled = shared_->upstreams->Take(target_, thread_);
    if (pooled) {
      upstream_ = std::move(*pooled);
      reused_ = true;
      return SendRequest();
    }
    reused_ = false;
    size_t colon = upstream_address_.rfind(':');
    beast::error_code ec;
    tcp::endpoint ep(net::ip::make_address(upstream_address_.substr(0, colon), ec),
                     static_cast<uint16_t>(std::stoi(upstream_address_.substr(colon + 1))));
    if (ec) return UpstreamFailed(ec, /*connect=*/true);
    upstream_ = tcp::socket(client_.get_executor());
    Arm(std::chrono::milliseconds(shared_->options.connect_timeout_ms));
    upstream_.async_connect(ep, Bind([self = shared_from_this()](beast::error_code ec) {
                              self->Disarm();
                              if (ec) return self->UpstreamFailed(ec, /*connect=*/true);
                              beast::error_code ignored;
                              self->upstream_.set_option(tcp::no_delay(true), ignored);
                              self->SendRequest();
                            }));
  }

  // Closes the upstream socket if an upstream step takes longer than `d`. Re-arming is
  // lazy: each step only moves `deadline_`; the one pending wait re-waits when it fires
  // early. (Cancelling and re-waiting a timer per step cost a handler dispatch each.)
  void Arm(std::chrono::steady_clock::duration d) {
    step_started_ = std::chrono::steady_clock::now();
    deadline_ = step_started_ + d;
    watching_ = true;
    if (timer_pending_ && timer_.expiry() <= deadline_) return;
    if (timer_pending_) timer_.cancel();
    WaitTimer();
  }

  void WaitTimer() {
    timer_pending_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this(), at = deadline_](beast::error_code ec) {
      if (ec == net::error::operation_aborted && self->timer_.expiry() != at) return;
      self->timer_pending_ = false;
      if (ec || !self->watching_) return;
      if (std::chrono::steady_clock::now() < self->deadline_) return self->WaitTimer();
      beast::error_code ignored;
      self->upstream_.cancel(ignored);
      self->upstream_.close(ignored);
    });
  }

  void Disarm() { watching_ = false; }

  void ArmUpstream() { Arm(std::chrono::seconds(shared_->options.upstream_timeout_s)); }

  void SendRequest() {
    ArmUpstream();
    if (!streaming_) {
      std::array<net::const_buffer, 2> request{net::buffer(req_head_), net::buffer(req_body_)};
      net::async_write(upstream_, request,
                       Bind([self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->UpstreamFailed(ec, /*connect=*/false);
                         self->sent_anything_ = true;
                         self->ReadUpstreamHeader();
                       }));
      return;
    }
    // Streaming upload: header, then the body piece by piece from the client.
    stream_req_.emplace();
    stream_req_->base() = upstream_req_.base();
    if (auto len = stream_parser_->content_length()) {
      stream_req_->content_length(*len);
    } else {
      stream_req_->chunked(true);
    }
    stream_req_->body().data = nullptr;
    stream_req_->body().more = true;
    stream_req_sr_.emplace(*stream_req_);
    http::async_write_header(upstream_, *stream_req_sr_,
                             Bind([self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->UpstreamFailed(ec, false);
                               self->sent_anything_ = true;
                               self->RelayUploadPiece();
                             }));
  }

  void RelayUploadPiece() {
    if (stream_parser_->is_done()) {
      stream_req_->body().data = nullptr;
      stream_req_->body().size = 0;
      stream_req_->body().more = false;
      ArmUpstream();
      http::async_write(upstream_, *stream_req_sr_,
                        Bind([self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec == http::error::need_buffer) ec = {};
                          if (ec) return self->UpstreamFailed(ec, false);
                          self->ReadUpstreamHeader();
                        }));
      return;
    }
    up_piece_.resize(kPieceBytes);
    stream_parser_->get().body().data = up_piece_.data();
    stream_parser_->get().body().size = up_piece_.size();
    client_.tcp().expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    http::async_read_some(client_, client_buffer_, *stream_parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec == http::error::need_buffer) ec = {};
                            if (ec) return self->CloseClient();
                            size_t n =
                                self->up_piece_.size() - self->stream_parser_->get().body().size;
                            if (n == 0) return self->RelayUploadPiece();
                            auto& body = self->stream_req_->body();
                            body.data = self->up_piece_.data();
                            body.size = n;
                            body.more = true;
                            self->ArmUpstream();
                            http::async_write(self->upstream_, *self->stream_req_sr_,
                                              self->Bind([self](beast::error_code ec, size_t) {
                                                if (ec == http::error::need_buffer) ec = {};
                                                if (ec) return self->UpstreamFailed(ec, false);
                                                self->RelayUploadPiece();
                                              }));
                          });
  }

  void ReadUpstreamHeader() {
    res_parser_.emplace();
    res_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (method_ == http::verb::head) res_parser_->skip(true);
    upstream_buffer_.clear();
    ArmUpstream();
    http::async_read_header(upstream_, upstream_buffer_, *res_parser_,
                            Bind([self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->UpstreamFailed(ec, false);
                              self->OnUpstreamHeader();
                            }));
  }

  void UpstreamFailed(beast::error_code ec, bool connect) {
    Disarm();
    DropUpstream();
    Metrics().upstream_failures.With().Inc();
    PC_LOG(kWarn, "proxy.upstream_failed")
    ("upstream", upstream_address_)("error", ec.message())("attempt", attempts_)("reused", reused_);
    // A fresh connection that failed says the frontend is gone; a reused one may only
    // have been closed by the frontend while idle. An abandoned one was to a frontend
    // already marked down.
    const bool stale = reused_ && !connect && !abandoned_;
    if (!stale) {
      shared_->registry->MarkSuspect(upstream_address_, Clock::now());
      shared_->upstreams->Forget(target_);
      shared_->upstreams->Invalidate();
    }
    bool repeatable =
        !streaming_ && (connect || !sent_anything_ || SafeToRepeat(method_, method_string_));
    // A stale pooled connection does not count against the attempts.
    if (stale) --attempts_;
    if (repeatable && attempts_ < shared_->options.max_attempts) {
      if (stale) std::erase(tried_, target_);
      return Attempt();
    }
    client_keep_alive_ = client_keep_alive_ && !streaming_;
    // The frontend may still carry out a request it had received before it stopped.
    ReplyError(502, sent_anything_ ? "frontend failed; the request may or may not have taken "
                                     "effect"
                                   : "frontend failed; try again");
  }

  void DropUpstream() {
    if (counted_active_) {
      target_->active.fetch_sub(1, std::memory_order_relaxed);
      counted_active_ = false;
    }
    open_.unlink();
    beast::error_code ignored;
    upstream_.close(ignored);
  }

  void OnUpstreamHeader() {
    auto& in = res_parser_->get();
    upstream_keep_alive_ = in.keep_alive();
    int status = in.result_int();
    status_ = status;
    if (shared_->draining.load(std::memory_order_relaxed)) client_keep_alive_ = false;
    bool no_body = method_ == http::verb::head || status == 204 || status == 304 ||
                   (status >= 100 && status < 200);
    std::optional<uint64_t> length;
    if (auto len = res_parser_->content_length()) length = *len;
    // Without a length the body goes chunked to HTTP/1.1 clients; an HTTP/1.0 client gets
    // it delimited by closing the connection.
    chunked_out_ = !no_body && !length && version_ == 11;
    if (!no_body && !length && version_ != 11) client_keep_alive_ = false;

    head_.clear();
    head_.append(version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    beast::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
    absl::StrAppend(&head_, status, " ");
    head_.append(reason.data(), reason.size());
    head_.append("\r\n");
    for (const auto& f : in) {
      if (f.name() != http::field::unknown && HopByHop(f.name())) continue;
      if (beast::iequals(f.name_string(), "X-Request-Id") ||
          f.name() == http::field::strict_transport_security) {
        continue;
      }
      AppendField(head_, f.name_string(), f.value());
    }
    AppendField(head_, "X-Request-Id", request_id_);
    if (client_.is_tls()) AppendField(head_, "Strict-Transport-Security", shared_->hsts);
    if (no_body) {
      if (auto len = in.find(http::field::content_length); len != in.end()) {
        AppendField(head_, "Content-Length", len->value());
      }
    } else if (length) {
      absl::StrAppend(&head_, "Content-Length: ", *length, "\r\n");
    } else if (chunked_out_) {
      head_.append("Transfer-Encoding: chunked\r\n");
    }
    if (version_ == 11 && !client_keep_alive_) head_.append("Connection: close\r\n");
    if (version_ == 10 && client_keep_alive_) head_.append("Connection: keep-alive\r\n");
    head_.append("\r\n");
    head_sent_ = false;

    if (no_body) {
      client_.tcp().expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
      head_sent_ = true;
      net::async_write(
          client_, net::buffer(head_),
          [self = shared_from_this()](beast::error_code ec, size_t) { self->FinishExchange(ec); });
      return;
    }
    RelayResponsePiece();
  }

  void RelayResponsePiece() {
    down_piece_.resize(kPieceBytes);
    auto& body = res_parser_->get().body();
    if (res_parser_->is_done()) return WriteClientPiece(0);
    body.data = down_piece_.data();
    body.size = down_piece_.size();
    ArmUpstream();
    http::async_read_some(upstream_, upstream_buffer_, *res_parser_,
                          Bind([self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec == http::error::need_buffer) ec = {};
                            if (ec) {
                              // Headers already went to the client: it must see a cut.
                              self->DropUpstream();
                              return self->CloseClient();
                            }
                            size_t n =
                                self->down_piece_.size() - self->res_parser_->get().body().size;
                            if (n == 0 && !self->res_parser_->is_done()) {
                              return self->RelayResponsePiece();
                            }
                            self->WriteClientPiece(n);
                          }));
  }

  // Writes, in one system call, whatever of these is due: the head (first piece only), the
  // piece (framed as a chunk when chunked) and the end of a chunked body.
  void WriteClientPiece(size_t n) {
    bool last = res_parser_->is_done();
    std::array<net::const_buffer, 5> out;
    size_t count = 0;
    if (!head_sent_) {
      out[count++] = net::buffer(head_);
      head_sent_ = true;
    }
    if (chunked_out_ && n > 0) {
      char* end = std::to_chars(chunk_prefix_, chunk_prefix_ + 16, n, 16).ptr;
      *end++ = '\r';
      *end++ = '\n';
      out[count++] = net::buffer(chunk_prefix_, static_cast<size_t>(end - chunk_prefix_));
    }
    if (n > 0) out[count++] = net::buffer(down_piece_.data(), n);
    if (chunked_out_ && n > 0) out[count++] = net::buffer("\r\n", 2);
    if (chunked_out_ && last) out[count++] = net::buffer("0\r\n\r\n", 5);
    client_.tcp().expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    net::async_write(client_, std::span<const net::const_buffer>(out.data(), count),
                     [self = shared_from_this(), last](beast::error_code ec, size_t) {
                       if (ec) return self->CloseClient();
                       if (last) return self->FinishExchange(ec);
                       self->RelayResponsePiece();
                     });
  }

  void FinishExchange(beast::error_code ec) {
    Disarm();
    if (counted_active_) {
      target_->active.fetch_sub(1, std::memory_order_relaxed);
      counted_active_ = false;
    }
    open_.unlink();
    if (upstream_keep_alive_ && res_parser_->is_done() && upstream_buffer_.size() == 0 &&
        upstream_.is_open()) {
      shared_->upstreams->Give(target_, thread_, std::move(upstream_));
      upstream_ = tcp::socket(client_.get_executor());
    } else {
      beast::error_code ignored;
      upstream_.close(ignored);
    }
    res_parser_.reset();
    stream_req_sr_.reset();
    stream_req_.reset();
    upstream_req_ = {};
    if (streaming_ && !stream_parser_->is_done()) client_keep_alive_ = false;
    AfterClientResponse(ec);
  }

  ClientStream client_;
  Shared* shared_;
  const size_t thread_;
  tcp::socket upstream_;
  net::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point step_started_;  // of the current upstream step
  bool watching_ = false;                               // an upstream step is in progress
  bool timer_pending_ = false;                          // a wait is outstanding on timer_
  std::string peer_;
  beast::flat_buffer client_buffer_;
  beast::flat_buffer upstream_buffer_;

  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> buffered_parser_;
  std::optional<http::request_parser<http::buffer_body>> stream_parser_;
  http::request<http::string_body> upstream_req_;
  std::optional<http::request<http::buffer_body>> stream_req_;
  std::optional<http::request_serializer<http::buffer_body>> stream_req_sr_;
  std::optional<http::response_parser<http::buffer_body>> res_parser_;
  std::string req_head_;  // a buffered request's head for the frontend; reused
  std::string req_body_;  // a buffered request's body
  std::string head_;      // the response head for the client; reused, so rarely reallocated
  bool head_sent_ = false;
  bool chunked_out_ = false;
  char chunk_prefix_[24];
  std::string up_piece_;
  std::string down_piece_;

  http::verb method_ = http::verb::get;
  std::string method_string_;
  unsigned version_ = 11;
  bool client_keep_alive_ = true;
  bool upstream_keep_alive_ = true;
  bool local_ = false;
  bool streaming_ = false;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_;
  int status_ = 0;
  bool active_ = false;  // a request was read and is not answered yet
  frontend::Request req_;

  Upstream* target_ = nullptr;
  std::string upstream_address_;
  std::vector<Upstream*> tried_;
  int attempts_ = 0;
  bool reused_ = false;
  bool sent_anything_ = false;
  bool counted_active_ = false;
  bool abandoned_ = false;  // the sweep ended this exchange (its frontend is down)
  metrics::CounterCell* status_cell_ = nullptr;  // requests{kind, status} of the last answer
  int status_cell_code_ = 0;
  bool status_cell_local_ = false;
  OpenExchange open_;                         // linked while an exchange with target_ is open
  bool over_connection_cap_ = false;          // answered 429, then closed
  bool counts_as_connection_ = false;         // counted in limits until the socket closes
  LimitedKind limited_ = LimitedKind::kNone;  // admitted by the limits, not yet answered
  bool tls_closing_ = false;
};

}  // namespace

class Proxy::Impl {
 public:
  // One single-threaded io_context per I/O thread, each connection pinned to one. A shared
  // io_context with a strand per connection made two threads contend on the scheduler's
  // mutex and wake each other through futexes on every completion; here a thread runs
  // its own connections' handlers inline, with no locking and no strand.
  Impl(Registry* registry, const frontend::Router* local, frontend::WorkerPool* pool,
       ProxyOptions options)
      : upstreams_(options.max_idle_per_upstream,
                   static_cast<size_t>(std::max(1, options.io_threads))) {
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      contexts_.push_back(std::make_unique<net::io_context>(1));
      guards_.push_back(net::make_work_guard(*contexts_.back()));
      shared_.open_exchanges.push_back(std::make_unique<OpenExchanges>());
      sweep_timers_.push_back(std::make_unique<net::steady_timer>(*contexts_.back()));
    }
    acceptor_.emplace(*contexts_[0]);
    if (options.tls != nullptr) tls_acceptor_.emplace(*contexts_[0]);
    shared_.limits = std::make_unique<ClientLimits>(options.limits);
    shared_.hsts = absl::StrCat("max-age=", options.hsts_max_age_s);
    shared_.registry = registry;
    shared_.local = local;
    shared_.pool = pool;
    shared_.options = options;
    shared_.upstreams = &upstreams_;
    // Request ids are "<start time>-<counter>": unique across coordinator restarts.
    metrics::Default().OnCollect([cell = shared_.in_flight_cell] {
      Metrics().in_flight.With().Set(static_cast<double>(cell->load()));
    });
    shared_.id_prefix = absl::StrCat(
        absl::Hex(std::chrono::system_clock::now().time_since_epoch().count() & 0xffffffffff));
  }

  absl::StatusOr<uint16_t> Start() {
    if (absl::Status s = Listen(*acceptor_, shared_.options.port); !s.ok()) return s;
    if (tls_acceptor_) {
      if (absl::Status s = Listen(*tls_acceptor_, shared_.options.https_port); !s.ok()) {
        return absl::UnavailableError(absl::StrCat("HTTPS ", s.message()));
      }
      shared_.https_port = tls_acceptor_->local_endpoint().port();
      Accept(*tls_acceptor_, shared_.options.tls);
    } else {
      shared_.https_port = shared_.options.https_port;
    }
    Accept(*acceptor_, nullptr);
    for (size_t t = 0; t < contexts_.size(); ++t) ScheduleSweep(t);
    return acceptor_->local_endpoint().port();
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
    auto closed = std::make_shared<std::promise<void>>();
    net::post(contexts_[0]->get_executor(), [this, closed] {
      beast::error_code ignored;
      acceptor_->close(ignored);
      if (tls_acceptor_) tls_acceptor_->close(ignored);
      closed->set_value();
    });
    closed->get_future().wait_for(std::chrono::seconds(1));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (shared_.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    PC_LOG(kInfo, "proxy.drained")("unfinished", shared_.in_flight.load());
    Stop();
  }

 private:
  absl::Status Listen(tcp::acceptor& acceptor, uint16_t port) {
    beast::error_code ec;
    tcp::endpoint ep(net::ip::make_address(shared_.options.address, ec), port);
    if (ec) return absl::InvalidArgumentError("bad address");
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) acceptor.non_blocking(true, ec);  // DrainBacklog's accepts never wait
    if (ec) return absl::UnavailableError("listen: " + ec.message());
    return absl::OkStatus();
  }

  // `tls`: the HTTPS context for connections from this acceptor, or nullptr.
  void Accept(tcp::acceptor& acceptor, net::ssl::context* tls) {
    size_t thread = next_thread_++ % contexts_.size();
    acceptor.async_accept(contexts_[thread]->get_executor(),
                          [this, &acceptor, tls, thread](beast::error_code ec, tcp::socket s) {
                            if (ec == net::error::operation_aborted) return;
                            if (!ec) StartSession(std::move(s), thread, tls);
                            DrainBacklog(acceptor, tls);
                            Accept(acceptor, tls);
                          });
  }

  // Takes every client already waiting in the listen queue. One accept per turn of this
  // busy thread's event loop lets a burst of new users wait there for seconds (stress test
  // (d): ~2,500 queued at 3,000 users) and, past the backlog, the kernel drops their SYNs,
  // which the clients resend only after 1, 3, 7, 15 s.
  void DrainBacklog(tcp::acceptor& acceptor, net::ssl::context* tls) {
    beast::error_code ec;
    for (int i = 0; i < 1024; ++i) {
      size_t thread = next_thread_++ % contexts_.size();
      tcp::socket s = acceptor.accept(contexts_[thread]->get_executor(), ec);
      if (ec) return;  // would_block: the queue is empty
      StartSession(std::move(s), thread, tls);
    }
  }

  // Every sweep_ms, each I/O thread ends its exchanges with frontends that are no longer
  // healthy (see Session::AbandonIfStalled). New requests already avoid them: Pick reads
  // the same list.
  void ScheduleSweep(size_t thread) {
    auto& timer = *sweep_timers_[thread];
    timer.expires_after(std::chrono::milliseconds(shared_.options.sweep_ms));
    timer.async_wait([this, thread](beast::error_code ec) {
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
    beast::error_code ignored;
    s.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(s), &shared_, thread, tls)->Start();
  }

  UpstreamPool upstreams_;
  Shared shared_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::optional<tcp::acceptor> acceptor_;                         // on contexts_[0]
  std::optional<tcp::acceptor> tls_acceptor_;                     // HTTPS; on contexts_[0]
  std::vector<std::unique_ptr<net::steady_timer>> sweep_timers_;  // one per context
  size_t next_thread_ = 0;  // only touched by contexts_[0]'s thread
};

Proxy::Proxy(Registry* registry, const frontend::Router* local, frontend::WorkerPool* pool,
             ProxyOptions options)
    : impl_(std::make_unique<Impl>(registry, local, pool, std::move(options))) {}
Proxy::~Proxy() = default;
absl::StatusOr<uint16_t> Proxy::Start() { return impl_->Start(); }
uint16_t Proxy::https_port() const { return impl_->https_port(); }
void Proxy::Run() { impl_->Run(); }
void Proxy::Stop() { impl_->Stop(); }
void Proxy::Drain(int grace_ms) { impl_->Drain(grace_ms); }

}  // namespace penncloud::coordinator
