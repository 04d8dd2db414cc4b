#include "server/auth/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <utility>

namespace riffle::auth {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

Status Unreadable(const std::string& what, const std::string& file) {
  ERR_clear_error();
  return Status(ErrorCode::kInvalidArgument, "cannot use the " + what + " " + file +
                                                 ": not readable as PEM");
}

}  // namespace

Status CheckTlsFiles(const TlsFiles& files) {
  if (files.cert_file.empty() != files.key_file.empty()) {
    return Status(ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together");
  }
  if (!files.enabled()) {
    if (!files.peer_ca_file.empty()) {
      return Status(ErrorCode::kInvalidArgument, "--tls-peer-ca needs --tls-cert and --tls-key");
    }
    return files.client_ca_file.empty()
               ? Status()
               : Status(ErrorCode::kInvalidArgument, "--tls-client-ca needs --tls-cert and --tls-key");
  }
  std::unique_ptr<std::FILE, FileCloser> cert_in(std::fopen(files.cert_file.c_str(), "r"));
  X509* cert = cert_in ? PEM_read_X509(cert_in.get(), nullptr, nullptr, nullptr) : nullptr;
  if (cert == nullptr) {
    return Unreadable("TLS certificate", files.cert_file);
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert_owner(cert, X509_free);
  std::unique_ptr<std::FILE, FileCloser> key_in(std::fopen(files.key_file.c_str(), "r"));
  EVP_PKEY* key = key_in ? PEM_read_PrivateKey(key_in.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) {
    return Unreadable("TLS key", files.key_file);
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_owner(key, EVP_PKEY_free);
  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return Status(ErrorCode::kInvalidArgument, "the TLS key " + files.key_file +
                                                   " does not match the certificate " +
                                                   files.cert_file);
  }
  for (const auto& [what, file] :
       {std::pair{"client CA", &files.client_ca_file}, std::pair{"peer CA", &files.peer_ca_file}}) {
    if (file->empty()) {
      continue;
    }
    std::unique_ptr<std::FILE, FileCloser> ca_in(std::fopen(file->c_str(), "r"));
    X509* ca = ca_in ? PEM_read_X509(ca_in.get(), nullptr, nullptr, nullptr) : nullptr;
    if (ca == nullptr) {
      return Unreadable(what, *file);
    }
    X509_free(ca);
  }
  return Status();
}

}  // namespace riffle::auth
