#include "controller/live_cache.h"

#include <functional>

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

// An ArmClient whose LIST answers are scripted as ListAnswers (what ArmClientImpl's
// ListIfChanged would return), recording the fingerprint each call was given.
class ScriptedListArm : public ArmClient {
 public:
  std::vector<ListAnswer> answers;     // handed out in order
  std::vector<ListFingerprint> given;  // `previous` of each call (empty when none)
  std::function<void()> during;        // runs while the next LIST is in flight
  absl::StatusOr<ListAnswer> ListIfChanged(const DatabaseId&,
                                           const ListFingerprint* previous) override {
    given.push_back(previous != nullptr ? *previous : ListFingerprint{});
    if (during) {
      std::function<void()> run = std::move(during);
      during = nullptr;
      run();
    }
    if (answers.empty()) {
      return absl::InternalError("no scripted answer");
    }
    ListAnswer answer = std::move(answers.front());
    answers.erase(answers.begin());
    return answer;
  }
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId&) override {
    return absl::UnimplementedError("ListIfChanged only");
  }
  absl::StatusOr<LiveConnection> Get(const DataConnectionId&) override {
    return absl::UnimplementedError("");
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
};

ListFingerprint Fingerprint(uint64_t hash) {
  ListFingerprint fp;
  fp.pages.push_back(ListFingerprint::Page{hash, 100, ""});
  return fp;
}

ListAnswer Decoded(std::vector<LiveConnection> items, uint64_t hash) {
  ListAnswer answer;
  answer.items = std::move(items);
  answer.fingerprint = Fingerprint(hash);
  return answer;
}

ListAnswer Unchanged(uint64_t hash) {
  ListAnswer answer;
  answer.unchanged = true;
  answer.fingerprint = Fingerprint(hash);
  return answer;
}

// Issue 6: an answer byte-identical to the previous LIST keeps the cached entries (nothing is
// decoded or rebuilt), moves ListedAt and keeps the in-sync marks.
TEST(LiveCacheTest, UnchangedListKeepsTheCacheAndMovesListedAt) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  DatabaseId db = a.id.Database();
  ScriptedListArm arm;
  arm.answers.push_back(Decoded({LiveFrom(a), LiveFrom(b)}, 42));
  arm.answers.push_back(Unchanged(42));
  LiveCache::RefreshResult result;
  ASSERT_TRUE(cache.Refresh(db, arm, &result).ok());
  EXPECT_FALSE(result.unchanged);
  EXPECT_THAT(result.changed, ElementsAre(a.id.Key(), b.id.Key())) << "both appeared";
  EXPECT_TRUE(arm.given[0].pages.empty()) << "nothing to compare the first LIST with";
  cache.MarkInSync(a.id.Key(), "hash-a");

  clock.Advance(absl::Seconds(30));
  ASSERT_TRUE(cache.Refresh(db, arm, &result).ok());
  ASSERT_EQ(arm.given.size(), 2u);
  EXPECT_EQ(arm.given[1], Fingerprint(42)) << "the previous answer's fingerprint is passed";
  EXPECT_TRUE(result.unchanged);
  EXPECT_TRUE(result.changed.empty());
  EXPECT_EQ(cache.ListedAt(db.Key()), clock.Now());
  EXPECT_THAT(cache.KeysInDatabase(db.Key()), ElementsAre(a.id.Key(), b.id.Key()));
  ASSERT_TRUE(cache.Get(b.id.Key()).has_value());
  EXPECT_EQ(cache.Get(b.id.Key())->location, "East US 2");
  EXPECT_TRUE(cache.InSyncWith(a.id.Key(), "hash-a"));
  EXPECT_FALSE(cache.InSyncWith(a.id.Key(), "another-spec"));
  EXPECT_FALSE(cache.InSyncWith(b.id.Key(), "hash-a")) << "b was never marked";
}

// A changed answer replaces the entries; only the keys whose entry differs (or that appeared or
// vanished) are reported changed and lose their marks.
TEST(LiveCacheTest, ChangedListUpdatesTheCacheAndDropsOnlyChangedMarks) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  DataConnectionSpec c = MakeSpec("c");
  DataConnectionSpec d = MakeSpec("d");
  DatabaseId db = a.id.Database();
  ScriptedListArm arm;
  arm.answers.push_back(Decoded({LiveFrom(a), LiveFrom(b), LiveFrom(c)}, 1));
  LiveConnection b_drifted = LiveFrom(b);
  b_drifted.properties["consumerGroup"] = "changed";
  arm.answers.push_back(Decoded({LiveFrom(a), b_drifted, LiveFrom(d)}, 2));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  for (const DataConnectionSpec* spec : {&a, &b, &c}) {
    cache.MarkInSync(spec->id.Key(), "h");
  }
  LiveCache::RefreshResult result;
  ASSERT_TRUE(cache.Refresh(db, arm, &result).ok());
  EXPECT_EQ(arm.given[1], Fingerprint(1));
  EXPECT_FALSE(result.unchanged);
  EXPECT_THAT(result.changed, ElementsAre(b.id.Key(), c.id.Key(), d.id.Key()));
  EXPECT_TRUE(cache.InSyncWith(a.id.Key(), "h")) << "a is the same: its mark stays";
  EXPECT_FALSE(cache.InSyncWith(b.id.Key(), "h"));
  EXPECT_FALSE(cache.InSyncWith(c.id.Key(), "h"));
  EXPECT_EQ(cache.Get(b.id.Key())->properties["consumerGroup"], "changed");
  EXPECT_FALSE(cache.Get(c.id.Key()).has_value());
  EXPECT_TRUE(cache.Get(d.id.Key()).has_value());
  // The new answer's fingerprint is the one compared next time.
  arm.answers.push_back(Unchanged(2));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_EQ(arm.given[2], Fingerprint(2));
}

// A Put or Erase since the last LIST must be overwritten by the next LIST's answer, so that
// LIST is decoded (no fingerprint is passed). Put and Erase drop the key's mark.
TEST(LiveCacheTest, WritesSinceTheLastListForceADecodedList) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DatabaseId db = a.id.Database();
  ScriptedListArm arm;
  arm.answers.push_back(Decoded({LiveFrom(a)}, 7));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  cache.MarkInSync(a.id.Key(), "h");
  LiveConnection written = LiveFrom(a);
  written.provisioning_state = "Updating";
  cache.Put(written);
  EXPECT_FALSE(cache.InSyncWith(a.id.Key(), "h")) << "a Put is a new entry";

  arm.answers.push_back(Decoded({LiveFrom(a)}, 7));
  LiveCache::RefreshResult result;
  ASSERT_TRUE(cache.Refresh(db, arm, &result).ok());
  EXPECT_TRUE(arm.given[1].pages.empty());
  EXPECT_THAT(result.changed, ElementsAre(a.id.Key()));
  EXPECT_EQ(cache.Get(a.id.Key())->provisioning_state, "Succeeded") << "the LIST wins";

  cache.MarkInSync(a.id.Key(), "h");
  arm.answers.push_back(Unchanged(7));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_EQ(arm.given[2], Fingerprint(7)) << "no write since: compared again";
  EXPECT_TRUE(cache.InSyncWith(a.id.Key(), "h"));
  cache.Erase(a.id.Key());
  EXPECT_FALSE(cache.InSyncWith(a.id.Key(), "h"));
  cache.MarkInSync(a.id.Key(), "h");  // no entry: nothing to mark
  EXPECT_FALSE(cache.InSyncWith(a.id.Key(), "h"));
}

// A write made while an unchanged LIST is in flight wins over it, and the next LIST is decoded
// (it must overwrite that write, as a decoded answer would have at once).
TEST(LiveCacheTest, WriteDuringAnUnchangedListWinsAndForcesTheNextDecode) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DatabaseId db = a.id.Database();
  ScriptedListArm arm;
  arm.answers.push_back(Decoded({LiveFrom(a)}, 5));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  LiveConnection writing = LiveFrom(a);
  writing.provisioning_state = "Updating";
  arm.during = [&] { cache.Put(writing); };
  arm.answers.push_back(Unchanged(5));
  LiveCache::RefreshResult result;
  ASSERT_TRUE(cache.Refresh(db, arm, &result).ok());
  EXPECT_TRUE(result.unchanged);
  EXPECT_EQ(cache.Get(a.id.Key())->provisioning_state, "Updating");
  arm.answers.push_back(Decoded({LiveFrom(a)}, 5));
  ASSERT_TRUE(cache.Refresh(db, arm, &result).ok());
  EXPECT_TRUE(arm.given[2].pages.empty()) << "decoded: the write is older than this LIST";
  EXPECT_EQ(cache.Get(a.id.Key())->provisioning_state, "Succeeded");
  EXPECT_THAT(result.changed, ElementsAre(a.id.Key()));
}

// A failed LIST keeps the fingerprint: the next answer is still compared with the last good one.
TEST(LiveCacheTest, FailedListKeepsTheFingerprint) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DatabaseId db = a.id.Database();
  ScriptedListArm arm;
  arm.answers.push_back(Decoded({LiveFrom(a)}, 9));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  const std::optional<absl::Time> listed = cache.ListedAt(db.Key());
  clock.Advance(absl::Seconds(30));
  EXPECT_FALSE(cache.Refresh(db, arm).ok());  // no scripted answer: an error
  EXPECT_EQ(cache.ListedAt(db.Key()), listed);
  arm.answers.push_back(Unchanged(9));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_EQ(arm.given[2], Fingerprint(9));
  EXPECT_TRUE(cache.Get(a.id.Key()).has_value());
}

// Issue 6: the same with fingerprints. Writes made during a decoded LIST win over it, and the
// next LIST is decoded (not compared with that LIST), so it overwrites them.
TEST(LiveCacheTest, WritesDuringADecodedListForceTheNextDecode) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DatabaseId db = a.id.Database();
  ScriptedListArm arm;
  LiveConnection writing = LiveFrom(a);
  writing.provisioning_state = "Updating";
  arm.during = [&] { cache.Put(writing); };
  arm.answers.push_back(Decoded({LiveFrom(a)}, 3));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_EQ(cache.Get(a.id.Key())->provisioning_state, "Updating");
  arm.answers.push_back(Decoded({LiveFrom(a)}, 3));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_TRUE(arm.given[1].pages.empty()) << "not compared: it must overwrite the write";
  EXPECT_EQ(cache.Get(a.id.Key())->provisioning_state, "Succeeded");
  arm.answers.push_back(Unchanged(3));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  EXPECT_EQ(arm.given[2], Fingerprint(3));
}

// Entries keep their properties as compact JSON text: Get gives back the same tree, whatever it
// holds, and every other field as it was put.
TEST(LiveCacheTest, GetGivesBackWhatWasPutWholeAndExact) {
  FakeClock clock;
  LiveCache cache(clock);
  LiveConnection live = LiveFrom(MakeSpec("a"));
  live.kind_name = "EventHub";
  live.provisioning_state = "Updating";
  live.properties = nlohmann::json::parse(R"({
      "tableName": "T\u00e9st \"quoted\" \u2603", "compression": null, "retrieval": false,
      "eventSystemProperties": ["x-opt-enqueued-time", "x-opt-offset"], "count": 42,
      "ratio": 0.25, "big": 18446744073709551615, "negative": -7, "empty": {}, "emptyList": [],
      "nested": {"b": [1, {"c": "d"}], "a": "z"}})");
  cache.Put(live);
  std::optional<LiveConnection> got = cache.Get(live.id.Key());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->properties, live.properties) << got->properties.dump();
  EXPECT_EQ(got->id, live.id);
  EXPECT_EQ(got->id.name, live.id.name);
  EXPECT_EQ(got->location, live.location);
  EXPECT_EQ(got->kind_name, live.kind_name);
  EXPECT_EQ(got->kind, live.kind);
  EXPECT_EQ(got->provisioning_state, "Updating");
  // A second Get is as good as the first (Get parses a copy; the entry is not consumed).
  EXPECT_EQ(cache.Get(live.id.Key())->properties, live.properties);
}

// An answer whose entry is the same tree with its keys in another order is not a change: the
// key keeps its in-sync mark.
TEST(LiveCacheTest, SameTreeInAnotherKeyOrderIsNotAChange) {
  FakeClock clock;
  LiveCache cache(clock);
  DataConnectionSpec a = MakeSpec("a");
  DatabaseId db = a.id.Database();
  LiveConnection first = LiveFrom(a);
  first.properties = nlohmann::json::parse(R"({"tableName": "t", "consumerGroup": "cg"})");
  LiveConnection second = LiveFrom(a);
  second.properties = nlohmann::json::object();
  second.properties["consumerGroup"] = "cg";
  second.properties["tableName"] = "t";
  ScriptedListArm arm;
  arm.answers.push_back(Decoded({first}, 1));
  arm.answers.push_back(Decoded({second}, 2));
  ASSERT_TRUE(cache.Refresh(db, arm).ok());
  cache.MarkInSync(a.id.Key(), "h");
  LiveCache::RefreshResult result;
  ASSERT_TRUE(cache.Refresh(db, arm, &result).ok());
  EXPECT_TRUE(result.changed.empty());
  EXPECT_TRUE(cache.InSyncWith(a.id.Key(), "h"));
}

}  // namespace
}  // namespace kustodian
