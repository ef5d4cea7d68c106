// Reading a request's head the same way on every HTTP server of PennCloud (the frontends,
// the coordinator's :8000 and :8443, the /metrics endpoints): the header fields counted
// against their limit as they arrive (header_bytes.h), and a deadline on the whole head from
// its first byte. Without the deadline a client trickling its header a byte at a time held
// a connection, and the buffer under it, for the whole idle timeout.
//
// The wait for a head's first byte is the caller's idle timeout (expires_after on the TCP
// stream); the deadline starts when that byte arrives, so an idle keep-alive connection is
// not cut short. It is a timer of its own, armed only when a head takes more than one read:
// Beast's stream timeout closes the socket, and a late client should be told why (408).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "http/header_bytes.h"
#include "http/types.h"

namespace penncloud::http {

inline constexpr std::chrono::milliseconds kHeadDeadline{10000};

struct HeadOptions {
  uint32_t field_limit = kMaxHeaderBytes;  // HeaderFieldBytes' count
  std::chrono::milliseconds deadline = kHeadDeadline;
};

enum class HeadOutcome {
  kRead,      // the head is in the parser
  kTooLarge,  // its fields (or request line) passed the limit: answer 431
  kLate,      // not whole within the deadline: answer 408
  kClosed,    // the connection ended, idled out, or sent what is not HTTP: just close
};

// What a refused head is answered: the status and the message for the client.
struct HeadRefusal {
  int status;
  std::string_view message;
};
inline HeadRefusal RefusalOf(HeadOutcome outcome) {
  if (outcome == HeadOutcome::kLate) return {408, "request header not received in time"};
  return {431, "request header too large"};
}

// The head deadline of every HTTP server in this binary: --http_header_timeout_ms.
std::chrono::milliseconds HeadDeadlineFromFlag();

// Counts a refused head (kTooLarge, kLate) in
// http_request_heads_refused_total{server, reason="too_large"|"timeout"}.
void CountRefusedHead(std::string_view server, HeadOutcome outcome);

// Parses what `buffer` holds of a head into `parser`, consuming what it takes: kRead,
// kTooLarge, kClosed (not HTTP), or nullopt while more bytes are needed. `budget` is the
// head's own (fresh per head); HeadReader calls this after every read.
template <typename Parser>
std::optional<HeadOutcome> ParseHead(Parser& parser, HeaderBudget& budget,
                                     boost::beast::flat_buffer& buffer) {
  if (buffer.size() == 0) return std::nullopt;
  auto data = buffer.data();
  std::string_view unparsed(static_cast<const char*>(data.data()), data.size());
  if (!budget.BeforePut(parser, unparsed)) return HeadOutcome::kTooLarge;
  boost::beast::error_code ec;
  const size_t used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  if (ec == boost::beast::http::error::header_limit || !budget.AfterPut(parser, used)) {
    return HeadOutcome::kTooLarge;
  }
  if (!ec && parser.is_header_done()) return HeadOutcome::kRead;
  if (ec && ec != boost::beast::http::error::need_more) return HeadOutcome::kClosed;
  return std::nullopt;
}

// One per connection; reads one head at a time. `Stream` is a Beast TCP stream or one with
// TLS (or the coordinator's either-one) above `tcp`.
template <typename Stream>
class HeadReader {
 public:
  HeadReader(Stream& stream, boost::beast::tcp_stream& tcp, boost::beast::flat_buffer& buffer)
      : stream_(stream), tcp_(tcp), buffer_(buffer), timer_(tcp.get_executor()) {}

  // Reads a head into `parser`, a fresh one (its header_limit is set here), from what
  // `buffer` holds and then the stream. Calls done(HeadOutcome) once, on the stream's
  // executor. `owner` (the connection) is kept alive while the deadline timer waits.
  template <typename Parser, typename Done>
  void Read(Parser& parser, const HeadOptions& options, std::shared_ptr<void> owner, Done done) {
    budget_.emplace(options.field_limit);
    deadline_ = options.deadline;
    started_ = false;
    late_ = false;
    reading_ = true;
    ++generation_;
    Step(parser, std::move(done), std::move(owner));
  }

 private:
  using error_code = boost::beast::error_code;

  template <typename Parser, typename Done>
  void Step(Parser& parser, Done done, std::shared_ptr<void> owner) {
    if (buffer_.size() > 0 && !started_) {
      started_ = true;
      started_at_ = std::chrono::steady_clock::now();
    }
    if (auto outcome = ParseHead(parser, *budget_, buffer_)) return Finish(done, *outcome);
    if (started_ && !armed_) Arm(owner);
    stream_.async_read_some(buffer_.prepare(boost::beast::read_size(buffer_, 65536)),
                            [this, &parser, done = std::move(done), owner = std::move(owner)](
                                error_code ec, size_t n) mutable {
                              buffer_.commit(n);
                              if (late_) return Finish(done, HeadOutcome::kLate);
                              if (ec) return Finish(done, HeadOutcome::kClosed);
                              Step(parser, std::move(done), std::move(owner));
                            });
  }

  // The deadline: cancels the pending read, whose handler then answers kLate. A wait that
  // completes after its head was finished (or for an earlier head) does nothing.
  void Arm(std::shared_ptr<void> owner) {
    armed_ = true;
    timer_.expires_at(started_at_ + deadline_);
    timer_.async_wait([this, owner = std::move(owner), generation = generation_](error_code ec) {
      if (ec || !reading_ || generation != generation_) return;
      late_ = true;
      tcp_.socket().cancel(ec);
    });
  }

  template <typename Done>
  void Finish(Done& done, HeadOutcome outcome) {
    reading_ = false;
    if (armed_) {
      armed_ = false;
      timer_.cancel();
    }
    done(outcome);
  }

  Stream& stream_;
  boost::beast::tcp_stream& tcp_;
  boost::beast::flat_buffer& buffer_;
  boost::asio::steady_timer timer_;
  std::optional<HeaderBudget> budget_;
  std::chrono::milliseconds deadline_ = kHeadDeadline;
  std::chrono::steady_clock::time_point started_at_;
  bool started_ = false;  // a byte of this head arrived
  bool armed_ = false;    // the deadline timer waits
  bool late_ = false;     // the deadline passed: the read was cancelled
  bool reading_ = false;  // a head is being read
  uint64_t generation_ = 0;
};

}  // namespace penncloud::http
