#include "common/status.h"

#include <gtest/gtest.h>

namespace riffle {
namespace {

TEST(StatusTest, KinesisNamesRoundTrip) {
  for (ErrorCode code : {ErrorCode::kResourceNotFound, ErrorCode::kValidation,
                         ErrorCode::kProvisionedThroughputExceeded, ErrorCode::kServiceUnavailable}) {
    EXPECT_EQ(ErrorCodeFromKinesisName(KinesisName(code)), code);
  }
  EXPECT_EQ(KinesisName(ErrorCode::kResourceInUse), "ResourceInUseException");
  EXPECT_EQ(ErrorCodeFromKinesisName("NoSuchThing"), std::nullopt);
}

StatusOr<int> Half(int v) {
  if (v % 2 != 0) {
    return Status(ErrorCode::kInvalidArgument, "odd");
  }
  return v / 2;
}

StatusOr<int> Quarter(int v) {
  RIFFLE_ASSIGN_OR_RETURN(int half, Half(v));
  return Half(half);
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  StatusOr<int> odd = Quarter(6);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(odd.status().ToString(), "InvalidArgumentException: odd");
}

}  // namespace
}  // namespace riffle
