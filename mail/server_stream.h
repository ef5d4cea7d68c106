// One accepted mail connection as a server reads and writes it: plain TCP until StartTls,
// TLS afterwards (STARTTLS/STLS), or from the first byte on implicit-TLS ports.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace penncloud::mail {

class ServerStream {
 public:
  ServerStream(boost::asio::ip::tcp::socket& socket, std::string peer)
      : socket_(socket), peer_(std::move(peer)) {}

  // The server side of a TLS handshake; a failure is logged and ends the connection.
  bool StartTls(boost::asio::ssl::context& context);
  bool Write(std::string_view text);
  // 0: the connection ended (closed, reset, or shut down by the listener).
  size_t ReadSome(char* buffer, size_t size);
  // Bytes TLS has already decrypted, which a poll() on the socket would not see.
  bool HasBufferedInput();
  bool encrypted() const { return tls_.has_value(); }
  int native_handle() { return socket_.native_handle(); }

 private:
  boost::asio::ip::tcp::socket& socket_;
  const std::string peer_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
};

}  // namespace penncloud::mail
