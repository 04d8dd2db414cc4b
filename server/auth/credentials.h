// Who may call riffled: the access keys of the credentials file (--credentials-file, TOML;
// docs/security.md) and what each may do. Both front ends authenticate a request to one of
// these keys (SigV4 on the Kinesis port, a bearer token on gRPC) and then ask Authorize()
// whether that key may run the operation on the stream.
//
//   [[key]]
//   id = "AKIAEXAMPLE0000001"
//   secret = "a-secret"
//   account = "111122223333"
//   streams = ["*"]                        # globs over stream names
//   operations = ["read", "write", "admin"]
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace riffle::auth {

// The three kinds of operation a key may be allowed.
enum class Permission { kRead, kWrite, kAdmin };

struct AccessKey {
  std::string id;
  std::string secret;
  std::string account;                    // 12 digits; the account of every ARN it sees
  std::vector<std::string> stream_globs;  // fnmatch(3) patterns over stream names
  bool read = false;
  bool write = false;
  bool admin = false;

  bool Allows(Permission permission) const;
  bool MaySeeStream(std::string_view stream_name) const;
};

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
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, std::shared_ptr<const AccessKey>, std::less<>> keys_;
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
// credentials file is in use: everything is allowed.
Status Authorize(const AccessKey* key, std::string_view action, std::string_view stream_name,
                 std::string_view region);

// The stream an ARN names: arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/...];
// empty when it names none.
std::string StreamNameFromArn(std::string_view arn);

}  // namespace riffle::auth
