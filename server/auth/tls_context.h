// Server-side TLS for riffled's HTTP ports (Kinesis, metrics): a context from PEM files
// (--tls-cert, --tls-key). A new context is made on each reload; connections keep the one they
// were accepted with. (The gRPC port has its own, in gRPC's credentials.)
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "common/status.h"

namespace riffle::auth {

// What the port offers by ALPN.
enum class Alpn {
  kHttp2AndHttp1,  // the Kinesis port: h2 when the client offers it, else http/1.1
  kHttp1,          // the metrics port
};

// TLS 1.2 and 1.3 only. InvalidArgument naming the file when a file cannot be read or the key
// does not match the certificate.
StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                    const std::string& key_file,
                                                                    Alpn alpn);

}  // namespace riffle::auth
