// A browser's connection to the coordinator: plain TCP (:8000) or TLS (:8443). The proxy's
// session is written once against this stream; which one it is, is decided when the
// connection is accepted. (Beast's "flex" example makes the session a template instead;
// one branch per read or write costs nothing next to the system call, and keeps the relay
// one non-template class.)
#pragma once

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <utility>

namespace penncloud::coordinator {

class ClientStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  // `tls`: the HTTPS context, or nullptr for plain HTTP.
  ClientStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls) {
    if (tls != nullptr) {
      tls_.emplace(boost::beast::tcp_stream(std::move(socket)), *tls);
    } else {
      tcp_.emplace(std::move(socket));
    }
  }

  bool is_tls() const { return tls_.has_value(); }
  TlsStream& tls() { return *tls_; }

  // The TCP layer: its timeouts (expires_after) also bound the TLS records above it.
  boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : *tcp_; }

  executor_type get_executor() { return tcp().get_executor(); }

  template <typename MutableBuffers, typename Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    return tcp_->async_read_some(buffers, std::forward<Handler>(handler));
  }

  template <typename ConstBuffers, typename Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Handler>(handler));
    return tcp_->async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  std::optional<boost::beast::tcp_stream> tcp_;
  std::optional<TlsStream> tls_;
};

}  // namespace penncloud::coordinator
