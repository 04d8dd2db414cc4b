#include "server/broker/tokens.h"

#include <gtest/gtest.h>

namespace riffle::broker {
namespace {

TEST(TokensTest, IteratorRoundTripsWithinItsLifetime) {
  TokenSigner signer("secret-1");
  IteratorPosition in{7, 3, 12345, 1'700'000'000'000};
  std::string token = EncodeIterator(signer, in);
  EXPECT_LE(token.size(), 512u);
  StatusOr<IteratorPosition> out = DecodeIterator(signer, token, in.issued_ms + 299'999, 300'000);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->stream_id, 7u);
  EXPECT_EQ(out->shard_ordinal, 3u);
  EXPECT_EQ(out->offset, 12345u);
}

TEST(TokensTest, ExpiredIteratorSaysSo) {
  TokenSigner signer("secret-1");
  std::string token = EncodeIterator(signer, IteratorPosition{1, 0, 0, 1'000'000});
  StatusOr<IteratorPosition> out = DecodeIterator(signer, token, 1'000'000 + 300'001, 300'000);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kExpiredIterator);
  EXPECT_NE(out.status().message().find("tolerated delay of 300000 milliseconds"),
            std::string::npos);
}

TEST(TokensTest, TamperedForgedAndGarbageTokensAreInvalid) {
  TokenSigner signer("secret-1");
  std::string token = EncodeIterator(signer, IteratorPosition{1, 0, 5, 1'000});
  std::string tampered = token;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {tampered, EncodeIterator(TokenSigner("other"), IteratorPosition{1, 0, 5, 1'000}),
        std::string("garbage"), std::string("")}) {
    StatusOr<IteratorPosition> out = DecodeIterator(signer, bad, 1'000, 300'000);
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(out.status().message(), "Invalid ShardIterator.");
  }
}

TEST(TokensTest, IteratorHasTheFrameOfAwsIterators) {
  TokenSigner signer("secret-1");
  std::string token = EncodeIterator(signer, IteratorPosition{1, 0, 5, 1'000});
  std::optional<std::string> raw = Base64Decode(token);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 152u);
  EXPECT_EQ(raw->substr(0, 8), std::string("\0\0\0\0\0\0\0\1", 8));
  // The padding is part of the token: changing it makes the iterator invalid.
  std::string padded = *raw;
  padded.back() = '\1';
  EXPECT_EQ(DecodeIterator(signer, Base64Encode(padded), 1'000, 300'000).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(TokensTest, KindsDoNotMix) {
  TokenSigner signer("s");
  std::string token = signer.Sign(TokenKind::kListShards, "payload");
  EXPECT_EQ(signer.Verify(TokenKind::kListShards, token), "payload");
  EXPECT_FALSE(signer.Verify(TokenKind::kShardIterator, token).has_value());
}

TEST(Base64Test, RoundTripsAndRejectsBadInput) {
  EXPECT_EQ(Base64Encode("Hello Kinesis"), "SGVsbG8gS2luZXNpcw==");
  EXPECT_EQ(Base64Decode("SGVsbG8gS2luZXNpcw=="), "Hello Kinesis");
  EXPECT_EQ(Base64Decode("AAFoZWxsbw=="), std::string("\x00\x01hello", 7));
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_FALSE(Base64Decode("abc").has_value());
  EXPECT_FALSE(Base64Decode("ab=c").has_value());
  EXPECT_FALSE(Base64Decode("a*cd").has_value());
  // Padding must not hide set bits: each byte string has one encoding.
  EXPECT_FALSE(Base64Decode("+/+=").has_value());
  EXPECT_FALSE(Base64Decode("AB==").has_value());
  EXPECT_EQ(Base64Decode("+/8="), "\xfb\xff");
  EXPECT_EQ(Base64Decode("AA=="), std::string(1, '\0'));
  EXPECT_FALSE(Base64Decode("Zg=a").has_value());
  EXPECT_FALSE(Base64Decode("Z===").has_value());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").has_value());  // padding only at the end
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe", 2)), "//4=");
}

TEST(Md5Test, MatchesKnownVectors) {
  auto hex = [](const std::string& bytes) {
    std::string out;
    for (unsigned char c : bytes) {
      out += "0123456789abcdef"[c >> 4];
      out += "0123456789abcdef"[c & 15];
    }
    return out;
  };
  EXPECT_EQ(hex(Md5("user-1")), "d6d7705392bc7af633328bea8c4c6904");
  EXPECT_EQ(hex(Md5("\xc3\xa9")), "66ddcd97cfdeabb2f6fb8a999b4bc76f");  // é in UTF-8
}

}  // namespace
}  // namespace riffle::broker
