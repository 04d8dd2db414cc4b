#include "server/auth/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string_view>

namespace riffle::auth {
namespace {

// ALPN: the first of the port's protocols that the client offers. The Kinesis port's sessions
// still tell HTTP/2 from HTTP/1.1 by the client's first bytes.
template <const unsigned char* kOffer, size_t kLength>
int SelectProtocol(SSL*, const unsigned char** out, unsigned char* out_length,
                   const unsigned char* offered, unsigned int offered_length, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, kOffer, kLength, offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

constexpr unsigned char kHttp2AndHttp1[] = "\x02h2\x08http/1.1";
constexpr unsigned char kHttp1[] = "\x08http/1.1";

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

}  // namespace

StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                                    const std::string& key_file,
                                                                    Alpn alpn) {
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
  SSL_CTX_set_alpn_select_cb(
      native,
      alpn == Alpn::kHttp2AndHttp1 ? SelectProtocol<kHttp2AndHttp1, sizeof(kHttp2AndHttp1) - 1>
                                   : SelectProtocol<kHttp1, sizeof(kHttp1) - 1>,
      nullptr);
  return context;
}

}  // namespace riffle::auth
