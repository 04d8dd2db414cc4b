#include "server/api/kinesis_http/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string_view>

namespace riffle::kinesis_http {
namespace {

// ALPN: HTTP/2 when the client offers it (the JS SDK's SubscribeToShard), else HTTP/1.1. The
// session still tells the two apart by the client's first bytes.
int SelectProtocol(SSL*, const unsigned char** out, unsigned char* out_length,
                   const unsigned char* offered, unsigned int offered_length, void*) {
  static constexpr unsigned char kPreferred[] = "\x02h2\x08http/1.1";
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, kPreferred, sizeof(kPreferred) - 1, offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

}  // namespace

StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                    const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot use the TLS certificate " + cert_file + ": " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "cannot use the TLS key " + key_file + ": " + OpenSslError());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "the TLS key " + key_file + " does not match the certificate " + cert_file);
  }
  SSL_CTX_set_alpn_select_cb(native, SelectProtocol, nullptr);
  return context;
}

}  // namespace riffle::kinesis_http
