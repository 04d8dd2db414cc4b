// `riffle certs create --out DIR`: a self-signed CA and a server certificate it signs (for
// 127.0.0.1, ::1 and localhost), plus a client certificate for mutual TLS, so that riffled can
// speak TLS on one machine without any other tool. Files (keys readable by the owner only):
//   ca.pem, ca-key.pem, server.pem, server-key.pem, client.pem, client-key.pem
#pragma once

#include <string>

#include "client/cli/commands.h"

namespace riffle::cli {

// Writes the files and prints how to start riffled with them and how to make the aws CLI,
// boto3 and the riffle CLI trust the CA. Refuses to overwrite an existing ca.pem.
Status CreateCertificates(const Output& output, const std::string& out_dir);

}  // namespace riffle::cli
