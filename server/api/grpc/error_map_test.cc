#include "server/api/grpc/error_map.h"

#include <string>

#include <gmock/gmock.h>
#include <grpcpp/test/server_context_test_spouse.h>
#include <gtest/gtest.h>

namespace riffle::grpc_api {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(GrpcErrorMapTest, CodesFollowTheGrpcMappingTable) {
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kOk, InUseMeans::kWrongState), grpc::StatusCode::OK);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kResourceNotFound, InUseMeans::kWrongState),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kInvalidArgument, InUseMeans::kWrongState),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kValidation, InUseMeans::kWrongState),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kSerialization, InUseMeans::kWrongState),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kExpiredIterator, InUseMeans::kWrongState),
            grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kExpiredNextToken, InUseMeans::kWrongState),
            grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kLimitExceeded, InUseMeans::kWrongState),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kProvisionedThroughputExceeded, InUseMeans::kWrongState),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kAccessDenied, InUseMeans::kWrongState),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kMissingAuthenticationToken, InUseMeans::kWrongState),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kInternalFailure, InUseMeans::kWrongState),
            grpc::StatusCode::INTERNAL);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kServiceUnavailable, InUseMeans::kWrongState),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(GrpcErrorMapTest, ResourceInUseIsAlreadyExistsOnlyForANameClash) {
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kResourceInUse, InUseMeans::kWrongState),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(GrpcCodeFor(ErrorCode::kResourceInUse, InUseMeans::kNameTaken),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST(GrpcErrorMapTest, ErrorKeepsTheBrokerMessageAndSendsTheKinesisCodeAsTrailer) {
  grpc::ServerContext context;
  grpc::Status status = ToGrpcStatus(
      Status(ErrorCode::kResourceNotFound, "Stream x under account 000000000000 not found."),
      context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "Stream x under account 000000000000 not found.");
  EXPECT_THAT(grpc::testing::ServerContextTestSpouse(&context).GetTrailingMetadata(),
              ElementsAre(Pair("riffle-error-code", "ResourceNotFoundException")));
}

TEST(GrpcErrorMapTest, OkStatusSendsNoTrailer) {
  grpc::ServerContext context;
  EXPECT_TRUE(ToGrpcStatus(Status(), context).ok());
  EXPECT_TRUE(grpc::testing::ServerContextTestSpouse(&context).GetTrailingMetadata().empty());
}

}  // namespace
}  // namespace riffle::grpc_api
