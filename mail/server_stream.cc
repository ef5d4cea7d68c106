#include "mail/server_stream.h"

#include <openssl/ssl.h>

#include <boost/asio/write.hpp>

#include "common/log.h"

namespace penncloud::mail {

namespace asio = boost::asio;

bool ServerStream::StartTls(asio::ssl::context& context) {
  tls_.emplace(socket_, context);
  boost::system::error_code ec;
  tls_->handshake(asio::ssl::stream_base::server, ec);
  if (ec) {
    PC_LOG(kInfo, "tls.handshake_failed")("peer", peer_)("error", ec.message());
    return false;
  }
  return true;
}

bool ServerStream::Write(std::string_view text) {
  if (text.empty()) return true;
  boost::system::error_code ec;
  if (tls_) {
    asio::write(*tls_, asio::buffer(text), ec);
  } else {
    asio::write(socket_, asio::buffer(text), ec);
  }
  return !ec;
}

size_t ServerStream::ReadSome(char* buffer, size_t size) {
  boost::system::error_code ec;
  size_t n = tls_ ? tls_->read_some(asio::buffer(buffer, size), ec)
                  : socket_.read_some(asio::buffer(buffer, size), ec);
  return ec ? 0 : n;
}

bool ServerStream::HasBufferedInput() { return tls_ && SSL_pending(tls_->native_handle()) > 0; }

}  // namespace penncloud::mail
