#include "server/auth/credentials.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <openssl/crypto.h>
// toml++ 3.3 (Debian 12) asserts in parser::parse_key() that a table header starts with a
// character a key may start with, although parse_key() itself then reports any other one as a
// parse_error. So a credentials file holding "[!]" aborted every riffled built without NDEBUG
// (the sanitizer builds) instead of naming the line. Without its assertions toml++ behaves as
// in the release build: the file gets its error message.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

#include "server/auth/sigv4.h"

namespace riffle::auth {
namespace {

Status FileError(const std::string& source, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "credentials file " + source + ": " + what);
}

// A list of strings under `name` in `entry`; an error when it is missing or holds other types.
StatusOr<std::vector<std::string>> StringList(const toml::table& entry, std::string_view name,
                                              const std::string& where) {
  const toml::array* array = entry[name].as_array();
  if (array == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: `{}` must be a list of strings", where, name));
  }
  std::vector<std::string> out;
  for (const toml::node& item : *array) {
    const std::optional<std::string> text = item.value<std::string>();
    if (!text) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: `{}` must be a list of strings", where, name));
    }
    out.push_back(*text);
  }
  return out;
}

StatusOr<AccessKey> ParseKey(const toml::table& entry, const std::string& where) {
  AccessKey key;
  for (auto [name, field] : {std::pair{"id", &key.id}, {"secret", &key.secret},
                             {"account", &key.account}}) {
    const std::optional<std::string> value = entry[name].value<std::string>();
    if (!value || value->empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: `{}` is required (a non-empty string)", where, name));
    }
    *field = *value;
  }
  if (key.account.size() != 12 ||
      key.account.find_first_not_of("0123456789") != std::string::npos) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: account \"{}\" must be 12 digits", where, key.account));
  }
  RIFFLE_ASSIGN_OR_RETURN(key.stream_globs, StringList(entry, "streams", where));
  RIFFLE_ASSIGN_OR_RETURN(std::vector<std::string> operations,
                          StringList(entry, "operations", where));
  for (const std::string& operation : operations) {
    if (operation == "read") {
      key.read = true;
    } else if (operation == "write") {
      key.write = true;
    } else if (operation == "admin") {
      key.admin = true;
    } else if (operation == "cluster") {
      key.cluster = true;
    } else {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: unknown operation \"{}\" (read, write, admin or cluster)",
                                where, operation));
    }
  }
  if (entry.contains("tls_common_name")) {
    const std::optional<std::string> name = entry["tls_common_name"].value<std::string>();
    if (!name || name->empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: `tls_common_name` must be a non-empty string (the subject "
                                "Common Name of the client certificates that stand for this key)",
                                where));
    }
    key.tls_common_name = *name;
  }
  for (const auto& [name, value] : entry) {
    static constexpr std::array<std::string_view, 6> kKnown = {
        "id", "secret", "account", "streams", "operations", "tls_common_name"};
    if (std::find(kKnown.begin(), kKnown.end(), name.str()) == kKnown.end()) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: unknown setting `{}`", where, name.str()));
    }
  }
  return key;
}

}  // namespace

bool AccessKey::Allows(Permission permission) const {
  switch (permission) {
    case Permission::kRead:
      return read;
    case Permission::kWrite:
      return write;
    case Permission::kAdmin:
      return admin;
    case Permission::kCluster:
      return cluster;
  }
  return false;
}

bool AccessKey::MaySeeStream(std::string_view stream_name) const {
  const std::string name(stream_name);
  for (const std::string& glob : stream_globs) {
    if (::fnmatch(glob.c_str(), name.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

StatusOr<std::shared_ptr<const KeySet>> KeySet::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return FileError(path, "cannot be read");
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

StatusOr<std::shared_ptr<const KeySet>> KeySet::Parse(std::string_view toml_text,
                                                      const std::string& source_name) {
  // toml++ 3.3 reaches __builtin_unreachable() in its Unicode whitespace check for some
  // non-ASCII characters (U+FE9A..U+FEFE), so they must not reach it; every id, secret,
  // account, glob and operation the file holds is ASCII anyway.
  const size_t non_ascii =
      std::ranges::find_if(toml_text,
                           [](char c) { return static_cast<unsigned char>(c) >= 0x80; }) -
      toml_text.begin();
  if (non_ascii != toml_text.size()) {
    const auto line = std::count(toml_text.begin(), toml_text.begin() + non_ascii, '\n') + 1;
    return FileError(source_name, fmt::format("line {}: only ASCII characters are allowed", line));
  }
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& error) {
    return FileError(source_name, fmt::format("line {}: {}", error.source().begin.line,
                                              error.description()));
  }
  const toml::array* keys = root["key"].as_array();
  if (keys == nullptr || keys->empty()) {
    return FileError(source_name, "no [[key]] entries");
  }
  auto set = std::make_shared<KeySet>();
  for (size_t i = 0; i < keys->size(); ++i) {
    const std::string where = fmt::format("credentials file {}: key {}", source_name, i + 1);
    const toml::table* entry = (*keys)[i].as_table();
    if (entry == nullptr) {
      return Status(ErrorCode::kInvalidArgument, where + ": must be a [[key]] table");
    }
    RIFFLE_ASSIGN_OR_RETURN(AccessKey parsed, ParseKey(*entry, where));
    auto key = std::make_shared<const AccessKey>(std::move(parsed));
    if (!set->keys_.emplace(key->id, key).second) {
      return FileError(source_name, "key id " + key->id + " appears twice");
    }
    if (!key->tls_common_name.empty()) {
      const auto [named, added] = set->by_common_name_.emplace(key->tls_common_name, key);
      if (!added) {
        return FileError(source_name,
                         fmt::format("keys {} and {} both have tls_common_name \"{}\": a client "
                                     "certificate must stand for one key",
                                     named->second->id, key->id, key->tls_common_name));
      }
    }
    if (key->cluster && set->cluster_key_ == nullptr) {
      set->cluster_key_ = key;
    }
  }
  set->file_keys_ = set->keys_.size();
  if (set->cluster_key_ == nullptr) {
    set->cluster_key_ = DerivedClusterKey(set->keys_);
    set->keys_.emplace(set->cluster_key_->id, set->cluster_key_);
  }
  return std::shared_ptr<const KeySet>(std::move(set));
}

std::shared_ptr<const AccessKey> KeySet::DerivedClusterKey(
    const std::map<std::string, std::shared_ptr<const AccessKey>, std::less<>>& keys) {
  // Every node reads the same file, so every node derives the same secret, and no client can:
  // it would need every key's secret. The map is ordered by id, so the order is the file's
  // content, not its layout.
  std::string material = "riffle cluster key\n";
  for (const auto& [id, key] : keys) {
    material.append(id).append(1, '\0').append(key->secret).append(1, '\n');
  }
  AccessKey derived;
  derived.id = std::string(kDerivedClusterKeyId);
  derived.secret = Sha256Hex(material);
  derived.account = "000000000000";
  derived.stream_globs = {"*"};
  derived.cluster = true;
  return std::make_shared<const AccessKey>(std::move(derived));
}

std::shared_ptr<const AccessKey> KeySet::Find(std::string_view id) const {
  const auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : it->second;
}

StatusOr<std::shared_ptr<const AccessKey>> KeySet::Authenticate(std::string_view id,
                                                                  std::string_view secret) const {
  std::shared_ptr<const AccessKey> key = Find(id);
  const bool match = key != nullptr && key->secret.size() == secret.size() &&
                     CRYPTO_memcmp(key->secret.data(), secret.data(), secret.size()) == 0;
  if (!match) {
    return Status(ErrorCode::kUnrecognizedClient, std::string(kInvalidTokenMessage));
  }
  return key;
}

std::optional<BearerToken> ParseBearer(std::string_view header) {
  constexpr std::string_view kScheme = "Bearer ";
  if (!header.starts_with(kScheme)) {
    return std::nullopt;
  }
  const std::string_view token = header.substr(kScheme.size());
  const size_t colon = token.find(':');
  if (colon == std::string_view::npos) {
    return BearerToken{.key_id = token, .secret = {}, .well_formed = false};
  }
  return BearerToken{
      .key_id = token.substr(0, colon), .secret = token.substr(colon + 1), .well_formed = true};
}

StatusOr<std::shared_ptr<const AccessKey>> KeySet::AuthenticateBearer(
    std::string_view header) const {
  const std::optional<BearerToken> bearer = ParseBearer(header);
  if (!bearer) {
    return Status(ErrorCode::kUnrecognizedClient,
                  "This server needs credentials: send `authorization: Bearer <key id>:<secret>` "
                  "with a key of its credentials file.");
  }
  if (!bearer->well_formed) {
    return Status(ErrorCode::kUnrecognizedClient, "The bearer token must be <key id>:<secret>.");
  }
  return Authenticate(bearer->key_id, bearer->secret);
}

StatusOr<std::shared_ptr<const AccessKey>> KeySet::AuthenticateCertificate(
    std::string_view common_name) const {
  const auto it = by_common_name_.find(common_name);
  if (common_name.empty() || it == by_common_name_.end()) {
    return Status(ErrorCode::kUnrecognizedClient,
                  fmt::format("The client certificate (CN={}) stands for no key: no key of the "
                              "credentials file has tls_common_name = \"{}\"; send "
                              "`authorization: Bearer <key id>:<secret>` or use a certificate "
                              "a key names.",
                              common_name, common_name));
  }
  return it->second;
}

Permission PermissionFor(std::string_view action) {
  static constexpr std::string_view kWrites[] = {"PutRecord", "PutRecords"};
  static constexpr std::string_view kReads[] = {
      "DescribeStream",         "DescribeStreamSummary", "DescribeStreamConsumer",
      "DescribeLimits",         "DescribeAccountSettings", "GetRecords",
      "GetShardIterator",       "ListShards",            "ListStreams",
      "ListStreamConsumers",    "ListTagsForStream",     "ListTagsForResource",
      "SubscribeToShard",       "GetResourcePolicy",
      // Consumer groups (riffle trigger): what a consumer does as it reads.
      "CreateConsumerGroup", "DescribeConsumerGroup", "LeaseShard", "ReleaseShardLease",
      "Checkpoint"};
  for (std::string_view write : kWrites) {
    if (action == write) {
      return Permission::kWrite;
    }
  }
  for (std::string_view read : kReads) {
    if (action == read) {
      return Permission::kRead;
    }
  }
  return Permission::kAdmin;
}

Status Authorize(const AccessKey* key, std::string_view action, std::string_view stream_name,
                 std::string_view region) {
  if (key == nullptr || key->cluster) {
    return Status();
  }
  const bool stream_allowed = stream_name.empty() || key->MaySeeStream(stream_name);
  if (key->Allows(PermissionFor(action)) && stream_allowed) {
    return Status();
  }
  const std::string resource =
      stream_name.empty() ? fmt::format("arn:aws:kinesis:{}:{}:*", region, key->account)
                          : fmt::format("arn:aws:kinesis:{}:{}:stream/{}", region, key->account,
                                        stream_name);
  return Status(ErrorCode::kAccessDenied,
                fmt::format("User: arn:aws:iam::{}:user/{} is not authorized to perform: "
                            "kinesis:{} on resource: {} because no identity-based policy allows "
                            "the kinesis:{} action",
                            key->account, key->id, action, resource, action));
}

std::string StreamNameFromArn(std::string_view arn) {
  constexpr std::string_view kStream = ":stream/";
  const size_t at = arn.find(kStream);
  if (at == std::string_view::npos) {
    return "";
  }
  std::string_view rest = arn.substr(at + kStream.size());
  return std::string(rest.substr(0, rest.find('/')));
}

}  // namespace riffle::auth
