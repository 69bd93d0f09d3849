// spec.credentialRef in a Manager with --source=kubernetes over a FakeKubeClient and a
// FakeArmClient: a resource whose Secret is missing is Ready=False / Stalled=False with reason
// CredentialNotFound and no write as the daemon, is retried, and once the Secret exists is
// created and deleted as the Secret's principal; the secret value never reaches the status,
// Events or the log.
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "controller/manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/credential_test_util.h"
#include "tests/controller/kube_test_util.h"

namespace kustodian {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace kubetest;  // NOLINT(google-build-using-namespace): test helpers
using namespace credtest;  // NOLINT(google-build-using-namespace): test helpers

// A string field of a condition, "" when there is no such condition yet.
std::string Field(const json& condition, const char* name) {
  return condition.is_object() ? condition.value(name, "") : "";
}

class KubeCredentialRefTest : public ::testing::Test {
 protected:
  KubeCredentialRefTest()
      : logger_(LogLevel::kDebug, LogFormat::kJson, clock_,
                [this](std::string_view line) {
                  std::lock_guard<std::mutex> lock(log_mu_);
                  log_.emplace_back(line);
                }),
        metrics_(registry_, "test") {}

  void Start() {
    ManagerDeps deps{clock_, logger_, arm_, registry_, metrics_};
    deps.kube = &api_;
    manager_ = std::make_unique<Manager>(KubeDaemonOptions(), deps);
    absl::Status st = manager_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }
  void TearDown() override { manager_.reset(); }

  std::optional<json> Obj(const std::string& name) {
    return api_.Object(kube::DataConnectionGvr(), "team-a", name);
  }
  std::string Log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return absl::StrJoin(log_, "\n");
  }
  std::string Events() {
    std::string out;
    for (const json& e : api_.Objects(kube::EventGvr(), "team-a")) {
      out += e.dump() + "\n";
    }
    return out;
  }
  void ExpectNoSecretAnywhere() {
    std::optional<json> o = Obj("events");
    EXPECT_THAT(o ? o->dump() : "", Not(HasSubstr(kSecretValue)));
    EXPECT_THAT(Events(), Not(HasSubstr(kSecretValue)));
    EXPECT_THAT(Log(), Not(HasSubstr(kSecretValue)));
  }

  RealClock clock_;
  std::mutex log_mu_;
  std::vector<std::string> log_;  // guarded by log_mu_
  Logger logger_;
  FakeKubeClient api_;
  FakeArmClient azure_{&clock_};
  FakeArmWithPrincipals arm_{azure_};
  Registry registry_;
  KustodianMetrics metrics_;
  std::unique_ptr<Manager> manager_;
};

TEST_F(KubeCredentialRefTest, MissingSecretIsReportedRetriedAndThenUsedForEveryWrite) {
  Start();
  json dc = DataConnection("team-a", "events");
  dc["spec"]["credentialRef"] = {{"name", "writer"}};
  ASSERT_TRUE(api_.Create(kube::DataConnectionGvr(), "team-a", dc).ok());

  ASSERT_TRUE(WaitUntil([&] {
    return Field(ConditionOf(Obj("events"), "Ready"), "reason") == kCredentialNotFound;
  })) << Obj("events")->dump(2);
  std::optional<json> o = Obj("events");
  EXPECT_TRUE(ConditionIs(o, "Ready", "False", 1));
  EXPECT_TRUE(ConditionIs(o, "Stalled", "False")) << "a Secret may be created later";
  EXPECT_THAT(Field(ConditionOf(o, "Ready"), "message"),
              HasSubstr("Secret \"team-a/writer\" not found"));
  EXPECT_EQ(azure_.calls(FakeArmClient::Method::kPut), 0);
  EXPECT_EQ(arm_.daemon_writes(), 0) << "never written as the daemon's identity instead";
  EXPECT_TRUE(WaitUntil([&] { return Events().find("team-a/writer") != std::string::npos; }))
      << "a Warning Event names the Secret";

  ASSERT_TRUE(
      api_.Create(kube::SecretGvr(), "team-a", SecretObject("team-a", "writer", GoodKeys())).ok());
  ASSERT_TRUE(WaitUntil([&] { return ConditionIs(Obj("events"), "Ready", "True", 1); }))
      << Obj("events")->dump(2);
  EXPECT_THAT(arm_.used(), Contains(absl::StrCat("PUT as app-1/", kSecretValue)));
  EXPECT_EQ(arm_.daemon_writes(), 0);
  EXPECT_EQ(api_.calls(FakeKubeClient::Verb::kList, "secrets"), 0);
  EXPECT_EQ(api_.calls(FakeKubeClient::Verb::kWatch, "secrets"), 0);

  ASSERT_TRUE(api_.Delete(kube::DataConnectionGvr(), "team-a", "events").ok());
  ASSERT_TRUE(WaitUntil([&] { return !Obj("events").has_value(); }));
  EXPECT_THAT(arm_.used(), Contains(absl::StrCat("DELETE as app-1/", kSecretValue)));
  EXPECT_FALSE(azure_.GetConnection(IdOf("events")).has_value());
  EXPECT_EQ(arm_.daemon_writes(), 0);
  ExpectNoSecretAnywhere();
}

TEST_F(KubeCredentialRefTest, EmptyKeyIsCredentialInvalidAndRefusalIsCredentialRejected) {
  ASSERT_TRUE(
      api_.Create(kube::SecretGvr(), "team-a", SecretObject("team-a", "writer", GoodKeys("")))
          .ok());
  Start();
  json dc = DataConnection("team-a", "events");
  dc["spec"]["credentialRef"] = {{"name", "writer"}};
  ASSERT_TRUE(api_.Create(kube::DataConnectionGvr(), "team-a", dc).ok());
  ASSERT_TRUE(WaitUntil([&] {
    return Field(ConditionOf(Obj("events"), "Ready"), "reason") == kCredentialInvalid;
  })) << Obj("events")->dump(2);
  EXPECT_THAT(Field(ConditionOf(Obj("events"), "Ready"), "message"), HasSubstr("\"clientSecret\""));

  // A secret Entra ID refuses.
  absl::Status refused = absl::UnauthenticatedError(
      "Entra ID token endpoint https://login.example/tenant-1/oauth2/v2.0/token (client-secret) "
      "answered 401 invalid_client: AADSTS7000215: Invalid client secret provided.");
  SetArmErrorCode(refused, "AADSTS7000215");
  arm_.Refuse(kSecretValue, refused);
  json secret = *api_.Object(kube::SecretGvr(), "team-a", "writer");
  secret["data"] = SecretObject("team-a", "writer", GoodKeys())["data"];
  ASSERT_TRUE(api_.Update(kube::SecretGvr(), "team-a", secret).ok());
  ASSERT_TRUE(WaitUntil([&] {
    return Field(ConditionOf(Obj("events"), "Ready"), "reason") == kCredentialRejected;
  })) << Obj("events")->dump(2);
  std::optional<json> o = Obj("events");
  EXPECT_TRUE(ConditionIs(o, "Stalled", "False"));
  EXPECT_THAT(Field(ConditionOf(o, "Ready"), "message"), HasSubstr("AADSTS7000215"));
  EXPECT_EQ(arm_.daemon_writes(), 0);
  ExpectNoSecretAnywhere();
}

}  // namespace
}  // namespace kustodian
