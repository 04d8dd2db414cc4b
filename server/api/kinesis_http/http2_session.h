// One HTTP/2 connection of the Kinesis port (h2c with prior knowledge, what the JS and Java SDKs
// speak to an http:// endpoint). Http1Session hands the connection over once the client's first
// bytes are the HTTP/2 preface.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <nghttp2/nghttp2.h>

#include "server/api/kinesis_http/connection.h"
#include "server/api/kinesis_http/event_stream_pump.h"
#include "server/api/kinesis_http/operations.h"
#include "server/api/kinesis_http/session_host.h"

namespace riffle::kinesis_http {

// One HTTP/2 connection (h2c, prior knowledge) driven by nghttp2: frames in from the socket,
// each complete request stream answered in order of completion, frames out. Runs on one
// worker thread like Http1Session, so its callbacks never race.
class Http2Session : public std::enable_shared_from_this<Http2Session> {
 public:
  Http2Session(Connection connection, SessionHost& server,
               boost::beast::flat_buffer preread);
  ~Http2Session();
  void Start();

 private:
  struct Stream {
    // Every header as received (names lower case, with :method, :path and :authority), for
    // the signature check; the two below are copies of what dispatch needs.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string target;
    std::string content_type;
    std::string body;
    bool too_large = false;
    // The response body, served to nghttp2 from here.
    std::string response;
    size_t sent = 0;
    // SubscribeToShard: the body grows as events come; nghttp2 is told to wait until then.
    std::unique_ptr<EventStreamPump> pump;
    bool awaiting_records = false;  // a wake-up is registered with the pump's shard
  };

  // The request as SigV4 signs it; borrows `stream`.
  static auth::SignedRequest SignedView(const Stream& stream);

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t flags,
                      void* self);
  static int OnDataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                         size_t len, void* self);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* self);
  static ssize_t ReadResponse(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                              uint32_t* data_flags, nghttp2_data_source* source, void* self);

  void Respond(int32_t stream_id, Stream& stream);
  void StartPush(int32_t stream_id, Stream& stream, EventStreamPump pump);
  // Moves every open subscription forward, then waits for an append to one of their shards or
  // the next heartbeat.
  void PumpSubscriptions();
  void SubmitReply(int32_t stream_id, Reply reply);
  bool Feed(const char* data, size_t size);
  void ReadMore();
  void Flush();
  void Close();

  Connection socket_;
  const std::string peer_;  // the client's address, for the logs
  SessionHost& server_;
  boost::beast::flat_buffer preread_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  std::array<char, 16384> read_buffer_{};
  std::string write_buffer_;
  bool writing_ = false;
  bool closed_ = false;
  boost::asio::steady_timer push_timer_;
  bool push_timer_armed_ = false;
};

}  // namespace riffle::kinesis_http
