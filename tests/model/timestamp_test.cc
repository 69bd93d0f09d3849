#include "src/model/timestamp.h"

#include "gtest/gtest.h"

namespace kustodian {
namespace {

absl::Time Civil(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(Rfc3339Test, ParsesSevenFractionalDigitsExactly) {
  absl::StatusOr<absl::Time> t = ParseRfc3339("2022-07-29T12:00:00.6554616Z");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, Civil(2022, 7, 29, 12, 0, 0) + absl::Nanoseconds(655461600));
}

TEST(Rfc3339Test, YearOneWithAndWithoutFractionAreTheSameInstant) {
  absl::StatusOr<absl::Time> sent = ParseRfc3339("0001-01-01T00:00:00.0000000Z");
  absl::StatusOr<absl::Time> read = ParseRfc3339("0001-01-01T00:00:00Z");
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*sent, *read);
  EXPECT_EQ(*read, Civil(1, 1, 1, 0, 0, 0));
}

TEST(Rfc3339Test, TrimmedTrailingZerosAreTheSameInstant) {
  EXPECT_EQ(*ParseRfc3339("2025-06-01T10:00:05.1200000Z"),
            *ParseRfc3339("2025-06-01T10:00:05.12Z"));
  EXPECT_NE(*ParseRfc3339("2025-06-01T10:00:05.1200001Z"),
            *ParseRfc3339("2025-06-01T10:00:05.12Z"));
}

TEST(Rfc3339Test, AppliesOffsets) {
  EXPECT_EQ(*ParseRfc3339("2025-06-01T12:30:00+02:30"), *ParseRfc3339("2025-06-01T10:00:00Z"));
  EXPECT_EQ(*ParseRfc3339("2025-06-01T05:00:00-05:00"), *ParseRfc3339("2025-06-01T10:00:00z"));
}

TEST(Rfc3339Test, RejectsMalformed) {
  for (const char* bad :
       {"", "yesterday", "2025-06-01", "2025-06-01T10:00:00", "2025-02-30T00:00:00Z",
        "2025-13-01T00:00:00Z", "2025-06-01T24:00:00Z", "2025-06-01T10:00:00.Z",
        "2025-06-01T10:00:00.1234567890Z", "2025-06-01T10:00:00+0200", "2025-06-01T10:00:00Z junk",
        "2025-6-01T10:00:00Z"}) {
    absl::StatusOr<absl::Time> t = ParseRfc3339(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_NE(std::string(t.status().message()).find("RFC 3339"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace kustodian
