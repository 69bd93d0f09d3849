// `kustodian run --eventgrid-*`: the listener needs a secret, and bad values are refused with a
// message naming the flag, before anything starts.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "controller/cli.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_arm_client.h"
#include "tests/fakes/fake_clock.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class EventGridCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "egcli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "manifests");
  }
  void TearDown() override {
    ::unsetenv("KUSTODIAN_EVENTGRID_SECRET");
    fs::remove_all(dir_);
  }

  int Run(std::vector<std::string> extra) {
    std::vector<std::string> args = {"kustodian",      "run",
                                     "--config-dir",   (dir_ / "manifests").string(),
                                     "--state-dir",    (dir_ / "state").string(),
                                     "--token",        "t",
                                     "--arm-endpoint", "http://127.0.0.1:1"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<const char*> argv;
    for (const std::string& a : args) {
      argv.push_back(a.c_str());
    }
    err_.str("");
    CliEnv env{clock_, out_, err_,
               [this](const ArmFlags&, Clock&, Logger&, KustodianMetrics*) {
                 made_arm_ = true;
                 ArmStack stack;
                 stack.client = &arm_;
                 return absl::StatusOr<ArmStack>(std::move(stack));
               },
               [](std::string_view) {}};
    return RunCli(static_cast<int>(argv.size()), argv.data(), env);
  }

  fs::path dir_;
  FakeClock clock_;
  FakeArmClient arm_{&clock_};
  std::ostringstream out_;
  std::ostringstream err_;
  bool made_arm_ = false;
};

TEST_F(EventGridCliTest, TheListenerRefusesToStartWithoutASecret) {
  EXPECT_EQ(Run({"--eventgrid-bind-address", "127.0.0.1:0"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--eventgrid-secret: required when --eventgrid-bind-address"));
  EXPECT_FALSE(made_arm_);  // nothing started
}

TEST_F(EventGridCliTest, BadValuesNameTheirFlags) {
  EXPECT_EQ(Run({"--eventgrid-bind-address", "127.0.0.1:0", "--eventgrid-secret", "short",
                 "--eventgrid-max-body", "lots", "--eventgrid-coalesce", "5 minutes"}),
            kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--eventgrid-secret: 5 characters is too short"));
  EXPECT_THAT(err_.str(), HasSubstr("--eventgrid-max-body: \"lots\" is not a byte size"));
  EXPECT_THAT(err_.str(), HasSubstr("--eventgrid-coalesce"));
  EXPECT_FALSE(made_arm_);
}

TEST_F(EventGridCliTest, TheSecretMayComeFromTheEnvironment) {
  ::setenv("KUSTODIAN_EVENTGRID_SECRET", "0123456789abcdef", 1);
  // Another flag is wrong so nothing starts; the secret is not among the problems.
  EXPECT_EQ(Run({"--eventgrid-bind-address", "127.0.0.1:0", "--workers", "0"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--workers"));
  EXPECT_THAT(err_.str(), ::testing::Not(HasSubstr("--eventgrid-secret")));
  ::unsetenv("KUSTODIAN_EVENTGRID_SECRET");
  EXPECT_EQ(Run({"--eventgrid-bind-address", "127.0.0.1:0", "--workers", "0"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("--eventgrid-secret: required"));
}

}  // namespace
}  // namespace kustodian
