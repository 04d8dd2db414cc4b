// One HTTP/1.1 connection of the Kinesis port, through Boost.Beast: keep-alive, pipelined
// requests answered in order, SubscribeToShard as a chunked event stream. A connection whose
// first bytes are the HTTP/2 preface is handed to Http2Session.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/api/kinesis_http/connection.h"
#include "server/api/kinesis_http/event_stream_pump.h"
#include "server/api/kinesis_http/session_host.h"

namespace riffle::kinesis_http {

// One connection: read a request, answer it, repeat while keep-alive holds.
class Http1Session : public std::enable_shared_from_this<Http1Session> {
 public:
  Http1Session(Connection connection, SessionHost& server);
  // Reads until the first bytes tell HTTP/2 (the client preface: h2c with prior knowledge, as
  // the JS and Java SDKs speak to an http:// endpoint) from HTTP/1.1.
  void Start() { Sniff(); }

 private:
  void Sniff();
  void Read();
  void OnRead(boost::beast::error_code ec);
  void Answer(boost::beast::http::response<boost::beast::http::string_body> response);
  void OnWrite(bool keep_alive, boost::beast::error_code ec);

  // SubscribeToShard: a chunked event stream of up to 5 minutes on this connection.
  void Subscribe(boost::beast::http::request<boost::beast::http::string_body>& request);
  void PumpSubscription();
  // Pumps again after the next append to the shard or the next heartbeat, whichever is first.
  void WaitForRecords();
  void EndSubscription();

  Connection stream_;
  const std::string peer_;  // the client's address, for the logs
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  SessionHost& server_;

  struct Push {
    std::optional<EventStreamPump> pump;
    boost::beast::http::response<boost::beast::http::empty_body> header;
    std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>>
        serializer;
    boost::asio::steady_timer timer;
    bool keep_alive = false;
    explicit Push(const boost::asio::any_io_executor& executor) : timer(executor) {}
  };
  std::unique_ptr<Push> push_;
  bool awaiting_records_ = false;  // a wake-up is registered with the pump's shard
};

}  // namespace riffle::kinesis_http
