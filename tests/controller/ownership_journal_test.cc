#include "controller/ownership_journal.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "controller/state_lock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::ReadText;
using testing_util::ScopedDir;
using testing_util::WriteText;

OwnershipRecord Record(const std::string& id, OwnershipRecord::Origin origin) {
  OwnershipRecord r;
  r.id = id;
  r.kind = "EventHub";
  r.deletion = DeletionPolicy::kOrphan;
  r.file = "m.yaml";
  r.origin = origin;
  r.since = absl::FromUnixSeconds(1'790'000'000);
  r.last_applied_hash = "0123456789abcdef";
  return r;
}

TEST(OwnershipJournalTest, DatabaseIndexFollowsEveryChangeAndReload) {
  ScopedDir dir;
  const std::string db1 =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kusto/clusters/c/"
      "databases/db1/dataConnections/";
  const std::string db2 =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kusto/clusters/c/"
      "databases/DB2/dataConnections/";
  auto key = [](const std::string& id) { return AsciiLower(id); };
  {
    auto journal = OwnershipJournal::Open(dir.path());
    ASSERT_TRUE(journal.ok());
    for (const std::string& id : {db1 + "a", db1 + "b", db2 + "c"}) {
      (*journal)->Add(key(id), Record(id, OwnershipRecord::Origin::kCreated));
    }
    auto dbs = (*journal)->Databases();
    ASSERT_EQ(dbs.size(), 2u);
    std::string db1_key = DataConnectionId::Parse(db1 + "a")->Database().Key();
    std::string db2_key = DataConnectionId::Parse(db2 + "c")->Database().Key();
    EXPECT_EQ(dbs.count(db1_key), 1u);
    EXPECT_EQ(dbs.at(db2_key).database, "DB2");
    EXPECT_THAT((*journal)->KeysOfDatabase(db1_key), ElementsAre(key(db1 + "a"), key(db1 + "b")));
    EXPECT_TRUE((*journal)->Remove(key(db2 + "c")));
    EXPECT_EQ((*journal)->Databases().size(), 1u);
    EXPECT_TRUE((*journal)->KeysOfDatabase(db2_key).empty());
    EXPECT_TRUE((*journal)->SetLastAppliedHash(key(db1 + "a"), "h"));
    ASSERT_TRUE((*journal)->Flush().ok());
  }
  auto reloaded = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(reloaded.ok());
  std::string db1_key = DataConnectionId::Parse(db1 + "a")->Database().Key();
  EXPECT_THAT((*reloaded)->KeysOfDatabase(db1_key), ElementsAre(key(db1 + "a"), key(db1 + "b")));
  EXPECT_EQ((*reloaded)->Databases().size(), 1u);
}

TEST(OwnershipJournalTest, MissingFileIsEmpty) {
  ScopedDir dir;
  auto journal = OwnershipJournal::Open(dir.path() + "/state");
  ASSERT_TRUE(journal.ok()) << journal.status();
  EXPECT_EQ((*journal)->size(), 0u);
  EXPECT_FALSE((*journal)->Dirty());
}

TEST(OwnershipJournalTest, SurvivesReloadFromDisk) {
  ScopedDir dir;
  {
    auto journal = OwnershipJournal::Open(dir.path());
    ASSERT_TRUE(journal.ok());
    (*journal)->Add("k1", Record("/subscriptions/s/x/k1", OwnershipRecord::Origin::kCreated));
    (*journal)->Add("k2", Record("/subscriptions/s/x/k2", OwnershipRecord::Origin::kAdopted));
    (*journal)->Add("k3", Record("/subscriptions/s/x/k3", OwnershipRecord::Origin::kCreated));
    EXPECT_TRUE((*journal)->Remove("k3"));
    EXPECT_FALSE((*journal)->Remove("k3"));
    EXPECT_TRUE((*journal)->Dirty());
    ASSERT_TRUE((*journal)->Flush().ok());
    EXPECT_FALSE((*journal)->Dirty());
  }
  auto reloaded = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  auto all = (*reloaded)->All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all["k1"], Record("/subscriptions/s/x/k1", OwnershipRecord::Origin::kCreated));
  EXPECT_EQ(all["k2"], Record("/subscriptions/s/x/k2", OwnershipRecord::Origin::kAdopted));
  // Flushes append to the log; Compact folds it into the snapshot.
  EXPECT_THAT(dir.Names(), ElementsAre("managed.log"));
  ASSERT_TRUE((*reloaded)->Compact().ok());
  EXPECT_EQ(ReadText(dir.path() + "/managed.log"), "");
  EXPECT_EQ(OwnershipJournal::Load(dir.path())->records, all);
  std::string text = ReadText(dir.path() + "/managed.json");
  EXPECT_THAT(text, HasSubstr("\"version\": 1"));
  EXPECT_THAT(text, HasSubstr("\"adoptedAt\": \"2026-"));
  EXPECT_THAT(text, HasSubstr("\"createdAt\""));
  EXPECT_THAT(text, HasSubstr("\"deletion\": \"Orphan\""));
}

TEST(OwnershipJournalTest, UnflushedChangesAreNotOnDisk) {
  ScopedDir dir;
  {
    auto journal = OwnershipJournal::Open(dir.path());
    ASSERT_TRUE(journal.ok());
    (*journal)->Add("k1", Record("/x/k1", OwnershipRecord::Origin::kCreated));
  }
  auto reloaded = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ((*reloaded)->size(), 0u);
}

TEST(OwnershipJournalTest, AtomicWriteLeavesNoTempFiles) {
  ScopedDir dir;
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok());
  for (int i = 0; i < 5; ++i) {
    (*journal)->Add(absl::StrCat("k", i), Record("/x", OwnershipRecord::Origin::kCreated));
    ASSERT_TRUE((*journal)->Flush().ok());
    ASSERT_TRUE((*journal)->Compact().ok());
  }
  EXPECT_THAT(dir.Names(), ElementsAre("managed.json", "managed.log"));
}

TEST(OwnershipJournalTest, FlushWithNothingNewDoesNotRewrite) {
  ScopedDir dir;
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok());
  (*journal)->Add("k1", Record("/x", OwnershipRecord::Origin::kCreated));
  ASSERT_TRUE((*journal)->Flush().ok());
  // Changing the file behind the journal's back shows whether a second Flush wrote to it.
  WriteText(dir.path() + "/managed.log", "sentinel");
  ASSERT_TRUE((*journal)->Flush().ok());
  EXPECT_EQ(ReadText(dir.path() + "/managed.log"), "sentinel");
  // Likewise a Compact finding the snapshot complete and the log empty.
  ASSERT_TRUE((*journal)->Compact().ok());
  EXPECT_EQ(ReadText(dir.path() + "/managed.log"), "");
  WriteText(dir.path() + "/managed.json", "sentinel");
  ASSERT_TRUE((*journal)->Compact().ok());
  EXPECT_EQ(ReadText(dir.path() + "/managed.json"), "sentinel");
  // Re-adding an identical record is not a change either.
  (*journal)->Add("k1", Record("/x", OwnershipRecord::Origin::kCreated));
  EXPECT_FALSE((*journal)->Dirty());
  EXPECT_TRUE((*journal)->SetLastAppliedHash("k1", "ffff"));
  EXPECT_TRUE((*journal)->Dirty());
  EXPECT_FALSE((*journal)->SetLastAppliedHash("nope", "ffff"));
}

// The snapshot is exactly what nlohmann::json::dump(2) writes for the document (the format of
// earlier versions), after any sequence of changes, flushes and compactions.
TEST(OwnershipJournalTest, SnapshotIsTheJsonDumpOfTheDocumentAfterIncrementalFlushes) {
  ScopedDir dir;
  auto journal = OwnershipJournal::Open(dir.path());
  ASSERT_TRUE(journal.ok());
  std::string path = dir.path() + "/managed.json";
  auto expected = [](const std::map<std::string, OwnershipRecord>& records) {
    nlohmann::json connections = nlohmann::json::object();
    for (const auto& [key, rec] : records) {
      nlohmann::json obj = {
          {"id", rec.id},
          {"kind", rec.kind},
          {"deletion", rec.deletion == DeletionPolicy::kOrphan ? "Orphan" : "Delete"},
          {"file", rec.file},
          {"lastAppliedHash", rec.last_applied_hash}};
      obj[rec.origin == OwnershipRecord::Origin::kAdopted ? "adoptedAt" : "createdAt"] =
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", rec.since, absl::UTCTimeZone());
      connections[key] = obj;
    }
    nlohmann::json doc = {{"version", 1}, {"connections", connections}};
    return doc.dump(2) + "\n";
  };
  EXPECT_EQ(OwnershipJournal::Serialize({}), expected({}));
  (*journal)->Add("k\"1", Record("/subscriptions/s/x/k1", OwnershipRecord::Origin::kCreated));
  ASSERT_TRUE((*journal)->Flush().ok());
  ASSERT_TRUE((*journal)->Compact().ok());
  EXPECT_EQ(ReadText(path), expected((*journal)->All()));
  (*journal)->Add("k2", Record("/subscriptions/s/x/k2", OwnershipRecord::Origin::kAdopted));
  (*journal)->Add("a0", Record("/subscriptions/s/x/a0", OwnershipRecord::Origin::kCreated));
  ASSERT_TRUE((*journal)->Flush().ok());
  ASSERT_TRUE((*journal)->Compact().ok());
  EXPECT_EQ(ReadText(path), expected((*journal)->All()));
  EXPECT_TRUE((*journal)->SetLastAppliedHash("k2", "changed"));
  ASSERT_TRUE((*journal)->Flush().ok());
  ASSERT_TRUE((*journal)->Compact().ok());
  std::string text = ReadText(path);
  EXPECT_EQ(text, expected((*journal)->All()));
  EXPECT_THAT(text, HasSubstr("\"lastAppliedHash\": \"changed\""));
  EXPECT_EQ(text, OwnershipJournal::Serialize((*journal)->All()));
  EXPECT_TRUE((*journal)->Remove("a0"));
  ASSERT_TRUE((*journal)->Flush().ok());
  ASSERT_TRUE((*journal)->Compact().ok());
  EXPECT_EQ(ReadText(path), expected((*journal)->All()));
  EXPECT_TRUE((*journal)->Remove("k2"));
  EXPECT_TRUE((*journal)->Remove("k\"1"));
  ASSERT_TRUE((*journal)->Flush().ok());
  ASSERT_TRUE((*journal)->Compact().ok());
  EXPECT_EQ(ReadText(path), expected({}));
}

TEST(OwnershipJournalTest, CorruptFileIsAnErrorNeverEmpty) {
  for (const std::string text :
       {"{not json", "[]", "{\"version\":2,\"connections\":{}}", "{\"version\":1}",
        "{\"version\":1,\"connections\":{\"k\":{\"kind\":\"EventHub\"}}}",
        "{\"version\":1,\"connections\":{\"k\":{\"id\":\"/x\",\"deletion\":\"Keep\"}}}",
        "{\"version\":1,\"connections\":{\"k\":{\"id\":\"/x\",\"kind\":7}}}", ""}) {
    ScopedDir dir;
    WriteText(dir.path() + "/managed.json", text);
    auto journal = OwnershipJournal::Open(dir.path());
    ASSERT_FALSE(journal.ok()) << text;
    EXPECT_TRUE(absl::IsDataLoss(journal.status())) << journal.status();
    EXPECT_THAT(std::string(journal.status().message()), HasSubstr("managed.json"));
    EXPECT_THAT(std::string(journal.status().message()), HasSubstr("Refusing to start"));
  }
}

TEST(OwnershipJournalTest, InMemoryJournalFlushIsANoOp) {
  OwnershipJournal journal;
  journal.Add("k", Record("/x", OwnershipRecord::Origin::kCreated));
  EXPECT_TRUE(journal.Flush().ok());
  EXPECT_FALSE(journal.Dirty());
  EXPECT_TRUE(journal.Contains("k"));
  EXPECT_EQ(journal.Get("k")->id, "/x");
}

TEST(StateLockTest, SecondLockOnTheSameDirFailsWithThePid) {
  ScopedDir dir;
  auto first = StateLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = StateLock::Acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status()));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(absl::StrCat("pid ", ::getpid())));
  first->reset();
  auto third = StateLock::Acquire(dir.path());
  EXPECT_TRUE(third.ok()) << third.status();
}

}  // namespace
}  // namespace kustodian
