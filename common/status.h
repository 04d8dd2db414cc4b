// One error vocabulary for every layer: OK, or a Kinesis error code and a message a user can
// act on. The broker judges each case once; front ends only translate the code (HTTP status
// and `__type`, or a gRPC status and the `riffle-error-code` trailer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace riffle {

enum class ErrorCode : uint8_t {
  kOk = 0,
  kResourceNotFound,
  kResourceInUse,
  kInvalidArgument,
  kValidation,
  kLimitExceeded,
  kProvisionedThroughputExceeded,
  kExpiredIterator,
  kExpiredNextToken,
  kAccessDenied,
  kSerialization,
  kUnknownOperation,
  kMissingAuthenticationToken,
  kIncompleteSignature,
  kUnrecognizedClient,
  kInvalidSignature,
  kInternalFailure,
  kServiceUnavailable,
};

// The wire name of a code, e.g. "ResourceNotFoundException". Spelled here and nowhere else.
std::string_view KinesisName(ErrorCode code);
// The inverse of KinesisName; nullopt for a name Riffle does not know.
std::optional<ErrorCode> ErrorCodeFromKinesisName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ResourceNotFoundException: Stream x under account 000000000000 not found."
  std::string ToString() const;
  void IgnoreError() const {}  // the one way to drop an error; say why on that line

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the error that prevented it. Never holds an OK status without a value.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  StatusOr(ErrorCode code, std::string message) : v_(Status(code, std::move(message))) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

#define RIFFLE_CONCAT_INNER(a, b) a##b
#define RIFFLE_CONCAT(a, b) RIFFLE_CONCAT_INNER(a, b)

#define RIFFLE_RETURN_IF_ERROR(expr)           \
  do {                                         \
    ::riffle::Status riffle_status_ = (expr);  \
    if (!riffle_status_.ok()) {                \
      return riffle_status_;                   \
    }                                          \
  } while (false)

#define RIFFLE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) {                                   \
    return tmp.status();                             \
  }                                                  \
  lhs = std::move(tmp).value()

#define RIFFLE_ASSIGN_OR_RETURN(lhs, expr) \
  RIFFLE_ASSIGN_OR_RETURN_IMPL(RIFFLE_CONCAT(riffle_statusor_, __LINE__), lhs, expr)

// Always on: only where going on would corrupt data. Never for input.
#define RIFFLE_CHECK(cond, msg) \
  do {                          \
    if (!(cond)) {              \
      ::riffle::internal::CheckFailed(#cond, msg, __FILE__, __LINE__); \
    }                           \
  } while (false)

namespace internal {
[[noreturn]] void CheckFailed(const char* cond, std::string_view msg, const char* file, int line);
}  // namespace internal

}  // namespace riffle
