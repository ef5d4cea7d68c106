// One accepted mail connection read and written without blocking a thread: plain TCP until
// StartTls, TLS afterwards (STARTTLS) or from the first byte (implicit-TLS ports). While it
// waits for input it holds no buffer at all: it waits for the socket to become readable,
// then reads into the caller's string.
//
// TLS is OpenSSL driven directly on the non-blocking socket (SSL_set_fd), not through
// asio::ssl::stream: that stream keeps two 17 KiB record buffers and a BIO pair of two more
// per connection, which alone would use up the 64 KiB an idle IMAP connection may cost.
// With SSL_MODE_RELEASE_BUFFERS an idle TLS connection keeps only OpenSSL's session state.
//
// Every operation completes on the socket's executor (the connection's strand); at most one
// read and one write may be pending at a time.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

namespace penncloud::mail {

class NonblockingStream {
 public:
  using Done = std::function<void(bool ok)>;

  NonblockingStream(boost::asio::ip::tcp::socket socket, std::string peer);
  ~NonblockingStream();
  NonblockingStream(const NonblockingStream&) = delete;
  NonblockingStream& operator=(const NonblockingStream&) = delete;

  // The server side of a TLS handshake; a failure is logged and ends with false.
  void AsyncStartTls(SSL_CTX* context, Done done);
  // Waits for input, then appends what is there, at most `max` bytes, to `into` (which must
  // outlive the call). False: the peer closed, the connection failed, or Cancel.
  void AsyncReadSome(std::string& into, size_t max, Done done);
  // Sends all of `text`. False: the connection failed, or Cancel.
  void AsyncWrite(std::string text, Done done);
  // Ends the pending operations (with false) without closing.
  void Cancel();
  // No TLS close_notify exchange: a vanished peer must not hold anything up.
  void Close();
  bool encrypted() const { return ssl_ != nullptr; }

 private:
  enum class Step { kDone, kFailed, kWantRead, kWantWrite };
  // Runs `attempt` until it is done or fails, waiting for the socket in between.
  void Drive(std::function<Step()> attempt, Done done);
  // Acknowledges what was read at once, not after Linux's delayed-ACK timer (40 ms or
  // more). A client whose socket keeps Nagle's algorithm holds a short write back until
  // its last one is acknowledged, and clients send one command in pieces: Python's
  // imaplib sends an APPEND's literal and the CRLF closing the command as two writes, so
  // every APPEND waited out the timer before the server saw its end.
  void AcknowledgeNow();
  // The next step after an OpenSSL call returned `result`.
  Step AfterSsl(int result);

  boost::asio::ip::tcp::socket socket_;
  const std::string peer_;
  SSL* ssl_ = nullptr;
};

}  // namespace penncloud::mail
