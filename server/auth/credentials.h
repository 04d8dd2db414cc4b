// Who may call riffled: the access keys of the credentials file (--credentials-file, TOML;
// docs/security.md) and what each may do. Both front ends authenticate a request to one of
// these keys (SigV4 on the Kinesis port; on gRPC a bearer token, or the verified client
// certificate whose Common Name a key's `tls_common_name` names) and then ask Authorize()
// whether that key may run the operation on the stream.
//
//   [[key]]
//   id = "AKIAEXAMPLE0000001"
//   secret = "a-secret"
//   account = "111122223333"
//   streams = ["*"]                        # globs over stream names
//   operations = ["read", "write", "admin"]  # or "cluster": the key the nodes call each other with
//   tls_common_name = "orders-writer"      # optional: gRPC clients with this certificate CN
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace riffle::auth {

// The kinds of operation a key may be allowed. kCluster is the nodes' own: the internal
// services of a cluster (replication), and with it every operation on every stream, since a
// node forwards and copies whatever its callers may do.
enum class Permission { kRead, kWrite, kAdmin, kCluster };

struct AccessKey {
  std::string id;
  std::string secret;
  std::string account;                    // 12 digits; the account of every ARN it sees
  std::vector<std::string> stream_globs;  // fnmatch(3) patterns over stream names
  bool read = false;
  bool write = false;
  bool admin = false;
  bool cluster = false;
  std::string tls_common_name;  // the subject CN of client certificates that stand for this key

  bool Allows(Permission permission) const;
  bool MaySeeStream(std::string_view stream_name) const;
};

// The id of the cluster key a file without one gets (KeySet::cluster_key()).
inline constexpr std::string_view kDerivedClusterKeyId = "riffle-derived-cluster-key";

// The parts of an `authorization` value "Bearer <id>:<secret>"; views into that value.
struct BearerToken {
  std::string_view key_id;
  std::string_view secret;
  bool well_formed = false;  // it had the colon; without it all of the token is in key_id
};
// nullopt when the value is not of the Bearer scheme.
std::optional<BearerToken> ParseBearer(std::string_view header);

// The keys of one credentials file, immutable once loaded (a reload builds a new set).
class KeySet {
 public:
  // Reads and validates the file; the error names the file and what is wrong in it.
  static StatusOr<std::shared_ptr<const KeySet>> Load(const std::string& path);
  static StatusOr<std::shared_ptr<const KeySet>> Parse(std::string_view toml,
                                                       const std::string& source_name);

  // nullptr for an unknown id.
  std::shared_ptr<const AccessKey> Find(std::string_view id) const;
  // The key of a bearer token's id and secret (gRPC): UnrecognizedClientException for an
  // unknown id or a wrong secret, alike, so a caller cannot probe which ids exist.
  StatusOr<std::shared_ptr<const AccessKey>> Authenticate(std::string_view id,
                                                          std::string_view secret) const;
  // The same from an `authorization` value "Bearer <id>:<secret>" (gRPC metadata, the web
  // console's header); UnrecognizedClientException for a missing or malformed one.
  StatusOr<std::shared_ptr<const AccessKey>> AuthenticateBearer(std::string_view header) const;
  // The key whose `tls_common_name` is the Common Name of a client certificate that TLS has
  // verified (gRPC with --tls-client-ca): UnrecognizedClientException, saying so, when none is.
  StatusOr<std::shared_ptr<const AccessKey>> AuthenticateCertificate(
      std::string_view common_name) const;
  // The key the nodes of a cluster send each other: the first key of the file with the
  // `cluster` operation or, when the file has none, one derived from the file: id
  // kDerivedClusterKeyId, its secret a hash of every key's id and secret, so that the nodes
  // sharing a file agree on it and no client knows it.
  std::shared_ptr<const AccessKey> cluster_key() const { return cluster_key_; }
  // The keys of the file (a derived cluster key not counted).
  size_t size() const { return file_keys_; }

 private:
  std::map<std::string, std::shared_ptr<const AccessKey>, std::less<>> keys_;
  std::map<std::string, std::shared_ptr<const AccessKey>, std::less<>> by_common_name_;
  std::shared_ptr<const AccessKey> cluster_key_;
  size_t file_keys_ = 0;

  static std::shared_ptr<const AccessKey> DerivedClusterKey(
      const std::map<std::string, std::shared_ptr<const AccessKey>, std::less<>>& keys);
};

// The key set in force, replaced as a whole when the file is reloaded (SIGHUP); a request
// keeps the set it started with.
class Credentials {
 public:
  explicit Credentials(std::shared_ptr<const KeySet> keys) : keys_(std::move(keys)) {}
  std::shared_ptr<const KeySet> keys() const { return keys_.load(); }
  void Replace(std::shared_ptr<const KeySet> keys) { keys_.store(std::move(keys)); }

 private:
  std::atomic<std::shared_ptr<const KeySet>> keys_;
};

inline constexpr std::string_view kInvalidTokenMessage =
    "The security token included in the request is invalid.";

// The permission a Kinesis action (its API name, e.g. "PutRecords") needs: writes need write,
// reads and descriptions read, everything that changes a stream's shape or settings admin.
Permission PermissionFor(std::string_view action);

// OK when `key` may run `action` on `stream_name` (empty: an account-level action such as
// ListStreams), else AccessDeniedException with the message AWS gives. A null key means no
// credentials file is in use: everything is allowed; so is everything to a `cluster` key.
Status Authorize(const AccessKey* key, std::string_view action, std::string_view stream_name,
                 std::string_view region);

// The stream an ARN names: arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/...];
// empty when it names none.
std::string StreamNameFromArn(std::string_view arn);

}  // namespace riffle::auth
