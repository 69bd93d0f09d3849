// Regression tests for an input found by fuzzing the ARM codec
// (tests/fuzz/corpus/arm_codec/crash-id-percent-decodes-to-invalid-utf8.json): an id whose
// percent-encoded name decodes to bytes that are not UTF-8 ("d!C3%A9" -> "d!C3\xA9") was
// accepted, and writing that name to JSON later threw (nlohmann type_error 316) far from the
// input. Such ids are now rejected when parsed, with an error naming the segment.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/core/arm_id.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;

constexpr char kDb[] =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kusto/clusters/c/databases/db";

TEST(ArmIdUtf8Test, NameDecodingToInvalidUtf8IsRejected) {
  absl::StatusOr<DataConnectionId> id =
      DataConnectionId::Parse(absl::StrCat(kDb, "/dataConnections/d!C3%A9"));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(id.status().message(), HasSubstr("'d!C3%A9' is not UTF-8"));
}

TEST(ArmIdUtf8Test, OverlongAndSurrogateEncodingsAreRejected) {
  EXPECT_FALSE(DataConnectionId::Parse(absl::StrCat(kDb, "/dataConnections/a%C0%AF")).ok());
  EXPECT_FALSE(DataConnectionId::Parse(absl::StrCat(kDb, "/dataConnections/a%ED%A0%80")).ok());
  EXPECT_FALSE(DataConnectionId::Parse(absl::StrCat(kDb, "/dataConnections/a%F4%90%80%80")).ok());
  EXPECT_FALSE(DataConnectionId::Parse(absl::StrCat(kDb, "/dataConnections/a%E2%82")).ok());
}

TEST(ArmIdUtf8Test, PercentEncodedUtf8StillParses) {
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(
      absl::StrCat(kDb, "/dataConnections/caf%C3%A9-%E2%82%AC-%F0%9F%98%80"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->name, "caf\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace kustodian
