// The upstream side of a proxy session: choosing a frontend, sending the request (a
// streamed upload on its own track), relaying the answer piece by piece, retrying or
// answering 502 when a frontend fails, and the upstream step deadline.
#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <span>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/balancer.h"
#include "coordinator/downstream_session.h"
#include "coordinator/proxy_metrics.h"
#include "coordinator/retry_policy.h"

namespace penncloud::coordinator {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kPieceBytes = 256 << 10;
// An event stream may stay quiet for as long as it likes: its reads get this deadline
// (the sweep still ends it if its frontend is marked down, and the client's departure
// ends it at once).
constexpr auto kEventStreamDeadline = std::chrono::hours(24 * 365);

}  // namespace

void DownstreamSession::Attempt() {
  ++attempts_;
  abandoned_ = false;
  target_ = nullptr;
  for (bool fresh : {false, true}) {
    std::shared_ptr<const Candidates> healthy =
        shared_->upstreams->Healthy(shared_->registry, fresh);
    target_ = PickUpstream(*healthy, tried_, shared_->upstreams->NextTurn());
    if (target_) break;
  }
  if (!target_) {
    client_keep_alive_ = client_keep_alive_ && !streaming_;
    return ReplyError(503, "no frontend available; try again");
  }
  upstream_address_ = target_->address;
  tried_.push_back(target_);
  target_->active.fetch_add(1, std::memory_order_relaxed);
  counted_active_ = true;
  if (!open_.is_linked()) shared_->open_exchanges[thread_]->push_back(open_);
  request_written_ = false;
  // An upload starts on a fresh connection: it is long anyway, and a pooled one the
  // frontend closes under it would cost the upload (its body cannot be sent again).
  if (!streaming_) {
    if (auto pooled = shared_->upstreams->Take(target_, thread_, Clock::now())) {
      upstream_ = std::move(*pooled);
      reused_ = true;
      return SendRequest();
    }
  }
  reused_ = false;
  size_t colon = upstream_address_.rfind(':');
  beast::error_code ec;
  tcp::endpoint ep(net::ip::make_address(upstream_address_.substr(0, colon), ec),
                   static_cast<uint16_t>(std::stoi(upstream_address_.substr(colon + 1))));
  if (ec) return UpstreamFailed(ec, /*connect=*/true);
  upstream_ = tcp::socket(client_.get_executor());
  Arm(std::chrono::milliseconds(shared_->options.connect_timeout_ms));
  upstream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
    self->Disarm();
    if (ec) return self->UpstreamFailed(ec, /*connect=*/true);
    beast::error_code ignored;
    self->upstream_.set_option(tcp::no_delay(true), ignored);
    self->SendRequest();
  });
}

void DownstreamSession::Arm(std::chrono::steady_clock::duration d) {
  step_started_ = std::chrono::steady_clock::now();
  deadline_ = step_started_ + d;
  watching_ = true;
  if (timer_pending_ && timer_.expiry() <= deadline_) return;
  if (timer_pending_) timer_.cancel();
  WaitTimer();
}

void DownstreamSession::ArmUpstream() {
  Arm(std::chrono::seconds(shared_->options.upstream_timeout_s));
}

void DownstreamSession::WaitTimer() {
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

void DownstreamSession::SendRequest() {
  if (streaming_) return SendStreamedHead();
  ArmUpstream();
  std::array<net::const_buffer, 2> request{net::buffer(req_head_), net::buffer(req_body_)};
  net::async_write(upstream_, request, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return self->UpstreamFailed(ec, /*connect=*/false);
    self->request_written_ = true;
    self->ReadUpstreamHeader();
  });
}

// The head of a streamed upload; then both tracks start: the body from the client to the
// frontend, and the frontend's answer, which may come before the body ends.
void DownstreamSession::SendStreamedHead() {
  ArmUpstream();
  stream_req_.emplace();
  stream_req_->base() = upstream_head_;
  if (auto len = stream_parser_->content_length()) {
    stream_req_->content_length(*len);
  } else {
    stream_req_->chunked(true);
  }
  stream_req_->body().data = nullptr;
  stream_req_->body().more = true;
  stream_req_sr_.emplace(*stream_req_);
  http::async_write_header(upstream_, *stream_req_sr_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec) return self->UpstreamFailed(ec, /*connect=*/false);
                             self->upload_started_ = true;
                             self->uploading_ = true;
                             self->ReadUpstreamHeader();
                             self->RelayUploadPiece();
                           });
}

// One step of the upload track: a piece from the client, then (unless discarding) to the
// frontend; the empty last piece ends a chunked body.
void DownstreamSession::RelayUploadPiece() {
  if (closed_) {
    uploading_ = false;
    return;
  }
  if (stream_parser_->is_done()) {
    if (discarding_) return EndUpload();
    stream_req_->body().data = nullptr;
    stream_req_->body().size = 0;
    stream_req_->body().more = false;
    ArmUpstream();
    http::async_write(upstream_, *stream_req_sr_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec == http::error::need_buffer) ec = {};
                        if (!ec) self->request_written_ = true;
                        self->EndUpload();
                      });
    return;
  }
  up_piece_.resize(kPieceBytes);
  stream_parser_->get().body().data = up_piece_.data();
  stream_parser_->get().body().size = up_piece_.size();
  if (discarding_) {
    client_.tcp().expires_at(
        std::min(linger_until_, std::chrono::steady_clock::now() + kLingerQuiet));
  } else {
    client_.tcp().expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
  }
  client_read_pending_ = true;
  ++upload_reads_;
  http::async_read_some(client_, client_buffer_, *stream_parser_,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          self->client_read_pending_ = false;
                          if (ec == http::error::need_buffer) ec = {};
                          if (self->closed_) {
                            self->uploading_ = false;
                            return;
                          }
                          if (ec && self->discarding_) return self->EndUpload();
                          if (ec) {
                            // The client broke off its upload: nobody is left to answer.
                            self->uploading_ = false;
                            return self->CloseClient();
                          }
                          self->body_consumed_ = true;
                          size_t n =
                              self->up_piece_.size() - self->stream_parser_->get().body().size;
                          if (n == 0 || self->discarding_) return self->RelayUploadPiece();
                          self->WriteUploadPiece(n);
                        });
}

void DownstreamSession::WriteUploadPiece(size_t n) {
  auto& body = stream_req_->body();
  body.data = up_piece_.data();
  body.size = n;
  body.more = true;
  ArmUpstream();
  http::async_write(upstream_, *stream_req_sr_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      if (ec == http::error::need_buffer) ec = {};
                      if (self->closed_) {
                        self->uploading_ = false;
                        return;
                      }
                      // The frontend stopped reading: its answer, or its failure, comes
                      // through the response track; meanwhile the client is drained.
                      if (ec) self->StartDiscarding();
                      self->RelayUploadPiece();
                    });
}

void DownstreamSession::StartDiscarding() {
  if (discarding_) return;
  discarding_ = true;
  linger_until_ = std::chrono::steady_clock::now() + kLinger;
}

void DownstreamSession::AwaitUploadEnd() {
  answer_waiting_ = true;
  StartDiscarding();
  if (!client_keep_alive_ && !client_.is_tls()) {
    // The answer said "Connection: close": a FIN tells the client now that it is complete
    // (a client reading to the close need not wait for the drain), and the drain goes on,
    // so the client is not reset before it reads it. Over TLS the close_notify waits for
    // the drain: it cannot go while a read is pending.
    beast::error_code ignored;
    client_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  if (!client_read_pending_) return;
  // A read started before the drain keeps the idle deadline it was started with (a
  // stream's new deadline binds only later reads), so a client that sent nothing more
  // held the connection for the whole idle timeout: it gets the drain's deadline here.
  // Cancelling it ends the upload track as a timeout would; no write is pending now.
  linger_timer_.expires_at(
      std::min(linger_until_, std::chrono::steady_clock::now() + kLingerQuiet));
  linger_timer_.async_wait([self = shared_from_this(), read = upload_reads_](error_code ec) {
    if (ec || !self->client_read_pending_ || self->upload_reads_ != read) return;
    self->client_.tcp().socket().cancel(ec);
  });
}

void DownstreamSession::EndUpload() {
  uploading_ = false;
  if (closed_) return;
  // The frontend has the whole body: it gets the full upstream timeout to answer.
  if (request_written_ && res_parser_ && !res_parser_->is_header_done()) ArmUpstream();
  if (answer_waiting_) {
    answer_waiting_ = false;
    AfterClientResponse({});
  }
}

void DownstreamSession::ReadUpstreamHeader() {
  res_parser_.emplace();
  res_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (method_ == http::verb::head) res_parser_->skip(true);
  upstream_buffer_.clear();
  if (!uploading_) ArmUpstream();
  http::async_read_header(upstream_, upstream_buffer_, *res_parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (self->closed_) return;
                            if (ec) return self->UpstreamFailed(ec, /*connect=*/false);
                            self->OnUpstreamHeader();
                          });
}

void DownstreamSession::UpstreamFailed(beast::error_code ec, bool connect) {
  if (closed_) return;
  Disarm();
  DropUpstream();
  Metrics().upstream_failures.With().Inc();
  PC_LOG(kWarn, "proxy.upstream_failed")
  ("upstream", upstream_address_)("error", ec.message())("attempt", attempts_)("reused", reused_);
  RetryVerdict verdict = Decide({
      .connect = connect,
      .request_written = request_written_,
      .body_held = !upload_started_,
      .safe_method = SafeToRepeat(method_, method_string_),
      .reused = reused_,
      .abandoned = abandoned_,
      .attempts = attempts_,
      .max_attempts = shared_->options.max_attempts,
  });
  if (verdict.suspect) {
    shared_->registry->MarkSuspect(upstream_address_, Clock::now());
    shared_->upstreams->Forget(target_);
    shared_->upstreams->Invalidate();
  }
  if (verdict.free_attempt) {
    --attempts_;
    std::erase(tried_, target_);
  }
  if (verdict.retry) return Attempt();
  if (uploading_) StartDiscarding();
  client_keep_alive_ = client_keep_alive_ && !streaming_;
  // The frontend may still carry out a request it had received before it stopped.
  ReplyError(502, request_written_ || body_consumed_
                      ? "frontend failed; the request may or may not have taken effect"
                      : "frontend failed; try again");
}

void DownstreamSession::DropUpstream() {
  if (counted_active_) {
    target_->active.fetch_sub(1, std::memory_order_relaxed);
    counted_active_ = false;
  }
  open_.unlink();
  beast::error_code ignored;
  upstream_.close(ignored);
}

void DownstreamSession::OnUpstreamHeader() {
  auto& in = res_parser_->get();
  upstream_keep_alive_ = in.keep_alive();
  int status = in.result_int();
  status_ = status;
  if (shared_->draining.load(std::memory_order_relaxed)) client_keep_alive_ = false;
  if (uploading_ && !stream_parser_->is_done()) {
    // An early answer: the rest of the client's body is drained, not read as a request.
    client_keep_alive_ = false;
    StartDiscarding();
  }
  bool no_body = method_ == http::verb::head || status == 204 || status == 304 ||
                 (status >= 100 && status < 200);
  std::optional<uint64_t> length;
  if (auto len = res_parser_->content_length()) length = *len;
  beast::string_view type = in[http::field::content_type];
  event_stream_ = !no_body && IsEventStream(std::string_view(type.data(), type.size()));
  // The stream's end is the connection's: the client may not send a next request on it,
  // so the client's side can be watched for its departure.
  if (event_stream_ && !uploading_) client_keep_alive_ = false;
  // Without a length the body goes chunked to HTTP/1.1 clients; an HTTP/1.0 client gets
  // it delimited by closing the connection.
  chunked_out_ = !no_body && !length && version_ == 11;
  if (!no_body && !length && version_ != 11) client_keep_alive_ = false;
  WriteResponseHead(in,
                    {.version = version_,
                     .no_body = no_body,
                     .length = length,
                     .chunked = chunked_out_,
                     .keep_alive = client_keep_alive_,
                     .request_id = request_id_,
                     .hsts = client_.is_tls() ? std::string_view(shared_->hsts) : ""},
                    head_);
  head_sent_ = false;

  if (no_body) {
    client_.tcp().expires_after(std::chrono::seconds(shared_->options.idle_timeout_s));
    head_sent_ = true;
    net::async_write(
        client_, net::buffer(head_),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->FinishExchange(ec); });
    return;
  }
  if (event_stream_) {
    // The head goes at once: a browser's EventSource opens on it, before any event.
    if (!uploading_) WatchClientGone();
    return WriteClientPiece(0);
  }
  RelayResponsePiece();
}

// An event stream's client sends nothing more; a read that completes means it left (or
// misbehaves): the stream to the frontend ends with it instead of waiting for an event
// to fail to write.
void DownstreamSession::WatchClientGone() {
  client_.tcp().expires_never();
  client_read_pending_ = true;
  client_.async_read_some(net::buffer(&watch_byte_, 1),
                          [self = shared_from_this()](beast::error_code, size_t) {
                            self->client_read_pending_ = false;
                            if (self->closed_) return;
                            self->client_keep_alive_ = false;
                            self->DropUpstream();
                          });
}

void DownstreamSession::RelayResponsePiece() {
  down_piece_.resize(kPieceBytes);
  auto& body = res_parser_->get().body();
  if (res_parser_->is_done()) return WriteClientPiece(0);
  body.data = down_piece_.data();
  body.size = down_piece_.size();
  if (event_stream_) {
    Arm(kEventStreamDeadline);
  } else {
    ArmUpstream();
  }
  http::async_read_some(upstream_, upstream_buffer_, *res_parser_,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (self->closed_) return;
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
                        });
}

// Writes, in one system call, whatever of these is due: the head (first piece only), the
// piece (framed as a chunk when chunked) and the end of a chunked body.
void DownstreamSession::WriteClientPiece(size_t n) {
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

void DownstreamSession::FinishExchange(beast::error_code ec) {
  Disarm();
  if (counted_active_) {
    target_->active.fetch_sub(1, std::memory_order_relaxed);
    counted_active_ = false;
  }
  open_.unlink();
  // A connection is reused only if the frontend got the whole request and gave a whole
  // answer. Closing one that an early answer left mid-upload also ends that upload's
  // pending write.
  if (upstream_keep_alive_ && !uploading_ && (request_written_ || !streaming_) &&
      res_parser_->is_done() && upstream_buffer_.size() == 0 && upstream_.is_open()) {
    shared_->upstreams->Give(target_, thread_, std::move(upstream_), Clock::now());
    upstream_ = tcp::socket(client_.get_executor());
  } else {
    beast::error_code ignored;
    upstream_.close(ignored);
  }
  res_parser_.reset();
  if (streaming_ && !stream_parser_->is_done()) client_keep_alive_ = false;
  AfterClientResponse(ec);
}

}  // namespace penncloud::coordinator
