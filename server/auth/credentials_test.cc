#include "server/auth/credentials.h"

#include <gtest/gtest.h>

namespace riffle::auth {
namespace {

constexpr std::string_view kTwoKeys = R"(
[[key]]
id = "AKIAADMIN"
secret = "s1"
account = "111122223333"
streams = ["*"]
operations = ["read", "write", "admin"]

[[key]]
id = "AKIAREADER"
secret = "s2"
account = "444455556666"
streams = ["orders-*", "audit"]
operations = ["read"]
)";

TEST(CredentialsTest, LoadsKeysWithTheirStreamsAndOperations) {
  StatusOr<std::shared_ptr<const KeySet>> keys = KeySet::Parse(kTwoKeys, "test");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ((*keys)->size(), 2u);
  std::shared_ptr<const AccessKey> reader = (*keys)->Find("AKIAREADER");
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->MaySeeStream("orders-eu"));
  EXPECT_TRUE(reader->MaySeeStream("audit"));
  EXPECT_FALSE(reader->MaySeeStream("audit-2"));
  EXPECT_TRUE(reader->Allows(Permission::kRead));
  EXPECT_FALSE(reader->Allows(Permission::kWrite));
  EXPECT_EQ((*keys)->Find("nobody"), nullptr);
}

TEST(CredentialsTest, AuthorizeChecksPermissionAndStream) {
  std::shared_ptr<const KeySet> keys = KeySet::Parse(kTwoKeys, "test").value();
  const AccessKey* reader = keys->Find("AKIAREADER").get();
  EXPECT_TRUE(Authorize(reader, "GetRecords", "orders-1", "us-east-1").ok());
  EXPECT_TRUE(Authorize(reader, "ListStreams", "", "us-east-1").ok());
  Status write = Authorize(reader, "PutRecord", "orders-1", "us-east-1");
  EXPECT_EQ(write.code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(write.message(),
            "User: arn:aws:iam::444455556666:user/AKIAREADER is not authorized to perform: "
            "kinesis:PutRecord on resource: arn:aws:kinesis:us-east-1:444455556666:stream/"
            "orders-1 because no identity-based policy allows the kinesis:PutRecord action");
  EXPECT_EQ(Authorize(reader, "DescribeStream", "payroll", "us-east-1").code(),
            ErrorCode::kAccessDenied);
  EXPECT_EQ(Authorize(reader, "CreateStream", "orders-2", "us-east-1").code(),
            ErrorCode::kAccessDenied);
  EXPECT_TRUE(Authorize(nullptr, "DeleteStream", "x", "us-east-1").ok());
}

TEST(CredentialsTest, BearerSecretsAreCheckedWithoutRevealingWhichIdsExist) {
  std::shared_ptr<const KeySet> keys = KeySet::Parse(kTwoKeys, "test").value();
  EXPECT_TRUE(keys->Authenticate("AKIAADMIN", "s1").ok());
  EXPECT_EQ(keys->Authenticate("AKIAADMIN", "s2").status().code(),
            ErrorCode::kUnrecognizedClient);
  EXPECT_EQ(keys->Authenticate("AKIANOBODY", "s1").status().message(),
            keys->Authenticate("AKIAADMIN", "s2").status().message());
}

TEST(CredentialsTest, BadFilesAreRefusedWithTheReason) {
  auto error = [](std::string_view text) { return KeySet::Parse(text, "f.toml").status(); };
  EXPECT_NE(error("[[key]\n").message().find("f.toml"), std::string::npos);
  EXPECT_NE(error("").message().find("no [[key]]"), std::string::npos);
  // One key with `line` replaced: each breaks one rule.
  auto key_with = [](std::string_view line) {
    std::string text =
        "[[key]]\nid = \"a\"\nsecret = \"b\"\naccount = \"111122223333\"\n"
        "streams = [\"*\"]\noperations = [\"read\"]\n";
    const std::string_view name = line.substr(0, line.find(' '));
    const size_t start = text.find(std::string(name) + " =");
    text.replace(start, text.find('\n', start) - start, line);
    return text;
  };
  EXPECT_NE(error(key_with(R"(account = "12")")).message().find("12 digits"), std::string::npos);
  EXPECT_NE(error(key_with(R"(operations = ["delete"])")).message().find("unknown operation"),
            std::string::npos);
  EXPECT_NE(error(key_with(R"(streams = "*")")).message().find("`streams` must be a list"),
            std::string::npos);
}

constexpr std::string_view kCertificateKeys = R"(
[[key]]
id = "AKIAWRITER"
secret = "s1"
account = "111122223333"
streams = ["orders-*"]
operations = ["read", "write"]
tls_common_name = "orders-writer"

[[key]]
id = "AKIANODE"
secret = "s2"
account = "111122223333"
streams = []
operations = ["cluster"]
tls_common_name = "riffle-node"

[[key]]
id = "AKIANODE2"
secret = "s3"
account = "111122223333"
streams = []
operations = ["cluster"]
)";

TEST(CredentialsTest, ACertificateCommonNameStandsForTheKeyThatNamesIt) {
  std::shared_ptr<const KeySet> keys = KeySet::Parse(kCertificateKeys, "test").value();
  StatusOr<std::shared_ptr<const AccessKey>> writer =
      keys->AuthenticateCertificate("orders-writer");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_EQ((*writer)->id, "AKIAWRITER");
  EXPECT_TRUE(Authorize(writer->get(), "PutRecords", "orders-1", "us-east-1").ok());
  EXPECT_EQ(Authorize(writer->get(), "PutRecords", "payroll", "us-east-1").code(),
            ErrorCode::kAccessDenied);
  // The CN must be the whole name, not a glob or a prefix of one.
  for (std::string_view other : {"orders-writer2", "orders-", "ORDERS-WRITER", ""}) {
    Status unknown = keys->AuthenticateCertificate(other).status();
    EXPECT_EQ(unknown.code(), ErrorCode::kUnrecognizedClient) << other;
    EXPECT_NE(unknown.message().find("stands for no key"), std::string::npos) << unknown.message();
  }
  // A key without tls_common_name is reached by its bearer token only.
  EXPECT_EQ(keys->Find("AKIANODE2")->tls_common_name, "");
}

TEST(CredentialsTest, TheFirstClusterKeyIsTheNodesAndMayDoEverything) {
  std::shared_ptr<const KeySet> keys = KeySet::Parse(kCertificateKeys, "test").value();
  ASSERT_NE(keys->cluster_key(), nullptr);
  EXPECT_EQ(keys->cluster_key()->id, "AKIANODE");
  EXPECT_TRUE(keys->cluster_key()->Allows(Permission::kCluster));
  EXPECT_TRUE(Authorize(keys->cluster_key().get(), "DeleteStream", "anything", "us-east-1").ok());
  EXPECT_FALSE(keys->Find("AKIAWRITER")->Allows(Permission::kCluster));
}

TEST(CredentialsTest, AFileWithoutAClusterKeyGetsOneDerivedFromItsSecrets) {
  std::shared_ptr<const KeySet> keys = KeySet::Parse(kTwoKeys, "test").value();
  const std::shared_ptr<const AccessKey> derived = keys->cluster_key();
  ASSERT_NE(derived, nullptr);
  EXPECT_EQ(derived->id, kDerivedClusterKeyId);
  EXPECT_TRUE(derived->Allows(Permission::kCluster));
  EXPECT_EQ(keys->size(), 2u) << "the derived key is not one of the file's";
  // The nodes authenticate each other with it; a client knowing one secret cannot.
  EXPECT_EQ(keys->Authenticate(derived->id, derived->secret).value(), derived);
  EXPECT_EQ(keys->Authenticate(derived->id, "s3cret").status().code(),
            ErrorCode::kUnrecognizedClient);
  // Another node reading the same file derives the same key; a file with another secret not.
  EXPECT_EQ(KeySet::Parse(kTwoKeys, "again").value()->cluster_key()->secret, derived->secret);
  const size_t at = kTwoKeys.find("secret = \"");
  ASSERT_NE(at, std::string::npos);
  std::string changed(kTwoKeys.substr(0, at + 10));
  changed.append("x").append(kTwoKeys.substr(at + 10));
  EXPECT_NE(KeySet::Parse(changed, "test").value()->cluster_key()->secret, derived->secret);
}

TEST(CredentialsTest, CertificateNamesAreCheckedWhenTheFileLoads) {
  auto error = [](std::string_view text) { return KeySet::Parse(text, "f.toml").status(); };
  const std::string key_a =
      "[[key]]\nid = \"a\"\nsecret = \"b\"\naccount = \"111122223333\"\n"
      "streams = [\"*\"]\noperations = [\"read\"]\n";
  const std::string key_b =
      "[[key]]\nid = \"b\"\nsecret = \"c\"\naccount = \"111122223333\"\n"
      "streams = [\"*\"]\noperations = [\"read\"]\n";
  EXPECT_EQ(error(key_a + "tls_common_name = \"\"\n").message(),
            "credentials file f.toml: key 1: `tls_common_name` must be a non-empty string (the "
            "subject Common Name of the client certificates that stand for this key)");
  EXPECT_NE(error(key_a + "tls_common_name = 7\n").message().find("`tls_common_name` must be"),
            std::string::npos);
  EXPECT_EQ(error(key_a + "tls_common_name = \"app\"\n" + key_b + "tls_common_name = \"app\"\n")
                .message(),
            "credentials file f.toml: keys a and b both have tls_common_name \"app\": a client "
            "certificate must stand for one key");
  EXPECT_NE(
      error(key_a + "tls_subject = \"CN=app\"\n").message().find("unknown setting `tls_subject`"),
      std::string::npos);
  EXPECT_TRUE(KeySet::Parse(key_a + "tls_common_name = \"app\"\n" + key_b, "f.toml").ok());
}

// Found by tests/fuzz/credentials_fuzz: toml++ asserted on this instead of reporting it, so a
// build without NDEBUG (the sanitizer builds) aborted.
TEST(CredentialsTest, TableHeaderNoKeyMayStartIsRefusedWithItsLine) {
  const std::string_view bad_headers[] = {"[!]\n", "[[%]]\n", std::string_view("[\0]\n", 4)};
  for (std::string_view text : bad_headers) {
    Status error = KeySet::Parse(text, "f.toml").status();
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(error.message().find("credentials file f.toml: line 1: Error while parsing key"),
              std::string::npos)
        << error.message();
  }
}

// Found by tests/fuzz/credentials_fuzz: toml++ reached __builtin_unreachable() on U+FEF4.
TEST(CredentialsTest, NonAsciiTextIsRefusedWithItsLine) {
  const std::string text = "[[key]]\nid = \"a\"\n# \xef\xbb\xb4[[\n";
  Status error = KeySet::Parse(text, "f.toml").status();
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.message(), "credentials file f.toml: line 3: only ASCII characters are allowed");
}

TEST(CredentialsTest, StreamNameFromArn) {
  EXPECT_EQ(StreamNameFromArn("arn:aws:kinesis:us-east-1:111122223333:stream/orders"), "orders");
  EXPECT_EQ(StreamNameFromArn(
                "arn:aws:kinesis:us-east-1:111122223333:stream/orders/consumer/c1:1700000000"),
            "orders");
  EXPECT_EQ(StreamNameFromArn("arn:aws:iam::1:user/x"), "");
}

}  // namespace
}  // namespace riffle::auth
