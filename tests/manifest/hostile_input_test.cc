// Hostile input is bounded: alias bombs, deep nesting, oversized files, invalid UTF-8, too many
// documents. Each fails cleanly with an error instead of exhausting memory, time or stack.
#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/manifest/input_checks.h"
#include "src/manifest/manifest.h"
#include "tests/manifest/manifest_test_util.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Nine levels of ten aliases each: 10^9 leaves once expanded.
std::string BillionLaughs() {
  std::string out = "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    out += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      out += (k ? ", " : "") + prev;
    }
    out += "]\n";
  }
  return out;
}

TEST(HostileInputTest, AliasBombIsBoundedAndReported) {
  const std::string yaml = testing::EventHubYaml() + "status:\n" + BillionLaughs();
  const auto start = std::chrono::steady_clock::now();
  FileLoadResult r = LoadManifestText(yaml, "bomb.yaml", LoadOptions{});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_FALSE(r.parse_failed);
  EXPECT_THAT(r.manifests, IsEmpty());
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].file, "bomb.yaml");
  EXPECT_THAT(r.errors[0].message, HasSubstr("100000 nodes"));
  EXPECT_THAT(r.errors[0].field, HasSubstr("status.l"));
}

TEST(HostileInputTest, AliasBombUnderSpecHitsTheConfiguredBound) {
  std::string bomb = testing::EventHubYaml() + "  bomb:\n  ";
  for (const char& c : BillionLaughs()) {
    bomb += c;
    if (c == '\n') {
      bomb += "  ";
    }
  }
  LoadOptions small;
  small.max_nodes_per_document = 1000;
  FileLoadResult r = LoadManifestText(bomb, "bomb.yaml", small);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("1000 nodes"));
  EXPECT_THAT(r.errors[0].field, ::testing::StartsWith("spec.bomb.l"));
}

TEST(HostileInputTest, OrdinaryAliasesAreFine) {
  std::string yaml = testing::EventHubYaml();
  yaml = "x-defaults: &rg testrg\n" + yaml;
  yaml.replace(yaml.find("resourceGroup: testrg"), 21, "resourceGroup: *rg");
  // `x-defaults` is an unknown top-level field: exactly that error, not an alias problem.
  FileLoadResult r = LoadManifestText(yaml, "alias.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].field, "x-defaults");
  std::string in_status = testing::EventHubYaml();
  in_status.replace(in_status.find("resourceGroup: testrg"), 21, "resourceGroup: &rg testrg");
  in_status += "status: {rg: *rg}\n";
  FileLoadResult ok = LoadManifestText(in_status, "alias.yaml", LoadOptions{});
  ASSERT_THAT(ok.errors, IsEmpty()) << ok.errors[0].ToString();
  EXPECT_EQ(ok.manifests[0].spec.id.resource_group, "testrg");
}

TEST(HostileInputTest, DeepNestingBeyondMaxDepth) {
  std::string nested;
  for (int i = 0; i < 100; ++i) {
    nested += "{a: ";
  }
  nested += "x";
  for (int i = 0; i < 100; ++i) {
    nested += "}";
  }
  FileLoadResult r =
      LoadManifestText(testing::EventHubYaml() + "status: " + nested + "\n", "deep.yaml", {});
  EXPECT_FALSE(r.parse_failed);
  EXPECT_THAT(r.manifests, IsEmpty());
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("deeper than 64"));
  EXPECT_EQ(r.errors[0].line, 21);
  EXPECT_THAT(r.errors[0].field, ::testing::StartsWith("status.a.a.a"));
}

TEST(HostileInputTest, ExtremeNestingIsASyntaxErrorNotACrash) {
  const std::string yaml = std::string(100000, '[') + std::string(100000, ']') + "\n";
  FileLoadResult r = LoadManifestText(yaml, "deep.yaml", LoadOptions{});
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("YAML syntax error"));
}

TEST(HostileInputTest, TextLargerThanLimit) {
  LoadOptions opts;
  opts.max_file_bytes = 100;
  FileLoadResult r = LoadManifestText(testing::EventHubYaml(), "big.yaml", opts);
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("limit of 100"));
}

TEST(HostileInputTest, FileLargerThanLimitIsNotRead) {
  testing::ScopedTempDir dir;
  const auto path = dir.Path() / "big.yaml";
  testing::WriteFile(path,
                     "# " + std::string(size_t{300} * 1024, 'x') + "\n" + testing::EventHubYaml());
  LoadOptions opts;
  opts.max_file_bytes = size_t{200} * 1024;
  FileLoadResult r = LoadManifestFile(path.string(), opts);
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("larger than the limit"));
  opts.max_file_bytes = size_t{400} * 1024;
  EXPECT_THAT(LoadManifestFile(path.string(), opts).manifests, SizeIs(1));
}

TEST(HostileInputTest, InvalidUtf8IsRejectedWithItsPosition) {
  std::string yaml = testing::EventHubYaml();
  yaml.insert(yaml.find("StormEvents") + 5, "\xC3\x28");  // line 17
  FileLoadResult r = LoadManifestText(yaml, "bin.yaml", LoadOptions{});
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].line, 17);
  EXPECT_EQ(r.errors[0].column, 21);
  EXPECT_THAT(r.errors[0].message, HasSubstr("UTF-8"));
}

TEST(FindInvalidUtf8Test, AcceptsValidRejectsMalformed) {
  EXPECT_FALSE(FindInvalidUtf8("plain ascii\n").has_value());
  EXPECT_FALSE(FindInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").has_value());
  EXPECT_FALSE(FindInvalidUtf8("\xEF\xBB\xBF"
                               "a: b")
                   .has_value());                                // BOM
  EXPECT_TRUE(FindInvalidUtf8("\xC0\xAF").has_value());          // overlong '/'
  EXPECT_TRUE(FindInvalidUtf8("\xED\xA0\x80").has_value());      // surrogate
  EXPECT_TRUE(FindInvalidUtf8("\xF4\x90\x80\x80").has_value());  // > U+10FFFF
  EXPECT_TRUE(FindInvalidUtf8("abc\xE2\x82").has_value());       // truncated
  EXPECT_TRUE(FindInvalidUtf8("\xFF").has_value());
  std::optional<TextPosition> p = FindInvalidUtf8("a\nbc\n\xC3\xA9x\x80");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->line, 3);
  EXPECT_EQ(p->column, 4);
}

TEST(HostileInputTest, TooManyDocuments) {
  LoadOptions opts;
  opts.max_documents = 2;
  const std::string yaml = "a: 1\n---\nb: 2\n---\nc: 3\n";
  FileLoadResult r = LoadManifestText(yaml, "many.yaml", opts);
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("limit of 2 documents"));
}

TEST(HostileInputTest, DocumentFloodIsRefusedBeforeParsing) {
  std::string flood;
  for (int i = 0; i < 200000; ++i) {
    flood += "---\n";
  }
  const auto start = std::chrono::steady_clock::now();
  FileLoadResult r = LoadManifestText(flood, "flood.yaml", LoadOptions{});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(r.parse_failed);
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("at least 200000 documents"));
}

TEST(CountDocumentMarkersTest, CountsOnlyMarkersAtLineStart) {
  EXPECT_EQ(CountDocumentMarkers("a: 1\n"), 0);
  EXPECT_EQ(CountDocumentMarkers("---\na: 1\n--- \nb: ---\n  ---\n----\n---"), 3);
  EXPECT_EQ(CountDocumentMarkers("--- !tag\r\n---\t# c\n"), 2);
}

TEST(HostileInputTest, NonScalarKeysAndOddDocumentsDoNotThrow) {
  const std::string yaml = testing::EventHubYaml() + "? [complex, key]\n: value\n";
  FileLoadResult r = LoadManifestText(yaml, "odd.yaml", LoadOptions{});
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_THAT(r.errors[0].message, HasSubstr("keys must be plain strings"));
  // Scalar documents and binary-looking but valid text.
  EXPECT_THAT(LoadManifestText("just a string\n", "s.yaml", {}).errors, SizeIs(1));
  EXPECT_THAT(LoadManifestText("!!binary aGVsbG8=\n", "s.yaml", {}).errors, SizeIs(1));
}

}  // namespace
}  // namespace kustodian
