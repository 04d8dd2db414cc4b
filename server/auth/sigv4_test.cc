#include "server/auth/sigv4.h"

#include <gtest/gtest.h>

namespace riffle::auth {
namespace {

// AWS's published example (IAM ListUsers, "Create a canonical request for Signature Version
// 4"): the signature any correct implementation computes.
TEST(SigV4Test, MatchesAwsPublishedExample) {
  SignatureFields fields{.access_key_id = "AKIDEXAMPLE",
                         .scope_date = "20150830",
                         .region = "us-east-1",
                         .service = "iam",
                         .signed_headers = "content-type;host;x-amz-date",
                         .signature = ""};
  SignedRequest request{
      .method = "GET",
      .target = "/?Action=ListUsers&Version=2010-05-08",
      .headers = {{"Host", "iam.amazonaws.com"},
                  {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                  {"X-Amz-Date", "20150830T123600Z"}},
      .body = ""};
  EXPECT_EQ(ComputeSignature(fields, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z",
                             request, Sha256Hex("")),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

constexpr int64_t kNow = 1764806400;  // 2025-12-04T00:00:00Z
constexpr std::string_view kNowAmz = "20251204T000000Z";

std::shared_ptr<const KeySet> Keys() {
  return KeySet::Parse(R"([[key]]
id = "AKIAEXAMPLE0000001"
secret = "a-secret"
account = "111122223333"
streams = ["*"]
operations = ["read"]
)",
                       "test")
      .value();
}

struct Signed {
  std::string authorization;
  std::string date;
  std::string body = R"({"StreamName":"s"})";
  SignedRequest View() const {
    return SignedRequest{.method = "POST",
                         .target = "/",
                         .headers = {{"host", "127.0.0.1:4567"},
                                     {"x-amz-date", date},
                                     {"x-amz-target", "Kinesis_20131202.ListShards"},
                                     {"authorization", authorization}},
                         .body = body};
  }
};

Signed Sign(std::string_view secret, std::string_view amz_date) {
  Signed out;
  out.date = std::string(amz_date);
  SignatureFields fields{.access_key_id = "AKIAEXAMPLE0000001",
                         .scope_date = out.date.substr(0, 8),
                         .region = "eu-west-1",
                         .service = "kinesis",
                         .signed_headers = "host;x-amz-date;x-amz-target",
                         .signature = ""};
  const std::string signature =
      ComputeSignature(fields, secret, amz_date, out.View(), Sha256Hex(out.body));
  out.authorization = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE0000001/" + out.date.substr(0, 8) +
                      "/eu-west-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;"
                      "x-amz-target, Signature=" + signature;
  return out;
}

TEST(SigV4Test, AcceptsACorrectSignatureAndNamesTheKey) {
  Signed request = Sign("a-secret", kNowAmz);
  StatusOr<Caller> caller = VerifySigV4(*Keys(), request.View(), kNow);
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->key->account, "111122223333");
  EXPECT_EQ(caller->region, "eu-west-1");
}

TEST(SigV4Test, RefusesAWrongSecretOrAChangedBody) {
  Signed wrong_secret = Sign("not-the-secret", kNowAmz);
  EXPECT_EQ(VerifySigV4(*Keys(), wrong_secret.View(), kNow).status().code(),
            ErrorCode::kInvalidSignature);
  Signed changed = Sign("a-secret", kNowAmz);
  changed.body = R"({"StreamName":"other"})";
  EXPECT_EQ(VerifySigV4(*Keys(), changed.View(), kNow).status().code(),
            ErrorCode::kInvalidSignature);
}

TEST(SigV4Test, RefusesAnUnknownKey) {
  Signed request = Sign("a-secret", kNowAmz);
  request.authorization.replace(request.authorization.find("0000001"), 7, "0000009");
  StatusOr<Caller> caller = VerifySigV4(*Keys(), request.View(), kNow);
  EXPECT_EQ(caller.status().code(), ErrorCode::kUnrecognizedClient);
  EXPECT_EQ(caller.status().message(), kInvalidTokenMessage);
}

TEST(SigV4Test, RefusesASignatureOutsideFifteenMinutes) {
  Signed old = Sign("a-secret", kNowAmz);
  StatusOr<Caller> late = VerifySigV4(*Keys(), old.View(), kNow + 16 * 60);
  EXPECT_EQ(late.status().code(), ErrorCode::kInvalidSignature);
  EXPECT_NE(late.status().message().find("Signature expired: 20251204T000000Z is now earlier"),
            std::string::npos)
      << late.status().message();
  EXPECT_EQ(VerifySigV4(*Keys(), old.View(), kNow - 16 * 60).status().code(),
            ErrorCode::kInvalidSignature);
  EXPECT_TRUE(VerifySigV4(*Keys(), old.View(), kNow + 14 * 60).ok());
}

TEST(SigV4Test, MissingOrIncompleteHeadersGetAwsCodes) {
  Signed none = Sign("a-secret", kNowAmz);
  none.authorization.clear();
  SignedRequest view = none.View();
  view.headers.pop_back();  // no Authorization at all
  EXPECT_EQ(VerifySigV4(*Keys(), view, kNow).status().code(),
            ErrorCode::kMissingAuthenticationToken);
  EXPECT_EQ(ParseAuthorization("AWS4-HMAC-SHA256 Credential=a/b/c/kinesis/aws4_request")
                .status()
                .code(),
            ErrorCode::kIncompleteSignature);
}

TEST(SigV4Test, AcceptsThePresignedQueryForm) {
  const std::string credential = "AKIAEXAMPLE0000001%2F20251204%2Feu-west-1%2Fkinesis%2Faws4_request";
  const std::string unsigned_target =
      "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + credential +
      "&X-Amz-Date=20251204T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
  SignedRequest request{.method = "POST",
                        .target = unsigned_target,
                        .headers = {{"host", "localhost:4567"}},
                        .body = "{}"};
  SignatureFields fields{.access_key_id = "AKIAEXAMPLE0000001",
                         .scope_date = "20251204",
                         .region = "eu-west-1",
                         .service = "kinesis",
                         .signed_headers = "host",
                         .signature = ""};
  const std::string target = unsigned_target + "&X-Amz-Signature=" +
                             ComputeSignature(fields, "a-secret", kNowAmz, request, Sha256Hex("{}"));
  request.target = target;
  EXPECT_TRUE(VerifySigV4(*Keys(), request, kNow + 60).ok());
  EXPECT_EQ(VerifySigV4(*Keys(), request, kNow + 301).status().code(),
            ErrorCode::kInvalidSignature);
}

}  // namespace
}  // namespace riffle::auth
