// One client connection to :8000 or :8443, and the exchanges it opens with frontends.
//
// The client side (downstream_session.cc) reads each request's head (http::HeadReader: the
// header size and the head deadline), applies the edge rules (limits, HTTPS redirect), serves the
// console itself or hands the request to the upstream side (upstream_relay.cc), which picks a
// frontend, sends the request and relays the answer.
//
// A streamed upload runs as two tracks at once: the upload track moves the client's body
// to the frontend, and the response track reads the frontend's answer. A frontend may
// answer before the body is complete (a 413 by Content-Length, say); the answer then goes
// to the client at once (over plain TCP followed by a FIN, so a client reading to the close
// has it all), and the upload track drains what the client still sends (for at most
// kLinger, kLingerQuiet once it sends nothing) before the connection closes, so the client
// is not reset before it reads the answer. The connection moves on only when both tracks
// have ended.
//
// Handlers run on the connection's single-threaded io_context: no locks, no strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "coordinator/client_limits.h"
#include "coordinator/client_stream.h"
#include "coordinator/proxy_heads.h"
#include "coordinator/proxy_shared.h"
#include "http/head_reader.h"
#include "http/types.h"

namespace penncloud::coordinator {

class DownstreamSession : public std::enable_shared_from_this<DownstreamSession> {
 public:
  // `thread`: the index of the single-threaded io_context that `socket` belongs to.
  // `tls`: the HTTPS context for a connection accepted on the TLS port, else nullptr.
  DownstreamSession(boost::asio::ip::tcp::socket socket, ProxyShared* shared, size_t thread,
                    boost::asio::ssl::context* tls);
  ~DownstreamSession();

  void Start();

  Upstream* target() const { return target_; }

  // Called by the sweep when this exchange's frontend is marked down (or suspect). A
  // frozen frontend would hold the exchange until the upstream timeout; ending it lets
  // UpstreamFailed retry the request elsewhere or answer 502 now. An exchange whose current
  // step is younger than `stall` is left alone: a frontend still moving bytes (say, one
  // whose heartbeats are lost but which streams a download) keeps its stream.
  bool AbandonIfStalled(Clock::time_point now, Clock::duration stall);

  // How long an early-answered upload is drained before its connection closes: at most
  // kLinger in all, and no longer than kLingerQuiet once the client sends nothing.
  static constexpr std::chrono::seconds kLinger{5};
  static constexpr std::chrono::seconds kLingerQuiet{1};

 private:
  using error_code = boost::beast::error_code;
  using TimePoint = std::chrono::steady_clock::time_point;

  // ---- client side (downstream_session.cc) ----
  void ReadHeader();
  void RefuseHead(penncloud::http::HeadOutcome outcome);  // 431 or 408, then close
  void OnHeader();
  void ReadBody();
  ForwardedBy Forwarding() const;
  void ServeLocal();
  // A page or asset of the web app, answered from the edge's own copy; false when the
  // edge has no such file (the frontends may still route the path).
  bool ServeEdgeFile(std::string_view target);
  void WriteLocal(http::Response res);
  void ReplyError(int status, std::string_view message);
  // The answer went out (or failed to): count it, then read the next request or close,
  // once the upload track (if any) has ended too.
  void AfterClientResponse(error_code ec);
  void EndRequest();
  void ReleaseConnection();
  void CloseClient();
  void RedirectToHttps(const boost::beast::http::request_header<>& h);

  // ---- upstream side (upstream_relay.cc) ----
  void Attempt();
  void SendRequest();
  void SendStreamedHead();
  void RelayUploadPiece();
  void WriteUploadPiece(size_t n);
  void StartDiscarding();
  // The answer went out before the upload track ended: the connection waits for the
  // client's body to be drained, at most kLinger.
  void AwaitUploadEnd();
  void EndUpload();
  void ReadUpstreamHeader();
  void OnUpstreamHeader();
  void RelayResponsePiece();
  void WriteClientPiece(size_t n);
  void WatchClientGone();
  void FinishExchange(error_code ec);
  void UpstreamFailed(error_code ec, bool connect);
  void DropUpstream();
  // The upstream step deadline: closes the upstream socket if a step takes longer than
  // `d`. Re-arming is lazy: each step only moves `deadline_`; the one pending wait
  // re-waits when it fires early. (Cancelling and re-waiting a timer per step cost a
  // handler dispatch each.)
  void Arm(std::chrono::steady_clock::duration d);
  void ArmUpstream();
  void WaitTimer();
  void Disarm() { watching_ = false; }

  ClientStream client_;
  ProxyShared* shared_;
  const size_t thread_;
  boost::asio::ip::tcp::socket upstream_;
  boost::asio::steady_timer timer_;
  TimePoint deadline_;
  TimePoint step_started_;  // of the current upstream step
  bool watching_ = false;   // an upstream step is in progress
  bool timer_pending_ = false;
  std::string peer_;
  boost::beast::flat_buffer client_buffer_;
  boost::beast::flat_buffer upstream_buffer_;
  penncloud::http::HeadReader<ClientStream> head_reader_{client_, client_.tcp(), client_buffer_};

  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> header_parser_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>>
      buffered_parser_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::buffer_body>> stream_parser_;
  boost::beast::http::request_header<> upstream_head_;  // a streamed upload's head
  std::optional<boost::beast::http::request<boost::beast::http::buffer_body>> stream_req_;
  std::optional<boost::beast::http::request_serializer<boost::beast::http::buffer_body>>
      stream_req_sr_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> res_parser_;
  std::string req_head_;  // a buffered request's head for the frontend; reused
  std::string req_body_;  // a buffered request's body
  std::string head_;      // the response head for the client; reused, so rarely reallocated
  bool head_sent_ = false;
  bool chunked_out_ = false;
  char chunk_prefix_[24];
  std::string up_piece_;
  std::string down_piece_;
  char watch_byte_ = 0;

  // The request.
  boost::beast::http::verb method_ = boost::beast::http::verb::get;
  std::string method_string_;
  unsigned version_ = 11;
  bool client_keep_alive_ = true;
  bool upstream_keep_alive_ = true;
  // Who answers: a frontend, the console here, or the edge's static files.
  enum class Kind { kProxied, kConsole, kStatic };
  Kind kind_ = Kind::kProxied;
  bool console() const { return kind_ == Kind::kConsole; }
  bool streaming_ = false;
  std::string request_id_;
  TimePoint started_;
  int status_ = 0;
  bool active_ = false;  // a request was read and is not answered yet
  http::Request req_;

  // The exchange with a frontend.
  Upstream* target_ = nullptr;
  std::string upstream_address_;
  std::vector<Upstream*> tried_;
  int attempts_ = 0;
  bool reused_ = false;
  bool request_written_ = false;  // the whole request went out to the frontend
  bool counted_active_ = false;
  bool abandoned_ = false;     // the sweep ended this exchange (its frontend is down)
  bool event_stream_ = false;  // the answer is Server-Sent Events
  OpenExchange open_;          // linked while an exchange with target_ is open

  // The upload track of a streamed request.
  bool uploading_ = false;       // started and not yet ended
  bool upload_started_ = false;  // the head went out: the body can no longer be replayed
  bool body_consumed_ = false;   // some of the body was read from the client
  bool discarding_ = false;      // the client's body is drained, not forwarded
  TimePoint linger_until_;
  boost::asio::steady_timer linger_timer_;  // bounds a client read older than the answer
  uint64_t upload_reads_ = 0;               // client reads the upload track started
  bool answer_waiting_ = false;  // the answer went out; the connection waits for the upload

  // The client connection.
  bool client_read_pending_ = false;  // a TLS close_notify must not race a pending read
  bool closed_ = false;
  metrics::CounterCell* status_cell_ = nullptr;  // requests{kind, status} of the last answer
  int status_cell_code_ = 0;
  Kind status_cell_kind_ = Kind::kProxied;
  bool over_connection_cap_ = false;          // answered 429, then closed
  bool counts_as_connection_ = false;         // counted in limits until the socket closes
  LimitedKind limited_ = LimitedKind::kNone;  // admitted by the limits, not yet answered
};

}  // namespace penncloud::coordinator
