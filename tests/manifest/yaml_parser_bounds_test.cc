// Regression tests for inputs found by fuzzing (tests/fuzz/corpus/manifest/crash-*): yaml-cpp
// 0.7's LoadAll never returns on a stray top-level token (it yields null documents forever,
// memory growing). The loader must fail such a file quickly with a syntax error instead.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manifest/input_checks.h"
#include "src/manifest/manifest.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(YamlParserBoundsTest, CountStopsPastTheLimit) {
  EXPECT_EQ(CountYamlDocuments("a: 1\n---\nb: 2\n", 10), 2);
  EXPECT_EQ(CountYamlDocuments("", 10), 0);
  // The stray comma makes the parser yield documents forever; the count stops at limit + 1.
  EXPECT_EQ(CountYamlDocuments(",\n", 10), 11);
}

TEST(YamlParserBoundsTest, LoneCommaFailsTheFileInsteadOfHanging) {
  FileLoadResult result = LoadManifestText(",\n", "comma.yaml", LoadOptions{});
  EXPECT_TRUE(result.parse_failed);
  EXPECT_THAT(result.manifests, SizeIs(0));
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_EQ(result.errors[0].file, "comma.yaml");
  EXPECT_THAT(result.errors[0].message, HasSubstr("YAML syntax error"));
}

TEST(YamlParserBoundsTest, FuzzerFoundDirectiveInputFailsTheFile) {
  // tests/fuzz/corpus/manifest/crash-yaml-cpp-loadall-hang-directives.yaml
  const std::string text =
      "%YAML 1.2\n%TAG ! tag:example.com,2000:\n--- !DataCo,2000:\n--- !DataCYAML 1.2\n"
      "%TAG ! tag:example.com,2000:\n--- !piVersion: kustodian.io/v1.io/v1alpha2\n"
      "kind: DataConnection\n";
  FileLoadResult result = LoadManifestText(text, "fuzz.yaml", LoadOptions{});
  EXPECT_TRUE(result.parse_failed);
  EXPECT_THAT(result.manifests, SizeIs(0));
  EXPECT_THAT(result.errors, SizeIs(1));
}

}  // namespace
}  // namespace kustodian
