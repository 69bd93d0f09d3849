// Options of `run --source=kubernetes`: --config-dir and --state-dir are not required, and the
// Kubernetes flags are checked with messages naming the flag.
#include "controller/options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;

TEST(KubeOptionsTest, SourceFlag) {
  EXPECT_EQ(*ParseSourceFlag("Kubernetes"), SourceKind::kKubernetes);
  EXPECT_EQ(*ParseSourceFlag("directory"), SourceKind::kDirectory);
  EXPECT_THAT(std::string(ParseSourceFlag("k8s").status().message()),
              HasSubstr("use directory or kubernetes"));
}

TEST(KubeOptionsTest, KubernetesModeNeedsNoDirectories) {
  DaemonOptions o;
  o.source = SourceKind::kKubernetes;
  EXPECT_TRUE(ValidateDaemonOptions(o).ok()) << ValidateDaemonOptions(o);
  EXPECT_EQ(EffectiveStatusDir(o), "");
  o.source = SourceKind::kDirectory;
  EXPECT_THAT(std::string(ValidateDaemonOptions(o).message()), HasSubstr("--config-dir: required"));
}

TEST(KubeOptionsTest, BadKubernetesFlagsAreNamed) {
  DaemonOptions o;
  o.source = SourceKind::kKubernetes;
  o.kube.watch_namespaces = {"Team_A"};
  o.kube.shard_count = 2;
  o.kube.shard_index = 2;
  o.kube.leader_election_id = "Bad Id";
  o.kube.renew_deadline = absl::Seconds(20);
  std::string p(ValidateDaemonOptions(o).message());
  EXPECT_THAT(p, HasSubstr("--watch-namespace: \"Team_A\""));
  EXPECT_THAT(p, HasSubstr("--shard-index: 2 is out of range; give 0..1"));
  EXPECT_THAT(p, HasSubstr("--leader-election-id"));
  EXPECT_THAT(p, HasSubstr("--leader-election-renew-deadline"));
}

}  // namespace
}  // namespace kustodian
