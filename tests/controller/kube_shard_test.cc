// Sharding: the hash is fixed (FNV-1a 64 of "<namespace>/<name>"), lease names per shard, and two
// replicas with --shard-count 2 split the resources with no overlap and together handle all.
#include "controller/kube_shard.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/kube_test_util.h"

namespace kustodian {
namespace {

using namespace kubetest;  // NOLINT(google-build-using-namespace): test helpers

TEST(KubeShardTest, HashIsFnv1a64) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(ShardOf("ns", "name", 1), 0);
  EXPECT_EQ(ShardOf("team-a", "events", 3), static_cast<int>(Fnv1a64("team-a/events") % 3));
  EXPECT_TRUE(InShard("x", "y", 1, 0));
}

TEST(KubeShardTest, LeaseNames) {
  EXPECT_EQ(ShardLeaseName("kustodian", 1, 0), "kustodian");
  EXPECT_EQ(ShardLeaseName("kustodian", 3, 1), "kustodian-shard-1-of-3");
}

TEST(KubeShardTest, TwoShardsSplitTheResourcesWithNoOverlap) {
  RealClock clock;
  FakeKubeClient api;
  FakeArmClient azure(&clock);
  std::vector<std::unique_ptr<Replica>> replicas;
  for (int i = 0; i < 2; ++i) {
    DaemonOptions o = KubeDaemonOptions();
    o.kube.shard_count = 2;
    o.kube.shard_index = i;
    o.kube.identity = absl::StrCat("replica-", i);
    replicas.push_back(std::make_unique<Replica>(api, azure, clock, o));
    ASSERT_TRUE(replicas.back()->Start().ok());
  }
  std::vector<std::string> names;
  std::set<int> shards;
  for (int i = 0; i < 10; ++i) {
    names.push_back(absl::StrCat("conn-", i));
    shards.insert(ShardOf("team-a", names.back(), 2));
    ASSERT_TRUE(
        api.Create(kube::DataConnectionGvr(), "team-a", DataConnection("team-a", names.back()))
            .ok());
  }
  ASSERT_EQ(shards.size(), 2u) << "the names must fall into both shards";
  for (const std::string& name : names) {
    ASSERT_TRUE(WaitUntil([&] {
      return ConditionIs(api.Object(kube::DataConnectionGvr(), "team-a", name), "Ready", "True", 1);
    })) << name;
  }
  EXPECT_EQ(azure.put_specs().size(), names.size()) << "each connection written once";
  size_t total = 0;
  for (int i = 0; i < 2; ++i) {
    KubeSource& source = replicas[i]->manager().kube()->source();
    total += source.size();
    for (const std::string& name : names) {
      EXPECT_EQ(source.Object(KubeSource::RefOf("team-a", name)).has_value(),
                ShardOf("team-a", name, 2) == i)
          << name << " in replica " << i;
    }
    EXPECT_GT(replicas[i]->kube_writes(), 0);
    EXPECT_EQ(replicas[i]->manager().kube()->lease_name(),
              absl::StrCat("kustodian-shard-", i, "-of-2"));
  }
  EXPECT_EQ(total, names.size());
}

}  // namespace
}  // namespace kustodian
