// TLS for the Kinesis port: a server context from PEM files (--tls-cert, --tls-key), offering
// HTTP/2 and HTTP/1.1 by ALPN. A new context is made on each reload; connections keep the one
// they were accepted with.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "common/status.h"

namespace riffle::kinesis_http {

// TLS 1.2 and 1.3 only. InvalidArgument naming the file when a file cannot be read or the key
// does not match the certificate.
StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                    const std::string& key_file);

}  // namespace riffle::kinesis_http
