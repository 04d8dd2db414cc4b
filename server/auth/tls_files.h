// The PEM files of --tls-cert, --tls-key, --tls-client-ca and --tls-peer-ca, checked before any
// port opens, so that a typo or a key of another certificate stops riffled at start with the file
// named instead of failing every handshake later.
#pragma once

#include <string>

#include "common/status.h"

namespace riffle::auth {

struct TlsFiles {
  std::string cert_file;       // the server's certificate chain
  std::string key_file;        // its private key
  std::string client_ca_file;  // gRPC: clients must present a certificate from this CA; may be empty
  std::string peer_ca_file;  // a cluster's nodes: the CA of the others' certificates; may be empty

  bool enabled() const { return !cert_file.empty(); }
  // The CA a node verifies the other nodes with: --tls-peer-ca, else --tls-client-ca; empty: the
  // system's trusted roots.
  const std::string& peer_ca() const {
    return peer_ca_file.empty() ? client_ca_file : peer_ca_file;
  }
};

// InvalidArgument naming the file that cannot be read or parsed, or a key that does not match
// the certificate.
Status CheckTlsFiles(const TlsFiles& files);

}  // namespace riffle::auth
