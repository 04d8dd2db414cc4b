// One accepted connection of the Kinesis port, plain TCP or TLS, as one stream type: the HTTP/1.1
// and HTTP/2 sessions read and write through it without knowing which. It is an asio
// AsyncReadStream and AsyncWriteStream (what Beast and asio::async_write need); timeouts are set
// on the TCP layer underneath.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

namespace riffle::kinesis_http {

// One place in the server's count of open connections, given back when the connection closes.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<std::atomic<size_t>> open) : open_(std::move(open)) {}
  ConnectionSlot(ConnectionSlot&&) = default;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (open_) {
      open_->fetch_sub(1);
    }
  }

 private:
  std::shared_ptr<std::atomic<size_t>> open_;
};

class Connection {
 public:
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using executor_type = boost::beast::tcp_stream::executor_type;

  Connection(boost::asio::ip::tcp::socket socket, ConnectionSlot slot)
      : plain_(std::move(socket)), slot_(std::move(slot)) {}
  // `context` is the one `tls` was made with, kept as long as the connection.
  Connection(std::unique_ptr<TlsStream> tls, std::shared_ptr<boost::asio::ssl::context> context,
             ConnectionSlot slot)
      : tls_(std::move(tls)), tls_context_(std::move(context)), slot_(std::move(slot)) {}

  executor_type get_executor() { return tcp().get_executor(); }
  // The TCP stream underneath: its timeouts cover reads and writes at any layer.
  boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : *plain_; }
  bool is_tls() const { return tls_ != nullptr; }
  // The client's address (ip:port), for the logs; "unknown" once the socket is gone.
  std::string PeerAddress() {
    boost::system::error_code ec;
    const boost::asio::ip::tcp::endpoint peer = tcp().socket().remote_endpoint(ec);
    return ec ? std::string("unknown")
              : peer.address().to_string() + ":" + std::to_string(peer.port());
  }

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // Ends the connection without a TLS close_notify: the peer sees the TCP close.
  void Close(boost::asio::ip::tcp::socket::shutdown_type how) {
    boost::beast::error_code ignored;
    tcp().socket().shutdown(how, ignored);
    if (how == boost::asio::ip::tcp::socket::shutdown_both) {
      tcp().socket().close(ignored);
    }
  }

 private:
  std::optional<boost::beast::tcp_stream> plain_;
  std::unique_ptr<TlsStream> tls_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  ConnectionSlot slot_;
};

}  // namespace riffle::kinesis_http
