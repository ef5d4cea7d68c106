#include "http/server.h"

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"
#include "common/write_deadline.h"
#include "http/head_reader.h"
#include "http/http_date.h"
#include "http/json_response.h"
#include "http/listener.h"
#include "http/response_head.h"
#include "http/worker_pool.h"

namespace penncloud::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Request counts and latencies, per route pattern (never the raw path: it holds user
// data such as file names, and would grow without bound). Named "<ServerOptions::name>_...",
// so that two servers in one binary keep apart; the families live as long as the process.
struct HttpMetrics {
  explicit HttpMetrics(const std::string& name)
      : requests(metrics::Default().Counter(name + "_http_requests_total",
                                            "HTTP requests answered, by method, route and status",
                                            {"method", "route", "status"})),
        latency(metrics::Default().Histogram(
            name + "_http_request_duration_seconds",
            "HTTP request latency (header read to response written), by route", {"route"})),
        in_flight(metrics::Default().Gauge(name + "_http_in_flight_requests",
                                           "requests being served (handler or body stream)")),
        connections(
            metrics::Default().Gauge(name + "_http_connections", "open client connections")),
        queued(metrics::Default().Gauge(name + "_worker_queue_length",
                                        "handler tasks waiting for a worker thread")),
        draining(metrics::Default().Gauge(name + "_draining", "1 once SIGTERM started the drain")) {
  }
  metrics::CounterFamily& requests;
  metrics::HistogramFamily& latency;
  metrics::GaugeFamily& in_flight;
  metrics::GaugeFamily& connections;
  metrics::GaugeFamily& queued;
  metrics::GaugeFamily& draining;
};

// Live figures shared with the metrics refresher, which may outlive the server.
struct Live {
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> requests_total{0};
  std::atomic<int64_t> queued{0};
  std::atomic<bool> draining{false};
  // Every request's latency, for the heartbeat's p99 over its interval.
  std::vector<double> bounds = metrics::LatencyBuckets();
  metrics::HistogramCell latency{&bounds};
};

struct Shared {
  const Router* router;
  ServerOptions options;
  WorkerPool* pool;
  const HttpMetrics* metrics;
  std::shared_ptr<Live> live = std::make_shared<Live>();
  std::atomic<int64_t>& in_flight = live->in_flight;
  std::atomic<int64_t>& connections = live->connections;
  std::atomic<int64_t>& requests_total = live->requests_total;

  // Runs `task` on the pool, counting it as queued until a worker picks it up.
  bool Submit(std::function<void()> task) {
    ++live->queued;
    bool queued = pool->Submit([live = live, task = std::move(task)] {
      --live->queued;
      task();
    });
    if (!queued) --live->queued;
    return queued;
  }
};

class Connection;

// Hands body pieces from the connection's I/O thread to the handler's worker thread.
class StreamReader final : public BodyReader {
 public:
  explicit StreamReader(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}
  absl::StatusOr<std::string> Read(size_t max_bytes) override;

 private:
  std::shared_ptr<Connection> conn_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared* shared) : stream_(std::move(socket)), shared_(shared) {
    ++shared_->connections;
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~Connection() { --shared_->connections; }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Called on a worker thread by StreamReader: reads the next piece on the I/O thread.
  absl::StatusOr<std::string> ReadPiece(size_t max_bytes) {
    std::promise<absl::StatusOr<std::string>> done;
    auto result = done.get_future();
    net::post(stream_.get_executor(), [this, max_bytes, &done] {
      // One buffer per connection, reused: allocating (and faulting in) a fresh large
      // buffer per piece costs more than the transfer itself.
      if (read_buf_.size() < kReadBufBytes) read_buf_.resize(kReadBufBytes);
      ReadSomeBody(std::min(max_bytes, read_buf_.size()), &done);
    });
    return result.get();
  }

 private:
  static constexpr size_t kReadBufBytes = 1 << 20;

  // Fills up to `want` bytes (or to the end of the body) before waking the worker: each
  // wake-up is a pair of context switches, which dominate on a busy machine.
  void ReadSomeBody(size_t want, std::promise<absl::StatusOr<std::string>>* done, size_t have = 0) {
    if (stream_parser_->is_done() || have == want) {
      done->set_value(std::string(read_buf_.data(), have));
      return;
    }
    auto& body = stream_parser_->get().body();
    body.data = read_buf_.data() + have;
    body.size = want - have;
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    bhttp::async_read_some(
        stream_, buffer_, *stream_parser_,
        [self = shared_from_this(), want, have, done](beast::error_code ec, size_t) {
          if (ec == bhttp::error::need_buffer) ec = {};
          if (ec) {
            self->body_broken_ = true;
            done->set_value(absl::UnavailableError("request body: " + ec.message()));
            return;
          }
          size_t got = (want - have) - self->stream_parser_->get().body().size;
          self->ReadSomeBody(want, done, have + got);
        });
  }

  void ReadHeader() {
    header_parser_.emplace();
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    string_parser_.reset();
    stream_parser_.reset();
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    auto self = shared_from_this();
    head_reader_.Read(*header_parser_, shared_->options.head, self,
                      [self](HeadOutcome outcome) { self->OnHeader(outcome); });
  }

  void OnHeader(HeadOutcome outcome) {
    if (outcome == HeadOutcome::kTooLarge || outcome == HeadOutcome::kLate) {
      // Said, not just closed on, so a client (or the coordinator) sees why.
      CountRefusedHead(shared_->options.name, outcome);
      ++shared_->requests_total;
      started_ = std::chrono::steady_clock::now();
      req_ = Request();  // counted as an unmatched request, not as the previous one's route
      route_ = nullptr;
      version_ = 11;
      head_ = false;
      keep_alive_ = false;
      HeadRefusal refusal = RefusalOf(outcome);
      return Write(ErrorResponse(refusal.status, refusal.message));
    }
    if (outcome != HeadOutcome::kRead) return Close();  // includes idle timeouts, clean closes
    ++shared_->requests_total;
    started_ = std::chrono::steady_clock::now();
    const auto& h = header_parser_->get();
    req_ = Request();
    req_.method = std::string(h.method_string());
    req_.target = std::string(h.target());
    for (const auto& field : h) {
      req_.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    if (auto len = header_parser_->content_length()) req_.content_length = *len;
    req_.remote = remote_;
    version_ = h.version();
    keep_alive_ = h.keep_alive();
    head_ = h.method() == bhttp::verb::head;
    ParseTarget(req_);

    route_ = shared_->router->Match(req_, &method_allowed_);
    uint64_t limit = route_ ? route_->options.max_body : kMaxUnroutedBodyBytes;
    if (req_.content_length && *req_.content_length > limit) {
      keep_alive_ = false;
      return Write(ErrorResponse(413, "request body too large"));
    }
    if (beast::iequals(h[bhttp::field::expect], "100-continue")) {
      auto cont =
          std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, version_);
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                           if (ec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (route_ && route_->options.stream_body) {
      stream_parser_.emplace(std::move(*header_parser_));
      stream_parser_->body_limit(route_->options.max_body);
      reader_ = std::make_unique<StreamReader>(shared_from_this());
      req_.body_reader = reader_.get();
      return Dispatch();
    }
    string_parser_.emplace(std::move(*header_parser_));
    string_parser_->body_limit(route_ ? route_->options.max_body : kMaxUnroutedBodyBytes);
    bhttp::async_read(stream_, buffer_, *string_parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec == bhttp::error::body_limit) {
                          self->keep_alive_ = false;
                          return self->Write(ErrorResponse(413, "request body too large"));
                        }
                        if (ec) return self->Close();
                        self->req_.body = std::move(self->string_parser_->get().body());
                        self->Dispatch();
                      });
  }

  void Dispatch() {
    if (route_ == nullptr) {
      return Write(method_allowed_ ? ErrorResponse(404, "not found")
                                   : ErrorResponse(405, "method not allowed"));
    }
    if (route_->options.nonblocking) return Write(route_->handler(req_));
    ++shared_->in_flight;
    if (route_->fast_path) {
      // Answered on this connection's I/O thread, whichever thread the answer comes from.
      route_->fast_path(req_, [self = shared_from_this()](std::optional<Response> res) {
        net::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
          if (!res.has_value()) return self->RunHandler();
          self->Answer(*std::move(res));
        });
      });
      return;
    }
    RunHandler();
  }

  // On a worker: the request is counted in flight already.
  void RunHandler() {
    bool queued = shared_->Submit([self = shared_from_this()] {
      log::SetRequestId(std::string(self->req_.headers.Get("X-Request-Id")));
      Response res;
      {
        // The request may have spent part of its budget on the way from the coordinator.
        const auto now = std::chrono::system_clock::now();
        const auto& heads = self->req_.headers;
        write_deadline::Scope budget(
            write_deadline::Remaining(
                write_deadline::BudgetFor(heads.Get(write_deadline::kTimeoutHeader)),
                heads.Get(write_deadline::kSentHeader), now),
            write_deadline::UntilClientDeadline(heads.Get(write_deadline::kDeadlineHeader), now));
        res = self->route_->handler(self->req_);
      }
      log::SetRequestId("");
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->Answer(std::move(res)); });
    });
    if (!queued) {
      keep_alive_ = false;
      Answer(ErrorResponse(503, "server busy"));
    }
  }

  // The handler's answer, on the I/O thread.
  void Answer(Response res) {
    --shared_->in_flight;
    Write(std::move(res));
  }

  bool BodyFullyRead() const {
    if (stream_parser_) return stream_parser_->is_done() && !body_broken_;
    if (string_parser_) return string_parser_->is_done();
    return false;
  }

  template <typename Message>
  void CopyHeaders(Message& msg, Response& res) {
    for (const auto& [k, v] : res.headers.fields()) msg.insert(k, v);
  }

  void Write(Response res) {
    if (!BodyFullyRead()) keep_alive_ = false;
    // A draining server closes each connection after its response, so the coordinator's
    // pooled connections move to the other frontends.
    if (shared_->live->draining.load(std::memory_order_relaxed)) keep_alive_ = false;
    status_ = res.status;
    res_ = std::move(res);
    if (res_.stream && !head_) return WriteStreamHeader();
    // 1xx, 204 and 304 answers have no body.
    if (res_.status < 200 || res_.status == 204 || res_.status == 304) res_.body.clear();
    uint64_t length = res_.stream ? res_.content_length.value_or(0) : res_.body.size();
    WriteResponseHead(
        res_,
        {.version = version_, .keep_alive = keep_alive_, .length = length, .date = HttpDateNow()},
        out_head_);
    // Head and body in one write; a HEAD answer says the length and sends no body.
    std::array<net::const_buffer, 2> out{net::buffer(out_head_),
                                         net::buffer(res_.body.data(), head_ ? 0 : length)};
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    net::async_write(stream_, out, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->AfterResponse(ec);
    });
  }

  void WriteStreamHeader() {
    stream_res_.emplace(static_cast<bhttp::status>(res_.status), version_);
    CopyHeaders(*stream_res_, res_);
    stream_res_->set(bhttp::field::date, HttpDateNow());
    if (res_.content_length) {
      stream_res_->content_length(*res_.content_length);
    } else {
      stream_res_->chunked(true);
    }
    stream_res_->keep_alive(keep_alive_);
    stream_res_->body().data = nullptr;
    stream_res_->body().more = true;
    serializer_.emplace(*stream_res_);
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    bhttp::async_write_header(stream_, *serializer_,
                              [self = shared_from_this()](beast::error_code ec, size_t) {
                                if (ec) return self->Close();
                                self->NextPiece();
                              });
  }

  void NextPiece() {
    ++shared_->in_flight;
    bool queued = shared_->Submit([self = shared_from_this()] {
      auto piece = self->res_.stream();
      net::post(self->stream_.get_executor(), [self, piece = std::move(piece)]() mutable {
        --self->shared_->in_flight;
        self->OnPiece(std::move(piece));
      });
    });
    if (!queued) {
      --shared_->in_flight;
      Close();
    }
  }

  void OnPiece(absl::StatusOr<std::optional<std::string>> piece) {
    if (!piece.ok()) {
      PC_LOG(kWarn, "http.stream_failed")("error", piece.status().ToString());
      return Close();
    }
    auto& body = stream_res_->body();
    if (!piece->has_value()) {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    } else {
      if ((*piece)->empty()) return WaitForPiece();
      out_piece_ = std::move(**piece);
      body.data = out_piece_.data();
      body.size = out_piece_.size();
      body.more = true;
    }
    bool last = !body.more;
    stream_.expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    bhttp::async_write(stream_, *serializer_,
                       [self = shared_from_this(), last](beast::error_code ec, size_t) {
                         if (ec == bhttp::error::need_buffer) ec = {};
                         if (ec) return self->Close();
                         if (last || self->serializer_->is_done()) return self->AfterResponse(ec);
                         self->NextPiece();
                       });
  }

  // An empty piece: ask again at once, or after the response's poll interval (an event
  // stream waiting for news holds no worker). A draining server ends a polled stream, so
  // its clients reconnect through the coordinator to another frontend.
  void WaitForPiece() {
    if (res_.stream_poll.count() == 0) return NextPiece();
    if (shared_->live->draining.load(std::memory_order_relaxed)) {
      return OnPiece(std::optional<std::string>());
    }
    poll_timer_.expires_after(res_.stream_poll);
    poll_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Close();
      self->NextPiece();
    });
  }

  void Record() {
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    // A connection's requests mostly repeat one route, method and status: the cells are
    // kept at hand (finding one builds a label vector and takes the family's lock).
    if (!requests_cell_ || cell_route_ != route_ || cell_status_ != status_ ||
        cell_method_ != req_.method) {
      const std::string& route = route_ ? route_->pattern : kUnmatched;
      const HttpMetrics& m = *shared_->metrics;
      requests_cell_ = &m.requests.With({req_.method, route, std::to_string(status_)});
      if (!latency_cell_ || cell_route_ != route_) latency_cell_ = &m.latency.With({route});
      cell_route_ = route_;
      cell_status_ = status_;
      cell_method_ = req_.method;
    }
    requests_cell_->Inc();
    latency_cell_->Observe(secs);
    shared_->live->latency.Observe(secs);
  }

  void AfterResponse(beast::error_code ec) {
    if (!ec) Record();
    reader_.reset();  // breaks the reader's reference cycle
    req_.body_reader = nullptr;
    res_ = Response();
    serializer_.reset();
    stream_res_.reset();
    out_piece_.clear();
    out_piece_.shrink_to_fit();
    read_buf_.clear();
    read_buf_.shrink_to_fit();
    if (ec || !keep_alive_) return Close();
    ReadHeader();
  }

  void Close() {
    reader_.reset();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  Shared* shared_;
  std::string remote_;
  beast::flat_buffer buffer_;
  HeadReader<beast::tcp_stream> head_reader_{stream_, stream_, buffer_};
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> string_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> stream_parser_;
  std::unique_ptr<StreamReader> reader_;
  std::vector<char> read_buf_;  // streamed request body pieces land here first
  bool body_broken_ = false;

  static inline const std::string kUnmatched = "(none)";
  // The metric cells of the last answer (Record).
  metrics::CounterCell* requests_cell_ = nullptr;
  metrics::HistogramCell* latency_cell_ = nullptr;
  const Route* cell_route_ = nullptr;
  int cell_status_ = 0;
  std::string cell_method_;
  Request req_;
  const Route* route_ = nullptr;
  bool method_allowed_ = true;  // when route_ is null: 405 rather than 404
  std::chrono::steady_clock::time_point started_;
  int status_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;

  Response res_;
  std::string out_head_;  // a whole answer's head; reused, so rarely reallocated
  std::optional<bhttp::response<bhttp::buffer_body>> stream_res_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> serializer_;
  std::string out_piece_;
  net::steady_timer poll_timer_{stream_.get_executor()};
};

absl::StatusOr<std::string> StreamReader::Read(size_t max_bytes) {
  if (max_bytes == 0) return std::string();
  absl::StatusOr<std::string> piece = conn_->ReadPiece(max_bytes);
  // The client is still sending: its request's budget runs from its latest bytes.
  write_deadline::Restart();
  return piece;
}

}  // namespace

class Server::Impl {
 public:
  // One single-threaded io_context per I/O thread, each connection pinned to one (as in the
  // coordinator's proxy). A shared io_context with a strand per connection made the threads
  // contend on its scheduler's lock and wake each other on every completion.
  Impl(const Router* router, ServerOptions options)
      : metrics_(options.name),
        pool_(options.workers, options.max_queued),
        contexts_(MakeContexts(options.io_threads)),
        listener_(
            contexts_[0]->get_executor(), contexts_.size(),
            [this](size_t lane) -> Listener::Executor { return contexts_[lane]->get_executor(); },
            [this](tcp::socket s, size_t) {
              std::make_shared<Connection>(std::move(s), &shared_)->Start();
            }) {
    for (auto& ioc : contexts_) guards_.push_back(net::make_work_guard(*ioc));
    shared_.router = router;
    shared_.options = options;
    shared_.pool = &pool_;
    shared_.metrics = &metrics_;
    metrics::Default().OnCollect([live = shared_.live, m = metrics_] {
      m.in_flight.With().Set(static_cast<double>(live->in_flight.load()));
      m.connections.With().Set(static_cast<double>(live->connections.load()));
      m.queued.With().Set(static_cast<double>(live->queued.load()));
      m.draining.With().Set(live->draining.load() ? 1 : 0);
    });
  }

  absl::StatusOr<uint16_t> Start() {
    absl::Status listening = listener_.Listen(shared_.options.address, shared_.options.port);
    if (!listening.ok()) return listening;
    listener_.Start();
    return listener_.port();
  }

  void Run() {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts_.size(); ++i) {
      threads.emplace_back([ioc = contexts_[i].get()] { ioc->run(); });
    }
    contexts_[0]->run();
    for (auto& t : threads) t.join();
  }

  void Stop(int grace_ms) {
    shared_.live->draining = true;
    listener_.Close();
    AwaitIdle(shared_.in_flight, std::chrono::milliseconds(grace_ms));
    for (auto& ioc : contexts_) ioc->stop();
  }

  LoadStats Load() const {
    return {shared_.in_flight.load(), shared_.connections.load(), shared_.requests_total.load(),
            shared_.live->latency.Take()};
  }

 private:
  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
    std::vector<std::unique_ptr<net::io_context>> contexts;
    for (int i = 0; i < std::max(1, threads); ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
    }
    return contexts;
  }

  HttpMetrics metrics_;
  WorkerPool pool_;
  Shared shared_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  Listener listener_;
};

Server::Server(const Router* router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}
Server::~Server() = default;
absl::StatusOr<uint16_t> Server::Start() { return impl_->Start(); }
void Server::Run() { impl_->Run(); }
void Server::Stop(int grace_ms) { impl_->Stop(grace_ms); }
LoadStats Server::Load() const { return impl_->Load(); }

}  // namespace penncloud::http
