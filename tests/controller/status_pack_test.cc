// The packed form StatusStore keeps: every field but key and lastSyncTime comes back exactly,
// and it is smaller than the struct it replaces.
#include "controller/status_pack.h"

#include <string>

#include "gtest/gtest.h"

namespace kustodian {
namespace {

ConnectionStatus FullStatus() {
  ConnectionStatus s;
  s.key = "/subscriptions/s/resourcegroups/rg/.../dataconnections/a";
  s.arm_id =
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/RG/providers/"
      "Microsoft.Kusto/clusters/clu1/databases/db1/dataConnections/a";
  s.name = "events-ingest";
  s.file = "/etc/kustodian/connections/events.yaml";
  s.kind = "EventHub";
  const absl::Time t0 = absl::FromUnixNanos(1'790'000'000'123'456'789);
  SetPhase(s, kPhaseReady, "InSync", "the connection matches its manifest", t0);
  s.conditions[1].message = "a different message, with Ünïcødé";
  s.conditions[2].reason = "";
  s.conditions[2].last_transition_time = absl::FromUnixSeconds(-5);  // before 1970
  s.conditions[2].observed_generation = -3;
  s.provisioning_state = "Succeeded";
  s.last_sync_time = t0 + absl::Seconds(30);
  s.last_error = "429: Too many requests";
  s.pending_operation = "PUT https://management.azure.com/x";
  s.plan_action = "update";
  s.plan_changes = {
      {"properties.tableName", "Old", "New"},
      {"properties.maxBatch", nullptr, {{"nested", {1, 2.5, "three", true}}}},
  };
  s.observed_generation = 1LL << 40;
  s.spec_hash = std::string(64, 'f');
  return s;
}

TEST(StatusPackTest, EveryFieldButKeyAndSyncTimeRoundTrips) {
  const ConnectionStatus s = FullStatus();
  ConnectionStatus back = UnpackStatus(PackStatus(s));
  EXPECT_EQ(back.key, "");
  EXPECT_EQ(back.last_sync_time, std::nullopt);
  back.key = s.key;
  back.last_sync_time = s.last_sync_time;
  EXPECT_TRUE(SameExceptSyncTime(back, s));
  EXPECT_EQ(back.conditions, s.conditions);  // times to the nanosecond
  EXPECT_EQ(back.ToJson(), s.ToJson());
}

TEST(StatusPackTest, EmptyStatusRoundTrips) {
  ConnectionStatus s;
  s.phase = "";
  ConnectionStatus back = UnpackStatus(PackStatus(s));
  EXPECT_TRUE(SameExceptSyncTime(back, s));
  EXPECT_EQ(back.ToJson(), s.ToJson());
}

TEST(StatusPackTest, RepeatedReasonsAndMessagesAreStoredOnce) {
  ConnectionStatus s = FullStatus();
  SetPhase(s, kPhaseReady, "InSync", std::string(200, 'm'), absl::UnixEpoch());
  s.plan_changes.clear();
  const std::string packed = PackStatus(s);
  EXPECT_EQ(UnpackStatus(packed).conditions, s.conditions);
  ConnectionStatus differ = s;
  differ.conditions[1].message = std::string(200, 'n');
  differ.conditions[2].message = std::string(200, 'o');
  // The same message three times costs one copy; three messages cost three.
  EXPECT_GE(PackStatus(differ).size(), packed.size() + 2 * 200);
  EXPECT_EQ(UnpackStatus(PackStatus(differ)).conditions, differ.conditions);
}

TEST(StatusPackTest, TruncatedBytesNeverReadPastTheEnd) {
  const std::string packed = PackStatus(FullStatus());
  for (size_t n = 0; n < packed.size(); ++n) {
    ConnectionStatus partial = UnpackStatus(std::string_view(packed.data(), n));
    EXPECT_LE(partial.conditions.size(), 3u);
  }
  // A count far larger than the bytes behind it reserves nothing huge.
  std::string bogus = "\x00\x00\x00\x00\x00\xff\xff\xff\xff\x0f";
  bogus.resize(10);
  EXPECT_LE(UnpackStatus(bogus).conditions.size(), bogus.size());
}

}  // namespace
}  // namespace kustodian
