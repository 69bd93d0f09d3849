// Option parsing and validation: every bad value is rejected with a message naming the flag and
// what to do; good values come through unchanged.
#include "controller/options.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;

using ::testing::HasSubstr;

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "options-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "manifests");
    options_.config_dir = (dir_ / "manifests").string();
    options_.state_dir = (dir_ / "state").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Problems() {
    absl::Status st = ValidateDaemonOptions(options_);
    return st.ok() ? "" : std::string(st.message());
  }

  fs::path dir_;
  DaemonOptions options_;
};

TEST_F(OptionsTest, DefaultsAreValidAndDocumented) {
  EXPECT_EQ(Problems(), "");
  DaemonOptions d;
  EXPECT_EQ(d.workers, 4);
  EXPECT_EQ(d.metrics_bind_address, "127.0.0.1:8080");
  EXPECT_EQ(d.resync_interval, absl::Minutes(5));
  EXPECT_EQ(d.rescan_interval, absl::Seconds(60));
  EXPECT_EQ(d.max_deletes_per_pass, 10);
  EXPECT_EQ(d.arm.api_version, "2024-04-13");
  EXPECT_EQ(EffectiveStatusDir(options_), (dir_ / "state" / "status").string());
  options_.status_dir = "/elsewhere";
  EXPECT_EQ(EffectiveStatusDir(options_), "/elsewhere");
}

TEST_F(OptionsTest, MissingDirectoriesSayWhatToFix) {
  options_.config_dir = "";
  options_.state_dir = "";
  std::string p = Problems();
  EXPECT_THAT(p, HasSubstr("--config-dir: required"));
  EXPECT_THAT(p, HasSubstr("--state-dir: required"));

  options_.config_dir = (dir_ / "nope").string();
  options_.state_dir = (dir_ / "state").string();
  EXPECT_THAT(Problems(), HasSubstr("does not exist; create it or fix the path"));

  std::ofstream((dir_ / "file").string()) << "x";
  options_.config_dir = (dir_ / "manifests").string();
  options_.state_dir = (dir_ / "file").string();
  EXPECT_THAT(Problems(),
              HasSubstr("--state-dir: \"" + (dir_ / "file").string() + "\" is not a directory"));
}

TEST_F(OptionsTest, RangesAreChecked) {
  options_.workers = 0;
  options_.max_deletes_per_pass = -1;
  options_.resync_interval = absl::Milliseconds(500);
  options_.rescan_interval = absl::Milliseconds(10);
  std::string p = Problems();
  EXPECT_THAT(p, HasSubstr("--workers: 0 is out of range; give 1..64"));
  EXPECT_THAT(p, HasSubstr("--max-deletes-per-pass: -1 is negative"));
  EXPECT_THAT(p, HasSubstr("--resync-interval: 500ms is too short"));
  EXPECT_THAT(p, HasSubstr("--rescan-interval: 10ms is too short"));

  options_ = DaemonOptions{};
  options_.config_dir = (dir_ / "manifests").string();
  options_.state_dir = (dir_ / "state").string();
  options_.resync_interval = absl::ZeroDuration();  // 0 = off, allowed
  options_.rescan_interval = absl::ZeroDuration();
  options_.max_deletes_per_pass = 0;
  EXPECT_EQ(Problems(), "");
}

TEST_F(OptionsTest, BindAddress) {
  absl::StatusOr<HostPort> hp = ParseBindAddress("--metrics-bind-address", "127.0.0.1:9090");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 9090);
  hp = ParseBindAddress("--metrics-bind-address", ":8080");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "0.0.0.0");
  hp = ParseBindAddress("--metrics-bind-address", "[::1]:8080");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_FALSE(ParseBindAddress("--x", "localhost").ok());
  EXPECT_FALSE(ParseBindAddress("--x", "localhost:99999").ok());
  EXPECT_FALSE(ParseBindAddress("--x", "::1:80").ok());

  options_.metrics_bind_address = "8080";
  EXPECT_THAT(Problems(), HasSubstr("--metrics-bind-address: \"8080\" has no port"));
  options_.metrics_bind_address = "0";  // disabled
  EXPECT_EQ(Problems(), "");
}

TEST_F(OptionsTest, Durations) {
  EXPECT_EQ(*ParseDurationFlag("--resync-interval", "5m"), absl::Minutes(5));
  EXPECT_EQ(*ParseDurationFlag("--resync-interval", "1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDurationFlag("--resync-interval", "0"), absl::ZeroDuration());
  absl::StatusOr<absl::Duration> bad = ParseDurationFlag("--resync-interval", "5 minutes");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("--resync-interval: "));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("such as 30s, 5m or 1h"));
  bad = ParseDurationFlag("--rescan-interval", "-5s");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("is negative"));
}

TEST_F(OptionsTest, ArmRateLimits) {
  absl::StatusOr<RateLimitOptions> r = ParseArmRateLimits("reads=100/5,deletes=10/1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->enabled);
  EXPECT_EQ(r->reads.burst, 100);
  EXPECT_EQ(r->reads.per_second, 5);
  EXPECT_EQ(r->writes.burst, RateLimitOptions{}.writes.burst);  // untouched default
  EXPECT_EQ(r->deletes.per_second, 1);
  EXPECT_EQ(FormatArmRateLimits(*r), "reads=100/5,writes=200/10,deletes=10/1");
  EXPECT_FALSE(ParseArmRateLimits("off")->enabled);
  EXPECT_FALSE(ParseArmRateLimits("reads=100").ok());
  EXPECT_FALSE(ParseArmRateLimits("reads=0/5").ok());
  absl::StatusOr<RateLimitOptions> bad = ParseArmRateLimits("lists=1/1");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("use reads, writes or deletes"));
}

TEST_F(OptionsTest, ArmFlags) {
  ArmFlags flags;
  EXPECT_TRUE(ValidateArmFlags(flags).ok());
  flags.endpoint = "http://127.0.0.1:4000";
  EXPECT_TRUE(ValidateArmFlags(flags).ok());
  flags.endpoint = "http://arm.example.com";
  EXPECT_THAT(std::string(ValidateArmFlags(flags).message()),
              HasSubstr("plain http is allowed only to a loopback host"));
  flags.endpoint = "https://management.azure.com/subscriptions";
  EXPECT_THAT(std::string(ValidateArmFlags(flags).message()), HasSubstr("has a path or query"));
  flags.endpoint = "";
  flags.cloud = "Mars";
  EXPECT_THAT(std::string(ValidateArmFlags(flags).message()), HasSubstr("--cloud: \"Mars\""));
  flags.cloud = "usgov";
  flags.api_version = "2019-01-01";
  EXPECT_THAT(std::string(ValidateArmFlags(flags).message()),
              HasSubstr("use 2024-04-13 or 2025-02-14"));
}

TEST_F(OptionsTest, LogFlags) {
  EXPECT_EQ(*ParseLogFormatFlag("JSON"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormatFlag("xml").ok());
  EXPECT_EQ(*ParseLogLevelFlag("warn"), LogLevel::kWarning);
  EXPECT_THAT(std::string(ParseLogLevelFlag("loud").status().message()),
              HasSubstr("use debug, info, warn or error"));
}

}  // namespace
}  // namespace kustodian
