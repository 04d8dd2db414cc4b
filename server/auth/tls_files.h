// The PEM files of --tls-cert, --tls-key and --tls-client-ca, checked before any port opens, so
// that a typo or a key of another certificate stops riffled at start with the file named
// instead of failing every handshake later.
#pragma once

#include <string>

#include "common/status.h"

namespace riffle::auth {

struct TlsFiles {
  std::string cert_file;       // the server's certificate chain
  std::string key_file;        // its private key
  std::string client_ca_file;  // gRPC: clients must present a certificate from this CA; may be empty

  bool enabled() const { return !cert_file.empty(); }
};

// InvalidArgument naming the file that cannot be read or parsed, or a key that does not match
// the certificate.
Status CheckTlsFiles(const TlsFiles& files);

}  // namespace riffle::auth
