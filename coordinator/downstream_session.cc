// The client side of a proxy session: request heads, the edge rules, the console's own
// requests, answers made here, and closing. The upstream side is upstream_relay.cc.
#include "coordinator/downstream_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/proxy_metrics.h"
#include "frontend/api_context.h"
#include "http/http_date.h"

namespace penncloud::coordinator {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kReadBytes = 16 << 10;           // upstream read buffer per client connection
constexpr uint64_t kMaxAdminBodyBytes = 1 << 20;  // the console's own API (not proxied)

bool IsConsolePath(std::string_view path) {
  return path == "/admin" || path.starts_with("/admin/") || path.starts_with("/api/admin/") ||
         path == "/api/admin";
}

}  // namespace

DownstreamSession::DownstreamSession(tcp::socket socket, ProxyShared* shared, size_t thread,
                                     net::ssl::context* tls)
    : client_(std::move(socket), tls),
      shared_(shared),
      thread_(thread),
      upstream_(client_.get_executor()),
      timer_(client_.get_executor()),
      linger_timer_(client_.get_executor()) {
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

DownstreamSession::~DownstreamSession() { ReleaseConnection(); }

void DownstreamSession::Start() {
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

bool DownstreamSession::AbandonIfStalled(Clock::time_point now, Clock::duration stall) {
  if (abandoned_ || !watching_ || now - step_started_ < stall) return false;
  abandoned_ = true;
  beast::error_code ignored;
  upstream_.cancel(ignored);
  upstream_.close(ignored);
  return true;
}

void DownstreamSession::ReadHeader() {
  header_parser_.emplace();
  header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  buffered_parser_.reset();
  stream_parser_.reset();
  stream_req_sr_.reset();
  stream_req_.reset();
  tried_.clear();
  attempts_ = 0;
  upload_started_ = body_consumed_ = discarding_ = answer_waiting_ = false;
  event_stream_ = false;
  client_.tcp().expires_after(
      std::chrono::seconds(over_connection_cap_ ? 5 : shared_->options.idle_timeout_s));
  auto self = shared_from_this();
  head_reader_.Read(*header_parser_, shared_->options.head, self,
                    [self](penncloud::http::HeadOutcome outcome) {
                      if (outcome == penncloud::http::HeadOutcome::kRead) return self->OnHeader();
                      if (outcome == penncloud::http::HeadOutcome::kClosed) {
                        return self->CloseClient();
                      }
                      self->RefuseHead(outcome);
                    });
}

// Answered here, not forwarded: the frontends hold heads to the same rules.
void DownstreamSession::RefuseHead(penncloud::http::HeadOutcome outcome) {
  penncloud::http::CountRefusedHead("coordinator", outcome);
  version_ = 11;
  method_ = http::verb::unknown;
  client_keep_alive_ = false;
  started_ = std::chrono::steady_clock::now();
  request_id_ = absl::StrCat(shared_->id_prefix, "-", shared_->next_id.fetch_add(1));
  penncloud::http::HeadRefusal refusal = penncloud::http::RefusalOf(outcome);
  ReplyError(refusal.status, refusal.message);
}

void DownstreamSession::OnHeader() {
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
  const std::string path =
      penncloud::http::PercentDecode(target.substr(0, target.find('?')), false);
  kind_ = IsConsolePath(path) ? Kind::kConsole : Kind::kProxied;

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
    penncloud::http::Response res =
        penncloud::http::ErrorResponse(429, "too many attempts from your address; try again later");
    res.headers.Set("Retry-After", std::to_string(*wait));
    return WriteLocal(std::move(res));
  }

  if (!console() && header_parser_->is_done() && shared_->options.edge != nullptr &&
      (method_ == http::verb::get || method_ == http::verb::head) && ServeEdgeFile(target)) {
    return;
  }

  boost::optional<uint64_t> length = header_parser_->content_length();
  bool chunked = header_parser_->chunked();
  streaming_ = !console() && (chunked || (length && *length > shared_->options.buffer_limit));
  // Beast holds a Content-Length to body_limit only while it parses the header, so the
  // console's limit set in ReadBody would bind chunked bodies alone: checked here.
  if (console() && length && *length > kMaxAdminBodyBytes) {
    client_keep_alive_ = false;  // the body stays unread
    return ReplyError(413, "request body too large");
  }

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
  ReadBody();
}

void DownstreamSession::ReadBody() {
  if (streaming_) {
    stream_parser_.emplace(std::move(*header_parser_));
    stream_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    CopyRequestHead(stream_parser_->get().base(), Forwarding(), upstream_head_);
    return Attempt();
  }
  if (!console() && header_parser_->is_done()) {
    // No body (most GETs): forward at once. Another async_read would complete
    // immediately, but only after a round trip through the scheduler queue.
    req_body_.clear();
    WriteRequestHead(header_parser_->get().base(), Forwarding(), 0, req_head_);
    return Attempt();
  }
  buffered_parser_.emplace(std::move(*header_parser_));
  buffered_parser_->body_limit(console() ? kMaxAdminBodyBytes : shared_->options.buffer_limit);
  http::async_read(client_, client_buffer_, *buffered_parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (ec == http::error::body_limit) {
                       self->client_keep_alive_ = false;
                       return self->ReplyError(413, "request body too large");
                     }
                     if (ec) return self->CloseClient();
                     if (self->console()) return self->ServeLocal();
                     self->req_body_ = std::move(self->buffered_parser_->get().body());
                     WriteRequestHead(self->buffered_parser_->get().base(), self->Forwarding(),
                                      self->req_body_.size(), self->req_head_);
                     self->Attempt();
                   });
}

ForwardedBy DownstreamSession::Forwarding() const {
  // Called once the proxy holds the request (its head, or its whole buffered body).
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return {.request_id = request_id_, .peer = peer_, .tls = client_.is_tls(), .sent_ms = now_ms};
}

// Admin paths: served here by the local router on the worker pool (it checks the
// session against the KVS, which may block).
void DownstreamSession::ServeLocal() {
  req_ = penncloud::http::Request();
  auto& in = buffered_parser_->get();
  req_.method = method_string_;
  req_.target = std::string(in.target());
  for (const auto& f : in) {
    beast::string_view name = f.name_string();
    if (SetByProxy(std::string_view(name.data(), name.size()))) continue;
    req_.headers.Add(std::string(f.name_string()), std::string(f.value()));
  }
  req_.headers.Add("X-Forwarded-Proto", client_.is_tls() ? "https" : "http");
  req_.body = std::move(in.body());
  req_.remote = peer_;
  penncloud::http::ParseTarget(req_);
  bool queued = shared_->pool->Submit([self = shared_from_this()] {
    log::SetRequestId(self->request_id_);
    penncloud::http::Response res = self->shared_->local->Dispatch(self->req_);
    net::post(self->client_.get_executor(),
              [self, res = std::move(res)]() mutable { self->WriteLocal(std::move(res)); });
  });
  if (!queued) ReplyError(503, "coordinator busy");
}

bool DownstreamSession::ServeEdgeFile(std::string_view target) {
  penncloud::http::Request req;
  req.method = method_string_;
  req.target = std::string(target);
  req.remote = peer_;
  penncloud::http::ParseTarget(req);
  // Files are read once and kept in memory (http/static_files.h): no blocking here after
  // the first request for each.
  penncloud::http::Response res = shared_->options.edge->Dispatch(req);
  if (res.status == 404 || res.status == 405) return false;
  kind_ = Kind::kStatic;
  WriteLocal(std::move(res));
  return true;
}

void DownstreamSession::WriteLocal(penncloud::http::Response res) {
  if (closed_) return;
  auto msg = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(res.status), version_);
  for (const auto& [k, v] : res.headers.fields()) msg->insert(k, v);
  msg->body() = std::move(res.body);
  status_ = res.status;
  msg->set("X-Request-Id", request_id_);
  msg->set(http::field::date, penncloud::http::HttpDateNow());
  if (client_.is_tls()) msg->set(http::field::strict_transport_security, shared_->hsts);
  if (shared_->draining.load(std::memory_order_relaxed)) client_keep_alive_ = false;
  msg->keep_alive(client_keep_alive_);
  msg->prepare_payload();
  if (method_ == http::verb::head) msg->body().clear();
  client_.tcp().expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
  http::async_write(client_, *msg, [self = shared_from_this(), msg](beast::error_code ec, size_t) {
    self->AfterClientResponse(ec);
  });
}

void DownstreamSession::ReplyError(int status, std::string_view message) {
  WriteLocal(penncloud::http::ErrorResponse(status, message));
}

void DownstreamSession::AfterClientResponse(beast::error_code ec) {
  if (!ec && active_) {
    ProxyMetrics& m = Metrics();
    // A connection's answers mostly share one status: keep that counter at hand.
    if (!status_cell_ || status_cell_code_ != status_ || status_cell_kind_ != kind_) {
      static constexpr const char* kKindLabel[] = {"proxied", "admin", "static"};
      status_cell_ =
          &m.requests.With({kKindLabel[static_cast<int>(kind_)], std::to_string(status_)});
      status_cell_code_ = status_;
      status_cell_kind_ = kind_;
    }
    status_cell_->Inc();
    (kind_ == Kind::kProxied  ? m.proxied_latency
     : kind_ == Kind::kStatic ? m.static_latency
                              : m.admin_latency)
        .Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  }
  EndRequest();
  if (ec) return CloseClient();
  // EndUpload comes back here once the client's body is drained.
  if (uploading_) return AwaitUploadEnd();
  if (!client_keep_alive_) return CloseClient();
  ReadHeader();
}

void DownstreamSession::EndRequest() {
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
void DownstreamSession::ReleaseConnection() {
  if (!counts_as_connection_) return;
  counts_as_connection_ = false;
  shared_->limits->CloseConnection(peer_);
}

void DownstreamSession::CloseClient() {
  if (closed_) return;
  closed_ = true;
  EndRequest();
  DropUpstream();
  ReleaseConnection();
  if (client_.is_tls() && !client_read_pending_ && client_.tcp().socket().is_open()) {
    // close_notify first, so a body delimited by the close is not taken for a cut. (Not
    // while a read is pending: the shutdown would read too.)
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
void DownstreamSession::RedirectToHttps(const http::request_header<>& h) {
  client_keep_alive_ = false;  // any body stays unread
  std::string host = shared_->options.public_host;
  beast::string_view given = h[http::field::host];
  if (host.empty()) host = HostWithoutPort(std::string_view(given.data(), given.size()));
  if (host.empty()) host = shared_->options.address;
  std::string location = absl::StrCat("https://", host);
  if (shared_->https_port != 443) absl::StrAppend(&location, ":", shared_->https_port);
  location.append(h.target().data(), h.target().size());
  penncloud::http::Response res = penncloud::http::ErrorResponse(308, "use https");
  res.headers.Set("Location", location);
  WriteLocal(std::move(res));
}

}  // namespace penncloud::coordinator
