#include "mail/imap_connection.h"

#include <boost/asio/post.hpp>

namespace penncloud::mail {

namespace asio = boost::asio;

namespace {

// Input read per turn: literals arrive in pieces of this size.
constexpr size_t kReadChunk = 64 << 10;
// A leftover partial line keeps at most this much spare room.
constexpr size_t kSpareBytes = 4 << 10;

}  // namespace

ImapConnection::ImapConnection(const Shared& shared, asio::ip::tcp::socket socket, uint64_t id,
                               std::string peer, std::unique_ptr<ImapSession> session)
    : shared_(shared),
      strand_(socket.get_executor()),
      id_(id),
      peer_(peer),
      session_(std::move(session)),
      framer_(*session_, shared.max_line_bytes),
      stream_(std::move(socket), std::move(peer)),
      last_active_(std::chrono::steady_clock::now().time_since_epoch().count()) {}

void ImapConnection::Start() {
  asio::post(strand_, [self = shared_from_this()] {
    self->busy_ = true;
    if (self->shared_.implicit_tls && self->shared_.tls != nullptr) {
      self->StartTls([self] { self->Greet(); });
    } else {
      self->Greet();
    }
  });
}

void ImapConnection::Shutdown() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopping_ = true;
    // An idle connection's read ends at once, and OnRead says goodbye; a busy one says
    // it after its reply (Continue). A TLS handshake waits on the client, and no goodbye
    // can be said before it ends: it is cut short, and the connection closes.
    if ((!self->busy_ && self->reading_) || self->handshaking_) self->stream_.Cancel();
  });
}

void ImapConnection::Close() {
  asio::post(strand_, [self = shared_from_this()] { self->Finish(); });
}

void ImapConnection::Greet() {
  stream_.AsyncWrite(session_->Greeting(), [self = shared_from_this()](bool ok) {
    if (ok) {
      self->Continue();
    } else {
      self->Finish();
    }
  });
}

void ImapConnection::StartTls(std::function<void()> then) {
  handshaking_ = true;
  stream_.AsyncStartTls(shared_.tls, [self = shared_from_this(), then = std::move(then)](bool ok) {
    self->handshaking_ = false;
    if (self->finished_) return;
    if (!ok) return self->Finish();
    self->session_->OnTlsStarted();
    then();
  });
}

void ImapConnection::ArmRead() {
  reading_ = true;
  stream_.AsyncReadSome(in_, kReadChunk,
                        [self = shared_from_this()](bool ok) { self->OnRead(ok); });
}

void ImapConnection::OnRead(bool ok) {
  reading_ = false;
  if (finished_) return;
  if (!ok) {
    if (busy_) {
      read_failed_ = true;
    } else if (stopping_) {
      SayByeAndClose();
    } else {
      Finish();
    }
    return;
  }
  Touch();
  if (busy_) {
    input_ready_ = true;
  } else {
    Process();
  }
}

void ImapConnection::OnWake() {
  if (finished_ || stopping_) return;
  if (busy_) {
    wake_pending_ = true;
  } else if (session_->Idling()) {
    Poll();
  }
}

void ImapConnection::Process() {
  busy_ = true;
  asio::post(*shared_.workers, [self = shared_from_this()] {
    SessionOutput reply = self->Feed();
    asio::post(self->strand_,
               [self, reply = std::move(reply)]() mutable { self->Send(std::move(reply)); });
  });
}

void ImapConnection::Poll() {
  busy_ = true;
  asio::post(*shared_.workers, [self = shared_from_this()] {
    SessionOutput reply = self->session_->OnPoll();
    asio::post(self->strand_,
               [self, reply = std::move(reply)]() mutable { self->Send(std::move(reply)); });
  });
}

void ImapConnection::Send(SessionOutput reply) {
  if (finished_) return;
  bool close = reply.close;
  bool start_tls = reply.start_tls;
  stream_.AsyncWrite(std::move(reply.text), [self = shared_from_this(), close, start_tls](bool ok) {
    if (self->finished_) return;
    if (!ok || close) return self->Finish();
    if (start_tls) return self->StartTls([self] { self->Continue(); });
    self->Continue();
  });
}

void ImapConnection::Continue() {
  busy_ = false;
  if (finished_) return;
  if (read_failed_) {
    read_failed_ = false;
    return stopping_ ? SayByeAndClose() : Finish();
  }
  UpdateWatch();
  if (input_ready_) {
    input_ready_ = false;
    return Process();
  }
  if (stopping_) return SayByeAndClose();
  if (!reading_) ArmRead();
  if (wake_pending_) {
    wake_pending_ = false;
    if (session_->Idling()) return Poll();
  }
  UpdateRecheck();
}

void ImapConnection::SayByeAndClose() {
  busy_ = true;
  watch_.reset();
  recheck_.reset();
  stream_.AsyncWrite("* BYE Server shutting down, reconnect shortly\r\n",
                     [self = shared_from_this()](bool) { self->Finish(); });
}

void ImapConnection::Finish() {
  if (finished_) return;
  finished_ = true;
  watch_.reset();
  recheck_.reset();
  stream_.Close();
  shared_.closed(*this);
}

void ImapConnection::UpdateWatch() {
  if (!session_->Idling()) {
    watch_.reset();
  } else if (watch_ == nullptr && shared_.waker != nullptr) {
    watch_ = shared_.waker->Start(session_->user(), session_->selected_folder(),
                                  [weak = weak_from_this()] {
                                    auto self = weak.lock();
                                    if (self == nullptr) return;
                                    asio::post(self->strand_, [self] { self->OnWake(); });
                                  });
  }
}

void ImapConnection::UpdateRecheck() {
  const std::optional<std::chrono::milliseconds> after = session_->RecheckAfter();
  if (!after) {
    recheck_.reset();  // a wait still pending ends with operation_aborted
    return;
  }
  if (recheck_ == nullptr) recheck_ = std::make_unique<asio::steady_timer>(strand_);
  recheck_->expires_after(*after);  // ends a wait still pending
  recheck_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->OnWake();
  });
}

void ImapConnection::Touch() {
  last_active_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                     std::memory_order_relaxed);
}

SessionOutput ImapConnection::Feed() {
  SessionOutput out = framer_.Feed(in_, shared_.tls != nullptr && !stream_.encrypted());
  if (in_.empty()) {
    std::string().swap(in_);
  } else if (in_.capacity() > in_.size() + kSpareBytes) {
    in_.shrink_to_fit();
  }
  return out;
}

}  // namespace penncloud::mail
