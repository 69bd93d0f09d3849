#include "controller/status_store.h"

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/controller/reconciler_test_util.h"

namespace kustodian {
namespace {

using ::testing::ElementsAre;
using testing_util::MakeSpec;
using testing_util::ScopedDir;

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

ConnectionStatus StatusFor(const DataConnectionSpec& spec, std::string_view phase, absl::Time now) {
  ConnectionStatus s;
  s.key = spec.id.Key();
  s.arm_id = spec.id.ResponseId();
  s.name = spec.id.name;
  s.kind = "EventHub";
  SetPhase(s, phase, phase == kPhaseReady ? "InSync" : "Working", "msg", now);
  return s;
}

TEST(StatusStoreTest, ConditionsFollowKstatus) {
  ConnectionStatus s;
  absl::Time now = absl::FromUnixSeconds(100);
  SetPhase(s, kPhaseReady, "InSync", "ok", now);
  EXPECT_EQ(s.FindCondition(kConditionReady)->status, kTrue);
  EXPECT_EQ(s.FindCondition(kConditionReconciling)->status, kFalse);
  EXPECT_EQ(s.FindCondition(kConditionStalled)->status, kFalse);
  SetPhase(s, kPhaseCreating, "Creating", "", now);
  EXPECT_EQ(s.FindCondition(kConditionReady)->status, kFalse);
  EXPECT_EQ(s.FindCondition(kConditionReconciling)->status, kTrue);
  SetPhase(s, kPhaseConflict, "NotManaged", "", now);
  EXPECT_EQ(s.FindCondition(kConditionStalled)->status, kTrue);
  EXPECT_EQ(s.FindCondition(kConditionReconciling)->status, kFalse);
  EXPECT_EQ(s.FindCondition(kConditionReady)->status, kFalse);
}

TEST(StatusStoreTest, LastTransitionTimeChangesOnlyWithTheStatus) {
  StatusStore store(Logger::Null());
  DataConnectionSpec a = MakeSpec("a");
  absl::Time t0 = absl::FromUnixSeconds(1000);
  store.Set(StatusFor(a, kPhaseCreating, t0));
  store.Set(StatusFor(a, kPhaseUpdating, t0 + absl::Seconds(5)));  // still Ready=False
  auto s = store.Get(a.id.Key());
  EXPECT_EQ(s->FindCondition(kConditionReady)->last_transition_time, t0);
  EXPECT_EQ(s->FindCondition(kConditionReconciling)->last_transition_time, t0);
  store.Set(StatusFor(a, kPhaseReady, t0 + absl::Seconds(9)));
  s = store.Get(a.id.Key());
  EXPECT_EQ(s->FindCondition(kConditionReady)->last_transition_time, t0 + absl::Seconds(9));
  EXPECT_EQ(s->FindCondition(kConditionStalled)->last_transition_time, t0);  // False throughout
}

TEST(StatusStoreTest, WritesOneFilePerConnectionAndRemovesIt) {
  ScopedDir dir;
  StatusStore store(Logger::Null(), dir.path());
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  absl::Time now = absl::FromUnixSeconds(1'790'000'000);
  store.Set(StatusFor(a, kPhaseReady, now));
  store.Set(StatusFor(b, kPhaseCreating, now));
  std::string a_file = StatusStore::FileNameFor(a.id.Key());
  EXPECT_EQ(a_file.rfind("c1.db1.a-", 0), 0u) << a_file;
  EXPECT_EQ(a_file.size(), std::string("c1.db1.a-").size() + 8 + 5);
  std::vector<std::string> expected = {"_summary.json", a_file,
                                       StatusStore::FileNameFor(b.id.Key())};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(dir.Names(), expected);  // and no temp files

  nlohmann::json a_json = ReadJson(dir.path() + "/" + a_file);
  EXPECT_EQ(a_json["phase"], "Ready");
  EXPECT_EQ(a_json["armId"], a.id.ResponseId());
  EXPECT_EQ(a_json["conditions"][0]["type"], "Ready");
  EXPECT_EQ(a_json["conditions"][0]["status"], "True");
  EXPECT_EQ(a_json["conditions"][0]["lastTransitionTime"], "2026-09-21T14:13:20Z");

  nlohmann::json summary = ReadJson(dir.path() + "/_summary.json");
  EXPECT_EQ(summary["connections"], 2);
  EXPECT_EQ(summary["phases"]["Ready"], 1);
  EXPECT_EQ(summary["phases"]["Creating"], 1);

  EXPECT_TRUE(store.Remove(a.id.Key()));
  EXPECT_FALSE(store.Remove(a.id.Key()));
  EXPECT_THAT(dir.Names(), ElementsAre("_summary.json", StatusStore::FileNameFor(b.id.Key())));
  store.SetFileErrors({{"bad.yaml", {"bad.yaml:1: oops"}}});
  summary = ReadJson(dir.path() + "/_summary.json");
  EXPECT_EQ(summary["connections"], 1);
  EXPECT_EQ(summary["fileErrors"]["bad.yaml"][0], "bad.yaml:1: oops");
}

TEST(StatusStoreTest, FileNamesAreSafeAndDistinct) {
  std::string weird =
      "/subscriptions/s/resourcegroups/g/providers/microsoft.kusto/clusters/"
      "c/databases/d/dataconnections/../x y";
  std::string name = StatusStore::FileNameFor(weird);
  EXPECT_EQ(name.find('/'), std::string::npos);
  EXPECT_EQ(name.find(' '), std::string::npos);
  EXPECT_NE(StatusStore::FileNameFor(MakeSpec("a").id.Key()),
            StatusStore::FileNameFor(MakeSpec("a", "c1", "db2").id.Key()));
}

TEST(StatusStoreTest, RemoveUnknownFilesDeletesLeftovers) {
  ScopedDir dir;
  DataConnectionSpec a = MakeSpec("a");
  {
    std::ofstream(dir.path() + "/old-connection-12345678.json") << "{}";
    std::ofstream(dir.path() + "/notes.txt") << "keep";
  }
  StatusStore store(Logger::Null(), dir.path());
  store.Set(StatusFor(a, kPhaseReady, absl::FromUnixSeconds(1)));
  ASSERT_TRUE(store.RemoveUnknownFiles().ok());
  EXPECT_THAT(dir.Names(),
              ElementsAre("_summary.json", StatusStore::FileNameFor(a.id.Key()), "notes.txt"));
}

TEST(StatusStoreTest, ToJsonOmitsEmptyOptionalFields) {
  ConnectionStatus s;
  s.key = "k";
  nlohmann::json j = s.ToJson();
  EXPECT_FALSE(j.contains("lastError"));
  EXPECT_FALSE(j.contains("pendingOperation"));
  EXPECT_FALSE(j.contains("plan"));
  s.plan_action = "update";
  s.plan_changes.push_back(FieldChange{"properties.tableName", "A", "B"});
  s.last_error = "BadRequest: nope";
  j = s.ToJson();
  EXPECT_EQ(j["plan"]["changes"][0]["path"], "properties.tableName");
  EXPECT_EQ(j["lastError"], "BadRequest: nope");
}

// Issue 6: a resync moves every connection's lastSyncTime; that alone must not rewrite 10,000
// status files. The in-memory status (GET /status) always has the exact time.
TEST(StatusStoreTest, SyncTimeAloneRewritesTheFileAtMostOncePerInterval) {
  ScopedDir dir;
  StatusStore store(Logger::Null(), dir.path());
  store.SetSyncTimeWriteInterval(absl::Minutes(30));
  DataConnectionSpec a = MakeSpec("a");
  const std::string path = dir.path() + "/" + StatusStore::FileNameFor(a.id.Key());
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  ConnectionStatus s = StatusFor(a, kPhaseReady, t0);
  s.last_sync_time = t0;
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 1);
  for (int minute = 1; minute < 30; ++minute) {  // a resync every minute
    s.last_sync_time = t0 + absl::Minutes(minute);
    store.Set(s);
  }
  EXPECT_EQ(store.FileWrites(), 1);
  EXPECT_EQ(ReadJson(path)["lastSyncTime"], FormatStatusTime(t0));
  EXPECT_EQ(store.Get(a.id.Key())->last_sync_time, t0 + absl::Minutes(29));  // memory is exact
  s.last_sync_time = t0 + absl::Minutes(30);
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 2);
  EXPECT_EQ(ReadJson(path)["lastSyncTime"], FormatStatusTime(t0 + absl::Minutes(30)));
  // Anything a user acts on is written at once, with the current lastSyncTime.
  s.last_sync_time = t0 + absl::Minutes(31);
  s.last_error = "Conflict: busy";
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 3);
  EXPECT_EQ(ReadJson(path)["lastError"], "Conflict: busy");
  EXPECT_EQ(ReadJson(path)["lastSyncTime"], FormatStatusTime(t0 + absl::Minutes(31)));
  // The same status again: nothing to write.
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 3);
}

TEST(StatusStoreTest, ZeroSyncTimeIntervalWritesEveryChange) {
  ScopedDir dir;
  StatusStore store(Logger::Null(), dir.path());
  store.SetSyncTimeWriteInterval(absl::ZeroDuration());
  DataConnectionSpec a = MakeSpec("a");
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  ConnectionStatus s = StatusFor(a, kPhaseReady, t0);
  s.last_sync_time = t0;
  store.Set(s);
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 1);
  s.last_sync_time = t0 + absl::Seconds(30);
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 2);
}

}  // namespace
}  // namespace kustodian
