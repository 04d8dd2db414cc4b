#include "server/api/kinesis_http/cbor.h"

#include <gtest/gtest.h>

#include <string>

namespace riffle::kinesis_http {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) {
    out.push_back(static_cast<char>(b));
  }
  return out;
}

std::string Text(std::string_view s) {  // a short definite text string
  return Bytes({0x60 + static_cast<int>(s.size())}) + std::string(s);
}

// What the Java SDK (Jackson) writes: indefinite-length maps, byte strings for blobs and
// tag 1 with epoch milliseconds for timestamps.
TEST(CborTest, ReadsWhatTheJavaSdkWrites) {
  std::string request = Bytes({0xbf}) + Text("StreamName") + Text("orders") + Text("Data") +
                        Bytes({0x43, 0x00, 0x01, 0xff}) + Text("Timestamp") +
                        Bytes({0xc1, 0x1b, 0x00, 0x00, 0x01, 0x53, 0xe2, 0xdb, 0x2e, 0x30}) +
                        Text("Limit") + Bytes({0x19, 0x27, 0x10}) + Text("Flag") +
                        Bytes({0xf5}) + Text("Gone") + Bytes({0xf6}) + Text("Keys") +
                        Bytes({0x9f}) + Text("a") + Bytes({0x7f}) + Text("b") + Text("c") +
                        Bytes({0xff, 0xff}) + Bytes({0xff});
  StatusOr<std::string> json = CborToJson(request);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  // 0x153e2db2e30 ms = 1459799928368 ms.
  EXPECT_EQ(*json,
            R"({"StreamName":"orders","Data":"AAH/","Timestamp":1459799928.368,)"
            R"("Limit":10000,"Flag":true,"Gone":null,"Keys":["a","bc"]})");
}

TEST(CborTest, NumbersOfEveryWidth) {
  std::string request = Bytes({0xa5}) + Text("a") + Bytes({0x38, 0x63}) +  // -100
                        Text("b") + Bytes({0xf9, 0x3e, 0x00}) +              // half 1.5
                        Text("c") + Bytes({0xfa, 0x40, 0x49, 0x0f, 0xdb}) +  // float pi
                        Text("d") + Bytes({0xfb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}) +
                        Text("e") + Bytes({0x1a, 0x00, 0x01, 0x00, 0x00});  // 65536
  StatusOr<std::string> json = CborToJson(request);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json,
            R"({"a":-100,"b":1.5,"c":3.1415927410125732,"d":3.141592653589793,"e":65536})");
}

TEST(CborTest, MalformedInputIsASerializationError) {
  const std::string deep(100, static_cast<char>(0x81));  // arrays nested 100 deep
  for (const std::string& bad : {
           std::string(),
           Bytes({0xa1}) + Text("k"),                       // map missing its value
           Bytes({0xa1, 0x01, 0x02}),                       // integer key
           Bytes({0x5a, 0xff, 0xff, 0xff, 0xff}),           // byte string longer than the body
           Bytes({0xbf}) + Text("k") + Text("v"),           // indefinite map without break
           Bytes({0xa0, 0x00}),                             // bytes after the item
           Bytes({0x7f, 0x41, 0x61, 0xff}),                 // byte chunk inside a text string
           Bytes({0x1c}),                                   // reserved additional info
           deep + Bytes({0x00}),
       }) {
    StatusOr<std::string> json = CborToJson(bad);
    EXPECT_FALSE(json.ok()) << *json;
    if (!json.ok()) {
      EXPECT_EQ(json.status().code(), ErrorCode::kSerialization);
    }
  }
}

TEST(CborTest, RepliesCarryBlobsAsBytesAndTimestampsAsTaggedMillis) {
  std::string cbor = JsonToCbor(
      R"({"Records":[{"Data":"AAH/","ApproximateArrivalTimestamp":1459799928.368,)"
      R"("SequenceNumber":"1"}],"MillisBehindLatest":0,"Ok":true})");
  const std::string expected =
      Bytes({0xa3}) + Text("Records") + Bytes({0x81, 0xa3}) + Text("Data") +
      Bytes({0x43, 0x00, 0x01, 0xff}) + Bytes({0x78, 0x1b}) + "ApproximateArrivalTimestamp" +
      Bytes({0xc1, 0x1b, 0x00, 0x00, 0x01, 0x53, 0xe2, 0xdb, 0x2e, 0x30}) +
      Text("SequenceNumber") + Text("1") + Text("MillisBehindLatest") + Bytes({0x00}) +
      Text("Ok") + Bytes({0xf5});
  EXPECT_EQ(cbor, expected);
  // And back: the request side reads the same values.
  StatusOr<std::string> json = CborToJson(cbor);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            R"({"Records":[{"Data":"AAH/","ApproximateArrivalTimestamp":1459799928.368,)"
            R"("SequenceNumber":"1"}],"MillisBehindLatest":0,"Ok":true})");
}

}  // namespace
}  // namespace riffle::kinesis_http
