#include "client/cli/certs.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>

namespace riffle::cli {
namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

constexpr long kValidDays = 825;  // the longest lifetime clients accept for a server certificate

Key NewKey() { return Key(EVP_EC_gen("P-256"), EVP_PKEY_free); }

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (extension == nullptr) {
    return false;
  }
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// A certificate for `key` named `common_name`, signed by `issuer_key` (self-signed when
// `issuer` is null), with the given extensions (nid, value).
Certificate Issue(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                  std::initializer_list<std::pair<int, const char*>> extensions, long serial) {
  Certificate cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate a clock a little behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidDays * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Riffle local"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  for (const auto& [nid, value] : extensions) {
    if (!AddExtension(cert.get(), signer, nid, value)) {
      return Certificate(nullptr, X509_free);
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return Certificate(nullptr, X509_free);
  }
  return cert;
}

// Writes `path` with `mode`, created anew.
Status WritePem(const std::filesystem::path& path, mode_t mode,
                const std::function<bool(std::FILE*)>& write_pem) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  std::FILE* file = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
  if (file == nullptr) {
    if (fd >= 0) {
      ::close(fd);
    }
    return Status(ErrorCode::kInvalidArgument, "cannot write " + path.string());
  }
  const bool written = write_pem(file);
  if (std::fclose(file) != 0 || !written) {
    return Status(ErrorCode::kInvalidArgument, "cannot write " + path.string());
  }
  return Status();
}

Status WriteCertificate(const std::filesystem::path& path, X509* cert) {
  return WritePem(path, 0644, [cert](std::FILE* f) { return PEM_write_X509(f, cert) == 1; });
}

Status WriteKey(const std::filesystem::path& path, EVP_PKEY* key) {
  return WritePem(path, 0600, [key](std::FILE* f) {
    return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
}

}  // namespace

Status CreateCertificates(const Output& output, const std::string& out_dir) {
  const std::filesystem::path dir = std::filesystem::absolute(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument, "cannot create " + dir.string() + ": " + ec.message());
  }
  if (std::filesystem::exists(dir / "ca.pem")) {
    return Status(ErrorCode::kResourceInUse,
                  (dir / "ca.pem").string() + " exists; choose another --out or remove it");
  }
  Key ca_key = NewKey(), server_key = NewKey(), client_key = NewKey();
  if (!ca_key || !server_key || !client_key) {
    return Status(ErrorCode::kInternalFailure, "cannot generate keys");
  }
  Certificate ca = Issue(ca_key.get(), "Riffle local CA", nullptr, ca_key.get(),
                         {{NID_basic_constraints, "critical,CA:TRUE"},
                          {NID_key_usage, "critical,keyCertSign,cRLSign"},
                          {NID_subject_key_identifier, "hash"}},
                         1);
  Certificate server =
      ca ? Issue(server_key.get(), "localhost", ca.get(), ca_key.get(),
                 {{NID_basic_constraints, "critical,CA:FALSE"},
                  {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                  // clientAuth too: a cluster's nodes present it when they call each other
                  // through a port that asks for client certificates (--tls-client-ca).
                  {NID_ext_key_usage, "serverAuth,clientAuth"},
                  {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
                  {NID_authority_key_identifier, "keyid"}},
                 2)
         : Certificate(nullptr, X509_free);
  Certificate client = ca ? Issue(client_key.get(), "riffle-client", ca.get(), ca_key.get(),
                                  {{NID_basic_constraints, "critical,CA:FALSE"},
                                   {NID_key_usage, "critical,digitalSignature"},
                                   {NID_ext_key_usage, "clientAuth"},
                                   {NID_authority_key_identifier, "keyid"}},
                                  3)
                          : Certificate(nullptr, X509_free);
  if (!ca || !server || !client) {
    return Status(ErrorCode::kInternalFailure, "cannot sign the certificates");
  }
  RIFFLE_RETURN_IF_ERROR(WriteKey(dir / "ca-key.pem", ca_key.get()));
  RIFFLE_RETURN_IF_ERROR(WriteKey(dir / "server-key.pem", server_key.get()));
  RIFFLE_RETURN_IF_ERROR(WriteKey(dir / "client-key.pem", client_key.get()));
  RIFFLE_RETURN_IF_ERROR(WriteCertificate(dir / "server.pem", server.get()));
  RIFFLE_RETURN_IF_ERROR(WriteCertificate(dir / "client.pem", client.get()));
  // Last: its presence means the set is complete.
  RIFFLE_RETURN_IF_ERROR(WriteCertificate(dir / "ca.pem", ca.get()));
  const std::string d = dir.string();
  if (output.json) {
    output.out << "{\"ca\":\"" << d << "/ca.pem\",\"server_cert\":\"" << d
               << "/server.pem\",\"server_key\":\"" << d << "/server-key.pem\",\"client_cert\":\""
               << d << "/client.pem\",\"client_key\":\"" << d << "/client-key.pem\"}\n";
    return Status();
  }
  output.out << "Wrote a CA and certificates for 127.0.0.1, ::1 and localhost to " << d << "\n\n"
             << "Start riffled with TLS:\n"
             << "  riffled --tls-cert " << d << "/server.pem --tls-key " << d
             << "/server-key.pem\n"
             << "  (add --tls-client-ca " << d << "/ca.pem to require client certificates on gRPC)\n\n"
             << "Trust the CA (aws CLI, boto3, the SDKs; then use https://127.0.0.1:4567):\n"
             << "  export AWS_CA_BUNDLE=" << d << "/ca.pem\n"
             << "  export NODE_EXTRA_CA_CERTS=" << d << "/ca.pem\n"
             << "  riffle --tls-ca " << d << "/ca.pem stream list\n";
  return Status();
}

}  // namespace riffle::cli
