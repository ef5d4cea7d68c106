#include "http/metrics_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "common/log.h"
#include "http/head_reader.h"
#include "http/http_date.h"
#include "http/listener.h"

ABSL_FLAG(std::string, metrics_listen, "",
          "host:port serving Prometheus metrics at /metrics (\"\": none); by convention the "
          "node's main port + 10000");

namespace penncloud::metrics {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// One scrape: a request's head, one answer, then the connection closes. A scrape counts
// as in flight from its first byte to its answer written, so a drain waits for it while a
// scraper connected and silent does not hold up an exit.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(tcp::socket socket, Registry* registry, std::atomic<int64_t>* in_flight,
           http::HeadOptions head)
      : stream_(std::move(socket)), registry_(registry), in_flight_(in_flight), head_(head) {}
  ~Exchange() { Done(); }

  // Waits (up to kExchangeTimeout) for the first byte; the head then has the head deadline.
  void Start() {
    parser_.body_limit(0);
    stream_.expires_after(kExchangeTimeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstRead), [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return;
          self->buffer_.commit(n);
          self->counted_ = true;
          ++*self->in_flight_;
          self->stream_.expires_after(self->head_.deadline + kExchangeTimeout);
          self->reader_.Read(self->parser_, self->head_, self,
                             [self](http::HeadOutcome outcome) { self->OnHead(outcome); });
        });
  }

 private:
  static constexpr std::chrono::seconds kExchangeTimeout{5};
  static constexpr size_t kFirstRead = 1024;

  void Done() {
    if (!counted_) return;
    counted_ = false;
    --*in_flight_;
  }

  void OnHead(http::HeadOutcome outcome) {
    if (outcome == http::HeadOutcome::kClosed) return Done();
    res_.version(11);
    res_.keep_alive(false);
    res_.set(bhttp::field::content_type, "text/plain");
    if (outcome != http::HeadOutcome::kRead) {
      http::CountRefusedHead("metrics", outcome);
      http::HeadRefusal refusal = http::RefusalOf(outcome);
      res_.result(static_cast<bhttp::status>(refusal.status));
      res_.body() = std::string(refusal.message) + "\n";
      return Write(false);
    }
    const auto& req = parser_.get();
    res_.version(req.version());
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      res_.result(bhttp::status::method_not_allowed);
      res_.set(bhttp::field::allow, "GET, HEAD");
      res_.body() = "only GET /metrics\n";
    } else if (path != "/metrics") {
      res_.result(bhttp::status::not_found);
      res_.body() = "metrics are at /metrics\n";
    } else {
      res_.result(bhttp::status::ok);
      res_.set(bhttp::field::content_type, kContentType);
      res_.body() = registry_->Expose();
    }
    Write(req.method() == bhttp::verb::head);
  }

  void Write(bool head_only) {
    res_.set(bhttp::field::date, http::HttpDateNow());
    res_.prepare_payload();
    if (head_only) res_.body().clear();
    stream_.expires_after(kExchangeTimeout);
    bhttp::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->Done();
    });
  }

  beast::tcp_stream stream_;
  Registry* registry_;
  std::atomic<int64_t>* in_flight_;
  http::HeadOptions head_;
  bool counted_ = false;
  beast::flat_buffer buffer_;
  http::HeadReader<beast::tcp_stream> reader_{stream_, stream_, buffer_};
  bhttp::request_parser<bhttp::empty_body> parser_;
  bhttp::response<bhttp::string_body> res_;
};

}  // namespace

class MetricsServer::Impl {
 public:
  Impl(Registry* registry, std::chrono::milliseconds head_deadline)
      : registry_(registry),
        head_{.field_limit = kMaxScrapeHeaderBytes, .deadline = head_deadline},
        listener_(
            ioc_.get_executor(), 1, [this](size_t) { return ioc_.get_executor(); },
            [this](tcp::socket socket, size_t) {
              std::make_shared<Exchange>(std::move(socket), registry_, &in_flight_, head_)->Start();
            }) {}

  absl::Status Listen(const std::string& listen) {
    size_t colon = listen.rfind(':');
    int port = -1;
    if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
        port < 0 || port > 65535) {
      return absl::InvalidArgumentError("--metrics_listen: want host:port, got '" + listen + "'");
    }
    absl::Status s = listener_.Listen(listen.substr(0, colon), static_cast<uint16_t>(port));
    if (absl::IsInvalidArgument(s)) {
      return absl::InvalidArgumentError("--metrics_listen: bad host in '" + listen + "'");
    }
    if (!s.ok())
      return absl::UnavailableError("--metrics_listen " + listen + ": " + std::string(s.message()));
    port_ = listener_.port();
    listener_.Start();
    thread_ = std::thread([this] { ioc_.run(); });
    return absl::OkStatus();
  }

  ~Impl() { Stop(); }

  void Drain(std::chrono::steady_clock::time_point deadline) {
    if (!thread_.joinable()) return;
    listener_.Close();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!http::AwaitIdle(in_flight_, std::max(left, std::chrono::milliseconds(0)))) {
      PC_LOG(kWarn, "metrics.drain_cut")("unfinished", in_flight_.load());
    }
    Stop();
  }

  uint16_t port() const { return port_; }  // also once drained
  int64_t in_flight() const { return in_flight_.load(); }

 private:
  void Stop() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  Registry* registry_;
  http::HeadOptions head_;
  uint16_t port_ = 0;
  std::atomic<int64_t> in_flight_{0};  // outlives the exchanges, which the io_context owns
  net::io_context ioc_{1};
  http::Listener listener_;
  std::thread thread_;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() = default;
uint16_t MetricsServer::port() const { return impl_->port(); }
void MetricsServer::Drain(std::chrono::steady_clock::time_point deadline) {
  impl_->Drain(deadline);
}
int64_t MetricsServer::scrapes_in_flight() const { return impl_->in_flight(); }

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, Registry* registry, std::chrono::milliseconds head_deadline) {
  auto impl = std::make_unique<Impl>(registry, head_deadline);
  if (absl::Status s = impl->Listen(listen); !s.ok()) return s;
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<MetricsServer>> StartFromFlag() {
  std::string listen = absl::GetFlag(FLAGS_metrics_listen);
  if (listen.empty()) return std::unique_ptr<MetricsServer>();
  auto server = MetricsServer::Start(listen, &Default(), http::HeadDeadlineFromFlag());
  if (!server.ok()) {
    PC_LOG(kError, "metrics.listen_failed")("error", server.status().ToString());
    return server.status();
  }
  PC_LOG(kInfo, "metrics.listening")
  ("address", listen.substr(0, listen.rfind(':')) + ":" + std::to_string((*server)->port()));
  return server;
}

}  // namespace penncloud::metrics
