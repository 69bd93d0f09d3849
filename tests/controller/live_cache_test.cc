#include "controller/live_cache.h"

#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using testing_util::LiveFrom;
using testing_util::MakeSpec;

TEST(LiveCacheTest, RefreshDoesOneListAndReplacesTheDatabase) {
  FakeClock clock;
  FakeArmClient arm(&clock);
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  DataConnectionSpec other_db = MakeSpec("x", "c1", "db2");
  arm.SetConnection(LiveFrom(a));
  arm.SetConnection(LiveFrom(b));
  arm.SetConnection(LiveFrom(other_db));
  DatabaseId db = a.id.Database();
  EXPECT_FALSE(cache.HasListed(db.Key()));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_EQ(arm.calls(FakeArmClient::Method::kList), 1);
  EXPECT_TRUE(cache.HasListed(db.Key()));
  EXPECT_EQ(cache.ListedAt(db.Key()), clock.Now());
  EXPECT_THAT(cache.KeysInDatabase(db.Key()), ElementsAre(a.id.Key(), b.id.Key()));
  EXPECT_FALSE(cache.Get(other_db.id.Key()).has_value());

  arm.RemoveConnection(b.id);
  clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_THAT(cache.KeysInDatabase(db.Key()), ElementsAre(a.id.Key()));
  EXPECT_EQ(cache.ListedAt(db.Key()), clock.Now());
}

TEST(LiveCacheTest, ListErrorKeepsTheCache) {
  FakeClock clock;
  FakeArmClient arm(&clock);
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  arm.SetConnection(LiveFrom(a));
  ASSERT_TRUE(cache.Refresh(a.id.Database(), arm).ok());
  arm.InjectError(FakeArmClient::Method::kList, absl::UnavailableError("503"));
  arm.RemoveConnection(a.id);
  absl::Status st = cache.Refresh(a.id.Database(), arm);
  EXPECT_TRUE(absl::IsUnavailable(st));
  EXPECT_TRUE(cache.Get(a.id.Key()).has_value());

  LiveCache empty(clock);
  arm.InjectError(FakeArmClient::Method::kList, absl::UnavailableError("503"));
  EXPECT_FALSE(empty.Refresh(a.id.Database(), arm).ok());
  EXPECT_FALSE(empty.HasListed(a.id.Database().Key()));
}

TEST(LiveCacheTest, PutAndErase) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  cache.Put(LiveFrom(a));
  ASSERT_TRUE(cache.Get(a.id.Key()).has_value());
  EXPECT_EQ(cache.Get(a.id.Key())->location, "East US 2");
  EXPECT_FALSE(cache.HasListed(a.id.Database().Key()));  // a Put is not a LIST
  cache.Erase(a.id.Key());
  EXPECT_FALSE(cache.Get(a.id.Key()).has_value());
}

TEST(LiveCacheTest, WritesDuringAListWinOverItsOlderAnswer) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  // The LIST answer says a exists and b does not, while during the LIST the reconciler
  // created b and deleted a.
  FakeArmClient arm(&clock);
  arm.SetConnection(LiveFrom(a));
  ASSERT_TRUE(cache.Refresh(a.id.Database(), arm).ok());
  struct RacingArm : ArmClient {
    LiveCache* cache;
    std::vector<LiveConnection> answer;
    LiveConnection b_live;
    std::string a_key;
    absl::StatusOr<LiveConnection> Get(const DataConnectionId&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId&) override {
      cache->Put(b_live);
      cache->Erase(a_key);
      return answer;
    }
    absl::StatusOr<WriteResult> Put(const DataConnectionSpec&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<WriteResult> Delete(const DataConnectionId&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<PollResult> Poll(const ArmOperation&) override {
      return absl::UnimplementedError("");
    }
    absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec&) override {
      return absl::UnimplementedError("");
    }
  } racing;
  racing.cache = &cache;
  racing.answer = {LiveFrom(a)};
  racing.b_live = LiveFrom(b);
  racing.a_key = a.id.Key();
  ASSERT_TRUE(cache.Refresh(a.id.Database(), racing).ok());
  EXPECT_FALSE(cache.Get(a.id.Key()).has_value());
  EXPECT_TRUE(cache.Get(b.id.Key()).has_value());
  // A later LIST is authoritative again.
  ASSERT_TRUE(cache.Refresh(a.id.Database(), arm).ok());
  EXPECT_TRUE(cache.Get(a.id.Key()).has_value());
  EXPECT_FALSE(cache.Get(b.id.Key()).has_value());
}

// Issue 6: Get finds the database of a key by cutting the key instead of parsing it; names
// that look like id segments once encoded must still be found, and keys Key() did not write
// (other casing, not an id) find nothing.
TEST(LiveCacheTest, GetFindsKeysWhateverTheNameLooksLike) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec plain = MakeSpec("a");
  DataConnectionSpec tricky = MakeSpec("x/dataconnections/y");
  DataConnectionSpec segment = MakeSpec("dataconnections");
  for (const DataConnectionSpec* spec : {&plain, &tricky, &segment}) {
    cache.Put(LiveFrom(*spec));
  }
  for (const DataConnectionSpec* spec : {&plain, &tricky, &segment}) {
    std::optional<LiveConnection> got = cache.Get(spec->id.Key());
    ASSERT_TRUE(got.has_value()) << spec->id.Key();
    EXPECT_EQ(got->id.name, spec->id.name);
  }
  EXPECT_THAT(cache.KeysInDatabase(plain.id.Database().Key()),
              ElementsAre(plain.id.Key(), segment.id.Key(), tricky.id.Key()));
  EXPECT_FALSE(cache.Get(plain.id.RequestPath()).has_value());  // not lower case: not a key
  EXPECT_FALSE(cache.Get("not-an-id").has_value());
  EXPECT_FALSE(cache.Get(plain.id.Database().Key()).has_value());
  EXPECT_FALSE(cache.Get("").has_value());
}

}  // namespace
}  // namespace kustodian
