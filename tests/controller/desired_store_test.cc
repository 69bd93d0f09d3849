#include "controller/desired_store.h"

#include "controller/stable_hash.h"
#include "gtest/gtest.h"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing_util::MakeSpec;

TEST(DesiredStoreTest, ApplyFileReportsAddedModifiedAndRemovedKeys) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  EXPECT_THAT(store.ApplyFile("f.yaml", {a, b}), ElementsAre(a.id.Key(), b.id.Key()));
  // Same content again: nothing changed.
  EXPECT_THAT(store.ApplyFile("f.yaml", {a, b}), IsEmpty());
  DataConnectionSpec a2 = a;
  a2.properties["tableName"] = "Other";
  EXPECT_THAT(store.ApplyFile("f.yaml", {a2}), ElementsAre(a.id.Key(), b.id.Key()));
  EXPECT_FALSE(store.Get(b.id.Key()).has_value());
  ASSERT_TRUE(store.Get(a.id.Key()).has_value());
  EXPECT_EQ(store.Get(a.id.Key())->spec.properties["tableName"], "Other");
  EXPECT_EQ(store.Get(a.id.Key())->file, "f.yaml");
}

TEST(DesiredStoreTest, SpecHashIgnoresPropertyOrderButNotValues) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  store.ApplyFile("f.yaml", {a});
  std::string hash = store.Get(a.id.Key())->spec_hash;
  EXPECT_EQ(hash.size(), 16u);
  DataConnectionSpec same = a;
  same.location = "East US 2";  // normalized location: same spec
  EXPECT_THAT(store.ApplyFile("f.yaml", {same}), IsEmpty());
  DataConnectionSpec other = a;
  other.policy.deletion = DeletionPolicy::kOrphan;
  store.ApplyFile("f.yaml", {other});
  EXPECT_NE(store.Get(a.id.Key())->spec_hash, hash);
}

TEST(DesiredStoreTest, KeepFileKeepsEntriesAndRecordsErrors) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  store.ApplyFile("f.yaml", {a});
  store.KeepFile("f.yaml", {"f.yaml:3:1: bad indentation"});
  EXPECT_TRUE(store.Get(a.id.Key()).has_value());
  EXPECT_THAT(store.FileErrors()["f.yaml"], ElementsAre("f.yaml:3:1: bad indentation"));
  // A good load clears the errors.
  store.ApplyFile("f.yaml", {a});
  EXPECT_TRUE(store.FileErrors().empty());
}

TEST(DesiredStoreTest, RejectedKeysKeepTheirLastGoodEntry) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  store.ApplyFile("f.yaml", {a, b});
  EXPECT_THAT(store.ApplyFile("f.yaml", {a}, {b.id.Key()}, {"f.yaml:9: bad field"}), IsEmpty());
  EXPECT_TRUE(store.Get(b.id.Key()).has_value());
  EXPECT_EQ(store.FileErrors().size(), 1u);
}

TEST(DesiredStoreTest, RemoveFileDropsItsKeys) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  store.ApplyFile("f.yaml", {a});
  store.ApplyFile("g.yaml", {b});
  EXPECT_THAT(store.RemoveFile("f.yaml"), ElementsAre(a.id.Key()));
  EXPECT_THAT(store.Keys(), ElementsAre(b.id.Key()));
  EXPECT_THAT(store.RemoveFile("missing.yaml"), IsEmpty());
}

TEST(DesiredStoreTest, KeyClaimedByTwoFilesIsAConflictAndNeverADeletion) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  store.ApplyFile("f.yaml", {a});
  DataConnectionSpec a_other = a;
  a_other.properties["tableName"] = "FromG";
  EXPECT_THAT(store.ApplyFile("g.yaml", {a_other}), IsEmpty());
  // The entry applied before the conflict stays; neither new claim applies.
  ASSERT_TRUE(store.Get(a.id.Key()).has_value());
  EXPECT_EQ(store.Get(a.id.Key())->file, "f.yaml");
  auto errors = store.FileErrors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors["f.yaml"][0].find("g.yaml"), std::string::npos);
  EXPECT_NE(errors["g.yaml"][0].find("f.yaml"), std::string::npos);
  // f gives the key up: g's declaration applies.
  EXPECT_THAT(store.ApplyFile("f.yaml", {}), ElementsAre(a.id.Key()));
  EXPECT_EQ(store.Get(a.id.Key())->file, "g.yaml");
  EXPECT_TRUE(store.FileErrors().empty());
}

TEST(DesiredStoreTest, NewKeyClaimedByTwoFilesDoesNotApply) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  store.ApplyFile("f.yaml", {a});
  store.RemoveFile("f.yaml");
  store.ApplyFile("f.yaml", {a});
  store.ApplyFile("g.yaml", {a});
  EXPECT_TRUE(store.Get(a.id.Key()).has_value());  // f applied first, before g came
  DesiredStore fresh;
  fresh.KeepFile("f.yaml", {});
  fresh.ApplyFile("g.yaml", {a, a});  // declared twice in one file
  EXPECT_FALSE(fresh.Get(a.id.Key()).has_value());
  EXPECT_EQ(fresh.FileErrors()["g.yaml"].size(), 1u);
}

TEST(DesiredStoreTest, IndexesByDatabase) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a", "c1", "db1");
  DataConnectionSpec b = MakeSpec("b", "c1", "db2");
  DataConnectionSpec c = MakeSpec("c", "c1", "db1");
  store.ApplyFile("f.yaml", {a, b, c});
  std::string db1 = a.id.Database().Key();
  EXPECT_THAT(store.ForDatabase(db1), ElementsAre(a.id.Key(), c.id.Key()));
  ASSERT_EQ(store.Databases().size(), 2u);
  store.ApplyFile("f.yaml", {a});
  EXPECT_EQ(store.Databases().size(), 1u);
  EXPECT_THAT(store.ForDatabase(db1), ElementsAre(a.id.Key()));
  EXPECT_THAT(store.ForDatabase(b.id.Database().Key()), IsEmpty());
}

// Issue 6: the store keeps properties as compact text; Get hands back exactly the tree that
// was applied (types, nesting, Unicode, key order), and SpecHash/Contains copy nothing else.
TEST(DesiredStoreTest, GetRestoresThePropertiesExactly) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  a.properties["maxBatchSize"] = 1000;
  a.properties["ratio"] = 0.1;
  a.properties["negative"] = -7;
  a.properties["flag"] = false;
  a.properties["nothing"] = nullptr;
  a.properties["nested"] = {{"list", {1, "two", {{"three", 3.5}}}},
                            {"empty", nlohmann::json::object()}};
  a.properties["text"] = "Ünïcødé \"quoted\"\n\ttab";
  store.ApplyFile("f.yaml", {a});
  std::optional<DesiredEntry> got = store.Get(a.id.Key());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->spec.properties, a.properties);
  EXPECT_EQ(got->spec.properties.dump(), a.properties.dump());
  EXPECT_EQ(got->spec.id, a.id);
  EXPECT_EQ(got->file, "f.yaml");
  EXPECT_EQ(got->spec_hash, SpecHash(a));
  EXPECT_EQ(store.SpecHash(a.id.Key()), SpecHash(a));
  EXPECT_TRUE(store.Contains(a.id.Key()));
  EXPECT_FALSE(store.Contains(MakeSpec("b").id.Key()));
  EXPECT_EQ(store.SpecHash(MakeSpec("b").id.Key()), std::nullopt);

  DataConnectionSpec a2 = a;
  a2.properties["tableName"] = "Other";
  store.ApplyFile("f.yaml", {a2});
  EXPECT_EQ(store.Get(a.id.Key())->spec.properties["tableName"], "Other");
  EXPECT_EQ(store.SpecHash(a.id.Key()), SpecHash(a2));
  store.RemoveFile("f.yaml");
  EXPECT_FALSE(store.Contains(a.id.Key()));
  EXPECT_EQ(store.Get(a.id.Key()), std::nullopt);
}

TEST(DesiredStoreTest, MinResyncIntervalAndDatabasesByKey) {
  DesiredStore store;
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  DataConnectionSpec c = MakeSpec("c", "c1", "db2");
  a.policy.resync_interval = absl::Minutes(5);
  b.policy.resync_interval = absl::Minutes(2);
  c.policy.resync_interval = absl::ZeroDuration();
  store.ApplyFile("f.yaml", {a, b, c});
  EXPECT_EQ(store.MinResyncInterval(a.id.Database().Key()), absl::Minutes(2));
  EXPECT_EQ(store.MinResyncInterval(c.id.Database().Key()), absl::ZeroDuration());
  EXPECT_EQ(store.MinResyncInterval("/no/such/db"), absl::ZeroDuration());
  store.ApplyFile("f.yaml", {a, c});  // b is gone
  EXPECT_EQ(store.MinResyncInterval(a.id.Database().Key()), absl::Minutes(5));

  std::vector<std::pair<std::string, DatabaseId>> dbs = store.DatabasesByKey();
  ASSERT_EQ(dbs.size(), 2u);
  std::vector<DatabaseId> plain = store.Databases();
  ASSERT_EQ(plain.size(), 2u);
  for (size_t i = 0; i < dbs.size(); ++i) {
    EXPECT_EQ(dbs[i].first, dbs[i].second.Key());
    EXPECT_EQ(dbs[i].first, plain[i].Key());
  }
  EXPECT_EQ(dbs[0].first, a.id.Database().Key());
  EXPECT_EQ(dbs[1].first, c.id.Database().Key());
}

TEST(DesiredStoreTest, FilesExceptListsTheFilesAPassDidNotSee) {
  DesiredStore store;
  store.ApplyFile("a.yaml", {MakeSpec("a")});
  store.ApplyFile("b.yaml", {MakeSpec("b")});
  store.KeepFile("c.yaml", {"c.yaml:1:1: spec: broken"});
  EXPECT_THAT(store.FilesExcept([](const std::string& f) { return f == "b.yaml"; }),
              ElementsAre("a.yaml", "c.yaml"));
  EXPECT_THAT(store.FilesExcept([](const std::string&) { return true; }), IsEmpty());
}

}  // namespace
}  // namespace kustodian
