#include "controller/status_store.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "src/metrics/kustodian_metrics.h"
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

TEST(StatusStoreTest, SameExceptSyncTimeComparesEveryOtherField) {
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  ConnectionStatus a = StatusFor(MakeSpec("a"), kPhaseReady, t0);
  a.last_sync_time = t0;
  ConnectionStatus b = a;
  b.last_sync_time = t0 + absl::Minutes(1);
  EXPECT_TRUE(SameExceptSyncTime(a, b));
  b.last_sync_time.reset();
  EXPECT_TRUE(SameExceptSyncTime(a, b));
  std::vector<std::function<void(ConnectionStatus&)>> edits = {
      [](ConnectionStatus& s) { s.key += "x"; },
      [](ConnectionStatus& s) { s.arm_id += "x"; },
      [](ConnectionStatus& s) { s.name += "x"; },
      [](ConnectionStatus& s) { s.file += "x"; },
      [](ConnectionStatus& s) { s.kind = "IotHub"; },
      [](ConnectionStatus& s) { s.phase = kPhaseUpdating; },
      [](ConnectionStatus& s) { s.conditions[1].message = "other"; },
      [](ConnectionStatus& s) { s.conditions[2].last_transition_time += absl::Seconds(1); },
      [](ConnectionStatus& s) { s.conditions[0].observed_generation = 7; },
      [](ConnectionStatus& s) { s.provisioning_state = "Failed"; },
      [](ConnectionStatus& s) { s.last_error = "Conflict: busy"; },
      [](ConnectionStatus& s) { s.pending_operation = "PUT https://x"; },
      [](ConnectionStatus& s) { s.plan_action = "update"; },
      [](ConnectionStatus& s) {
        s.plan_changes.push_back({"properties.tableName", "A", "B"});
      },
      [](ConnectionStatus& s) { s.observed_generation = 3; },
      [](ConnectionStatus& s) { s.spec_hash = "0123456789abcdef"; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    ConnectionStatus c = a;
    edits[i](c);
    EXPECT_FALSE(SameExceptSyncTime(a, c)) << "edit " << i;
  }
  ConnectionStatus p = a;
  p.plan_changes.push_back({"properties.tableName", "A", "B"});
  ConnectionStatus q = p;
  EXPECT_TRUE(SameExceptSyncTime(p, q));
  q.plan_changes[0].new_value = "C";
  EXPECT_FALSE(SameExceptSyncTime(p, q));
}

// The key is stored once (as the map key); every way out still carries it.
TEST(StatusStoreTest, GetAllAndFilesCarryTheKey) {
  ScopedDir dir;
  StatusStore store(Logger::Null(), dir.path());
  DataConnectionSpec a = MakeSpec("a");
  DataConnectionSpec b = MakeSpec("b");
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  store.Set(StatusFor(a, kPhaseReady, t0));
  store.Set(StatusFor(b, kPhaseCreating, t0));
  store.Set(StatusFor(a, kPhaseReady, t0 + absl::Seconds(1)));  // unchanged content
  EXPECT_EQ(store.Get(a.id.Key())->key, a.id.Key());
  std::vector<ConnectionStatus> all = store.All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, a.id.Key());
  EXPECT_EQ(all[1].key, b.id.Key());
  EXPECT_EQ(ReadJson(dir.path() + "/" + StatusStore::FileNameFor(a.id.Key()))["key"], a.id.Key());
  EXPECT_EQ(ReadJson(dir.path() + "/" + StatusStore::FileNameFor(b.id.Key()))["key"], b.id.Key());
}

// Issue 6: /metrics reads running counts instead of copying every status at each scrape.
TEST(StatusStoreTest, KindStateCountsFollowSetAndRemove) {
  StatusStore store(Logger::Null());
  absl::Time t0 = absl::FromUnixSeconds(1000);
  auto with_kind = [&](const std::string& name, const std::string& kind, const char* phase) {
    ConnectionStatus s = StatusFor(MakeSpec(name), phase, t0);
    s.kind = kind;
    return s;
  };
  using Counts = std::map<std::pair<std::string, std::string>, int>;
  store.Set(with_kind("a", "EventHub", kPhaseReady));
  store.Set(with_kind("b", "EventHub", kPhaseReady));
  store.Set(with_kind("c", "IotHub", kPhaseCreating));
  store.Set(with_kind("d", "IotHub", kPhaseConflict));
  store.Set(with_kind("e", "IotHub", kPhaseDeleted));   // not managed: not counted
  store.Set(with_kind("f", "IotHub", kPhaseOrphaned));  // idem
  EXPECT_EQ(store.KindStateCounts(), (Counts{{{"EventHub", kStateReady}, 2},
                                             {{"IotHub", kStateReconciling}, 1},
                                             {{"IotHub", kStateStalled}, 1}}));
  store.Set(with_kind("a", "EventHub", kPhaseUpdating));
  store.Set(with_kind("c", "IotHub", kPhaseReady));
  store.Set(with_kind("e", "IotHub", kPhaseCreating));  // managed again
  store.Remove(MakeSpec("d").id.Key());
  store.Remove(MakeSpec("f").id.Key());
  EXPECT_EQ(store.KindStateCounts(), (Counts{{{"EventHub", kStateReady}, 1},
                                             {{"EventHub", kStateReconciling}, 1},
                                             {{"IotHub", kStateReady}, 1},
                                             {{"IotHub", kStateReconciling}, 1}}));
  // The counts agree with a walk over every status.
  Counts walked;
  for (const ConnectionStatus& s : store.All()) {
    std::string state = StatusStore::MetricState(s);
    if (!state.empty()) {
      ++walked[{s.kind, state}];
    }
  }
  EXPECT_EQ(store.KindStateCounts(), walked);
}

// A Set that changes only lastSyncTime writes nothing, but a file whose last write failed is
// written at the next Set even when the status did not change.
TEST(StatusStoreTest, UnchangedSetRetriesAFailedWrite) {
  ScopedDir dir;
  const std::string status_dir = dir.path() + "/status";
  StatusStore store(Logger::Null(), status_dir);
  DataConnectionSpec a = MakeSpec("a");
  const std::string path = status_dir + "/" + StatusStore::FileNameFor(a.id.Key());
  absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  ConnectionStatus s = StatusFor(a, kPhaseCreating, t0);
  s.last_sync_time = t0;
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 1);
  // The status directory becomes a file: writes fail.
  std::filesystem::rename(status_dir, dir.path() + "/moved");
  { std::ofstream(status_dir) << "not a directory"; }
  s = StatusFor(a, kPhaseReady, t0 + absl::Seconds(5));
  s.last_sync_time = t0 + absl::Seconds(5);
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 1);
  std::filesystem::remove(status_dir);
  std::filesystem::rename(dir.path() + "/moved", status_dir);
  EXPECT_EQ(ReadJson(path)["phase"], kPhaseCreating);  // the failed write left the old file
  s.last_sync_time = t0 + absl::Seconds(6);            // only lastSyncTime moves
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 2);
  EXPECT_EQ(ReadJson(path)["phase"], kPhaseReady);
  EXPECT_EQ(ReadJson(path)["lastSyncTime"], FormatStatusTime(t0 + absl::Seconds(6)));
  EXPECT_EQ(ReadJson(dir.path() + "/status/" + kStatusSummaryFileName)["phases"]["Ready"], 1);
  s.last_sync_time = t0 + absl::Seconds(7);
  store.Set(s);
  EXPECT_EQ(store.FileWrites(), 2);  // written and unchanged: nothing to do
}

}  // namespace
}  // namespace kustodian
