// Number formatting, escaping and name validation of the Prometheus text format.
#include "src/metrics/text_format.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace kustodian {
namespace {

TEST(FormatMetricValueTest, IntegersHaveNoExponentOrPoint) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(-0.0), "0");
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(-42), "-42");
  EXPECT_EQ(FormatMetricValue(1790000000), "1790000000");
  EXPECT_EQ(FormatMetricValue(123456789012345.0), "123456789012345");
}

TEST(FormatMetricValueTest, FractionsAreShortestRoundTrip) {
  EXPECT_EQ(FormatMetricValue(0.005), "0.005");
  EXPECT_EQ(FormatMetricValue(1.25), "1.25");
  EXPECT_EQ(FormatMetricValue(1e-08), "1e-08");
  EXPECT_EQ(FormatMetricValue(1790000000.5), "1790000000.5");
  double third = 1.0 / 3.0;
  EXPECT_EQ(std::stod(FormatMetricValue(third)), third);
}

TEST(FormatMetricValueTest, SpecialValues) {
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(EscapeTest, LabelValueEscapesBackslashQuoteNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(EscapeTest, HelpEscapesBackslashNewlineButNotQuote) {
  EXPECT_EQ(EscapeHelp("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");
}

TEST(NameValidationTest, MetricNames) {
  EXPECT_TRUE(IsValidMetricName("workqueue_depth"));
  EXPECT_TRUE(IsValidMetricName("_x:y9"));
  EXPECT_TRUE(IsValidMetricName(":colon"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("9lives"));
  EXPECT_FALSE(IsValidMetricName("has-dash"));
  EXPECT_FALSE(IsValidMetricName("has space"));
}

TEST(NameValidationTest, LabelNames) {
  EXPECT_TRUE(IsValidLabelName("controller"));
  EXPECT_TRUE(IsValidLabelName("_x9"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName("__reserved"));
}

}  // namespace
}  // namespace kustodian
