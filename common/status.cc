#include "common/status.h"

#include <array>
#include <cstdio>
#include <cstdlib>

namespace riffle {
namespace {

struct CodeName {
  ErrorCode code;
  std::string_view name;
};

constexpr std::array kCodeNames = {
    CodeName{ErrorCode::kOk, "OK"},
    CodeName{ErrorCode::kResourceNotFound, "ResourceNotFoundException"},
    CodeName{ErrorCode::kResourceInUse, "ResourceInUseException"},
    CodeName{ErrorCode::kInvalidArgument, "InvalidArgumentException"},
    CodeName{ErrorCode::kValidation, "ValidationException"},
    CodeName{ErrorCode::kLimitExceeded, "LimitExceededException"},
    CodeName{ErrorCode::kProvisionedThroughputExceeded, "ProvisionedThroughputExceededException"},
    CodeName{ErrorCode::kExpiredIterator, "ExpiredIteratorException"},
    CodeName{ErrorCode::kExpiredNextToken, "ExpiredNextTokenException"},
    CodeName{ErrorCode::kAccessDenied, "AccessDeniedException"},
    CodeName{ErrorCode::kSerialization, "SerializationException"},
    CodeName{ErrorCode::kUnknownOperation, "UnknownOperationException"},
    CodeName{ErrorCode::kMissingAuthenticationToken, "MissingAuthenticationTokenException"},
    CodeName{ErrorCode::kIncompleteSignature, "IncompleteSignatureException"},
    CodeName{ErrorCode::kUnrecognizedClient, "UnrecognizedClientException"},
    CodeName{ErrorCode::kInvalidSignature, "InvalidSignatureException"},
    CodeName{ErrorCode::kInternalFailure, "InternalFailureException"},
    CodeName{ErrorCode::kServiceUnavailable, "ServiceUnavailable"},
};

}  // namespace

std::string_view KinesisName(ErrorCode code) {
  for (const CodeName& entry : kCodeNames) {
    if (entry.code == code) {
      return entry.name;
    }
  }
  return "InternalFailureException";
}

std::optional<ErrorCode> ErrorCodeFromKinesisName(std::string_view name) {
  for (const CodeName& entry : kCodeNames) {
    if (entry.name == name) {
      return entry.code;
    }
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  if (ok()) {
    return "OK";
  }
  std::string out(KinesisName(code_));
  out += ": ";
  out += message_;
  return out;
}

namespace internal {
void CheckFailed(const char* cond, std::string_view msg, const char* file, int line) {
  std::fprintf(stderr, "RIFFLE_CHECK failed at %s:%d: %s: %.*s\n", file, line, cond,
               static_cast<int>(msg.size()), msg.data());
  std::abort();
}
}  // namespace internal

}  // namespace riffle
