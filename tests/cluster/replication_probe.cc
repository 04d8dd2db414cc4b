// Calls a node's internal Replication service directly, as a process that is not a node of the
// cluster would: an Append with no entries, which changes nothing when it is let through.
// Prints the gRPC status ("OK", or the code's name and message) for the cluster tests to check.
//
//   replication_probe HOST:PORT [--bearer ID:SECRET] [--tls-ca CA [--tls-cert C --tls-key K]]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "riffle/cluster/v1/replication.grpc.pb.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    default:
      return "OTHER";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: replication_probe HOST:PORT [--bearer ID:SECRET] "
                 "[--tls-ca CA [--tls-cert C --tls-key K]]\n");
    return 2;
  }
  const std::string endpoint = argv[1];
  std::string bearer;
  grpc::SslCredentialsOptions tls;
  bool use_tls = false;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--bearer") {
      bearer = value;
    } else if (flag == "--tls-ca") {
      tls.pem_root_certs = ReadFile(value);
      use_tls = true;
    } else if (flag == "--tls-cert") {
      tls.pem_cert_chain = ReadFile(value);
    } else if (flag == "--tls-key") {
      tls.pem_private_key = ReadFile(value);
    } else {
      std::fprintf(stderr, "replication_probe: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  auto channel = grpc::CreateChannel(
      endpoint, use_tls ? grpc::SslCredentials(tls) : grpc::InsecureChannelCredentials());
  auto stub = riffle::cluster::v1::Replication::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!bearer.empty()) {
    context.AddMetadata("authorization", "Bearer " + bearer);
  }
  riffle::cluster::v1::AppendBatch request;
  riffle::cluster::v1::AppendBatchResponse response;
  const grpc::Status status = stub->Append(&context, request, &response);
  std::printf("%s %s\n", CodeName(status.error_code()), status.error_message().c_str());
  return 0;
}
