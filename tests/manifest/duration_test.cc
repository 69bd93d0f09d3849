#include "src/manifest/duration.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;

absl::Duration Parse(const char* s) {
  absl::StatusOr<absl::Duration> d = ParseGoDuration(s);
  EXPECT_TRUE(d.ok()) << s << ": " << d.status();
  return d.ok() ? *d : absl::InfiniteDuration();
}

std::string ErrorOf(const char* s) {
  absl::StatusOr<absl::Duration> d = ParseGoDuration(s);
  EXPECT_FALSE(d.ok()) << s << " parsed as " << absl::FormatDuration(*d);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(d.status().message());
}

TEST(ParseGoDurationTest, Units) {
  EXPECT_EQ(Parse("30s"), absl::Seconds(30));
  EXPECT_EQ(Parse("5m"), absl::Minutes(5));
  EXPECT_EQ(Parse("2h"), absl::Hours(2));
  EXPECT_EQ(Parse("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(Parse("7us"), absl::Microseconds(7));
  EXPECT_EQ(Parse("7\xC2\xB5s"), absl::Microseconds(7));
  EXPECT_EQ(Parse("9ns"), absl::Nanoseconds(9));
}

TEST(ParseGoDurationTest, CompoundFractionSignAndZero) {
  EXPECT_EQ(Parse("1h30m"), absl::Minutes(90));
  EXPECT_EQ(Parse("1h0m10s"), absl::Seconds(3610));
  EXPECT_EQ(Parse("1.5h"), absl::Minutes(90));
  EXPECT_EQ(Parse(".5s"), absl::Milliseconds(500));
  EXPECT_EQ(Parse("2.s"), absl::Seconds(2));
  EXPECT_EQ(Parse("-1m"), absl::Minutes(-1));
  EXPECT_EQ(Parse("+10s"), absl::Seconds(10));
  EXPECT_EQ(Parse("0"), absl::ZeroDuration());
  EXPECT_EQ(Parse("0s"), absl::ZeroDuration());
}

TEST(ParseGoDurationTest, Errors) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("empty"));
  EXPECT_THAT(ErrorOf("-"), HasSubstr("empty"));
  EXPECT_THAT(ErrorOf("10"), HasSubstr("missing unit"));
  EXPECT_THAT(ErrorOf("1h30"), HasSubstr("missing unit"));
  EXPECT_THAT(ErrorOf("5 m"), HasSubstr("unknown unit"));
  EXPECT_THAT(ErrorOf("5d"), HasSubstr("unknown unit \"d\""));
  EXPECT_THAT(ErrorOf("5min"), HasSubstr("unknown unit \"min\""));
  EXPECT_THAT(ErrorOf("h"), HasSubstr("expected a number"));
  EXPECT_THAT(ErrorOf(".s"), HasSubstr("expected a number"));
  EXPECT_THAT(ErrorOf("99999999999999999999h"), HasSubstr("overflow"));
  EXPECT_THAT(ErrorOf("9999999999999h"), HasSubstr("overflow"));
}

}  // namespace
}  // namespace kustodian
