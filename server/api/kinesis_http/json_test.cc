#include "server/api/kinesis_http/json.h"

#include <gtest/gtest.h>

namespace riffle::kinesis_http {
namespace {

TEST(JsonTest, ReadsTypedMembersAndTreatsNullAsAbsent) {
  std::string body =
      R"({"StreamName":"s","ShardCount":2.9,"Flag":true,"Data":"AAFoZWxsbw==","Gone":null,)"
      R"("Timestamp":1459799926.48,"Tags":{"a":"1"},"Keys":["x","y"],"Unknown":{"z":1}})";
  JsonDocument doc;
  ASSERT_TRUE(doc.Parse(body).ok());
  JsonObject in = doc.root();
  EXPECT_EQ(in.String("StreamName"), "s");
  EXPECT_EQ(in.Integer("ShardCount"), 2);  // truncated, as AWS does
  EXPECT_EQ(in.Bool("Flag"), true);
  EXPECT_EQ(in.Blob("Data"), std::string("\x00\x01hello", 7));
  EXPECT_FALSE(in.String("Gone").has_value());
  EXPECT_EQ(in.TimestampMillis("Timestamp"), 1459799926480);
  EXPECT_EQ(in.StringMap("Tags")->at("a"), "1");
  EXPECT_EQ(in.StringList("Keys")->size(), 2u);
  EXPECT_TRUE(doc.error().ok());
}

TEST(JsonTest, IntegersSaturateAtTheInt32RangeAsAwsDoes) {
  std::string body =
      R"({"Big":100000000000,"Small":-100000000000,"Huge":1e300,"Unsigned":18446744073709551615,)"
      R"("Max":2147483647,"Min":-2147483648,"Neg":-7.9})";
  JsonDocument doc;
  ASSERT_TRUE(doc.Parse(body).ok());
  JsonObject in = doc.root();
  EXPECT_EQ(in.Integer("Big"), 2147483647);
  EXPECT_EQ(in.Integer("Small"), -2147483648);
  EXPECT_EQ(in.Integer("Huge"), 2147483647);
  EXPECT_EQ(in.Integer("Unsigned"), 2147483647);
  EXPECT_EQ(in.Integer("Max"), 2147483647);
  EXPECT_EQ(in.Integer("Min"), -2147483648);
  EXPECT_EQ(in.Integer("Neg"), -7);
  EXPECT_TRUE(doc.error().ok());
}

TEST(JsonTest, WrongTypesAndBadBase64AreSerializationErrors) {
  std::string body = R"({"ShardCount":"1"})";
  JsonDocument doc;
  ASSERT_TRUE(doc.Parse(body).ok());
  EXPECT_FALSE(doc.root().Integer("ShardCount").has_value());
  EXPECT_EQ(doc.error().code(), ErrorCode::kSerialization);

  std::string blob = R"({"Data":"not base64!"})";
  JsonDocument doc2;
  ASSERT_TRUE(doc2.Parse(blob).ok());
  EXPECT_FALSE(doc2.root().Blob("Data").has_value());
  EXPECT_EQ(doc2.error().code(), ErrorCode::kSerialization);
}

// The messages are AWS's own, so a client matching on them behaves the same against Riffle.
TEST(JsonTest, TypeErrorsUseTheWordingOfAws) {
  auto first_error = [](std::string body, auto read) {
    JsonDocument doc;
    EXPECT_TRUE(doc.Parse(body).ok()) << body;
    read(doc.root());
    return std::string(doc.error().message());
  };
  auto string_of = [](JsonObject in) { in.String("V"); };
  auto integer_of = [](JsonObject in) { in.Integer("V"); };
  auto bool_of = [](JsonObject in) { in.Bool("V"); };
  auto blob_of = [](JsonObject in) { in.Blob("V"); };
  auto time_of = [](JsonObject in) { in.TimestampMillis("V"); };
  auto list_of = [](JsonObject in) { in.StringList("V"); };
  auto map_of = [](JsonObject in) { in.StringMap("V"); };
  auto struct_of = [](JsonObject in) { in.Object("V"); };
  EXPECT_EQ(first_error(R"({"V":true})", string_of),
            "class java.lang.Boolean can not be converted to an String");
  EXPECT_EQ(first_error(R"({"V":34.56})", string_of),
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted "
            "to an String");
  EXPECT_EQ(first_error(R"({"V":[]})", string_of), "Start of list found where not expected");
  EXPECT_EQ(first_error(R"({"V":{}})", string_of),
            "Start of structure or map found where not expected.");
  EXPECT_EQ(first_error(R"({"V":"23"})", integer_of),
            "class java.lang.String can not be converted to an Integer");
  EXPECT_EQ(first_error(R"({"V":"23"})", bool_of), "'23' can not be converted to an Boolean");
  EXPECT_EQ(first_error(R"({"V":true})", time_of),
            "class java.lang.Boolean can not be converted to milliseconds since epoch");
  EXPECT_EQ(first_error(R"({"V":23})", blob_of),
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted "
            "to a Blob");
  EXPECT_EQ(first_error(R"({"V":"23456"})", blob_of),
            "'23456' can not be converted to a Blob: Base64 encoded length is expected a "
            "multiple of 4 bytes but found: 5");
  EXPECT_EQ(first_error(R"({"V":"=+/="})", blob_of),
            "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='");
  EXPECT_EQ(first_error(R"({"V":"+/+="})", blob_of),
            "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character "
            "dectected");
  EXPECT_EQ(first_error(R"({"V":"23"})", list_of), "Expected list or null");
  EXPECT_EQ(first_error(R"({"V":{}})", list_of),
            "Start of structure or map found where not expected.");
  EXPECT_EQ(first_error(R"({"V":2})", map_of), "Expected map or null");
  EXPECT_EQ(first_error(R"({"V":[]})", map_of), "Start of list found where not expected");
  EXPECT_EQ(first_error(R"({"V":true})", struct_of), "Expected null");
}

TEST(JsonTest, BodyMustBeOneObject) {
  for (std::string body : {std::string("[1]"), std::string("{"), std::string("\"x\"")}) {
    JsonDocument doc;
    EXPECT_EQ(doc.Parse(body).code(), ErrorCode::kSerialization) << body;
  }
  std::string empty;
  JsonDocument doc;
  EXPECT_EQ(doc.Parse(empty).code(), ErrorCode::kSerialization);
  std::string no_members = "{}";
  JsonDocument doc2;
  EXPECT_TRUE(doc2.Parse(no_members).ok());
}

TEST(JsonTest, WriterEscapesAndFormatsTimestamps) {
  JsonWriter out;
  out.BeginObject().Member("k", "a\"b\\c\n\x01").Key("t").Timestamp(1459799926480);
  out.Key("l").BeginArray().Int(1).Bool(false).EndArray().EndObject();
  EXPECT_EQ(out.Take(), R"({"k":"a\"b\\c\n\u0001","t":1459799926.480,"l":[1,false]})");
}

}  // namespace
}  // namespace riffle::kinesis_http
