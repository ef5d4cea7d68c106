#include "http/metrics_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "common/log.h"
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

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(tcp::socket socket, Registry* registry)
      : stream_(std::move(socket)), registry_(registry) {}

  void Start() {
    parser_.header_limit(8 << 10);
    parser_.body_limit(0);
    stream_.expires_after(std::chrono::seconds(5));
    bhttp::async_read(stream_, buffer_, parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (!ec) self->Answer();
                      });
  }

 private:
  void Answer() {
    const auto& req = parser_.get();
    res_.version(req.version());
    res_.keep_alive(false);
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      res_.result(bhttp::status::method_not_allowed);
      res_.set(bhttp::field::allow, "GET, HEAD");
      res_.set(bhttp::field::content_type, "text/plain");
      res_.body() = "only GET /metrics\n";
    } else if (path != "/metrics") {
      res_.result(bhttp::status::not_found);
      res_.set(bhttp::field::content_type, "text/plain");
      res_.body() = "metrics are at /metrics\n";
    } else {
      res_.result(bhttp::status::ok);
      res_.set(bhttp::field::content_type, kContentType);
      res_.body() = registry_->Expose();
    }
    res_.prepare_payload();
    if (req.method() == bhttp::verb::head) res_.body().clear();
    bhttp::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  Registry* registry_;
  beast::flat_buffer buffer_;
  bhttp::request_parser<bhttp::empty_body> parser_;
  bhttp::response<bhttp::string_body> res_;
};

}  // namespace

class MetricsServer::Impl {
 public:
  explicit Impl(Registry* registry)
      : registry_(registry),
        listener_(
            ioc_.get_executor(), 1, [this](size_t) { return ioc_.get_executor(); },
            [this](tcp::socket socket, size_t) {
              std::make_shared<Exchange>(std::move(socket), registry_)->Start();
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
    listener_.Start();
    thread_ = std::thread([this] { ioc_.run(); });
    return absl::OkStatus();
  }

  ~Impl() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return listener_.port(); }

 private:
  Registry* registry_;
  net::io_context ioc_{1};
  http::Listener listener_;
  std::thread thread_;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() = default;
uint16_t MetricsServer::port() const { return impl_->port(); }

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                                    Registry* registry) {
  auto impl = std::make_unique<Impl>(registry);
  if (absl::Status s = impl->Listen(listen); !s.ok()) return s;
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<MetricsServer>> StartFromFlag() {
  std::string listen = absl::GetFlag(FLAGS_metrics_listen);
  if (listen.empty()) return std::unique_ptr<MetricsServer>();
  auto server = MetricsServer::Start(listen);
  if (!server.ok()) {
    PC_LOG(kError, "metrics.listen_failed")("error", server.status().ToString());
    return server.status();
  }
  PC_LOG(kInfo, "metrics.listening")
  ("address", listen.substr(0, listen.rfind(':')) + ":" + std::to_string((*server)->port()));
  return server;
}

}  // namespace penncloud::metrics
