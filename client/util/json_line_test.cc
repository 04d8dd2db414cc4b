#include "client/util/json_line.h"

#include <gtest/gtest.h>

namespace riffle::tools {
namespace {

TEST(JsonLineTest, ObjectKeepsMemberOrderAndTypes) {
  std::string json = JsonObject()
                         .AddString("name", "orders")
                         .AddInt("shards", 2)
                         .AddBool("open", true)
                         .AddDouble("rate", 1.5)
                         .AddRaw("tags", JsonArray({"1", "\"x\""}))
                         .Build();
  EXPECT_EQ(json, R"({"name":"orders","shards":2,"open":true,"rate":1.5,"tags":[1,"x"]})");
}

TEST(JsonLineTest, QuoteEscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
}

TEST(JsonLineTest, QuoteKeepsMultibyteUtf8AndEscapesInvalidBytes) {
  EXPECT_EQ(JsonQuote("한글"), "\"한글\"");
  EXPECT_EQ(JsonQuote("a\xff"), R"("a\u00ff")");
}

TEST(JsonLineTest, Utf8ValidationRejectsOverlongSurrogateAndTruncatedForms) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));         // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));     // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));         // truncated
}

TEST(JsonLineTest, BinaryBytesGoToABase64Member) {
  EXPECT_EQ(JsonObject().AddBytes("data", "hi").Build(), R"({"data":"hi"})");
  EXPECT_EQ(JsonObject().AddBytes("data", std::string("\x00\xff\x10", 3)).Build(),
            R"({"data_base64":"AP8Q"})");
}

TEST(JsonLineTest, Base64PadsToWholeQuads) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace riffle::tools
