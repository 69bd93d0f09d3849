// ArmClientImpl against the real kustodian-emulator over loopback HTTP: create, update, get,
// list, delete and validate for every kind; throttling; each fault kind; token expiry.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/arm/arm_client_impl.h"
#include "src/arm/credentials.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/status.h"
#include "src/model/diff.h"
#include "tests/integration/harness.h"

namespace kustodian {
namespace {

using ::kustodian::testing::HttpHelper;
using ::kustodian::testing::TempDir;

constexpr char kSub[] = "00000000-0000-0000-0000-0000000000aa";
constexpr char kDevToken[] = "integration-dev-token";

std::string World() {
  return absl::StrCat(R"(subscriptions:
  - id: )",
                      kSub, R"(
    resourceGroups:
      - name: rg1
        clusters:
          - name: clu1
            location: East US 2
            databases:
              - name: db1
              - name: db2
principals:
  - clientId: 11111111-1111-1111-1111-111111111111
    clientSecret: s3cret-value
    tenantId: 10000000-0000-0000-0000-000000000001
    objectId: 21111111-1111-1111-1111-111111111111
)");
}

std::string Rid(const std::string& rest) {
  return absl::StrCat("/subscriptions/", kSub, "/resourceGroups/rg1/providers/", rest);
}

DataConnectionSpec SpecFor(ConnectionKind kind, const std::string& name, const std::string& db) {
  DataConnectionSpec spec;
  spec.id = DataConnectionId{kSub, "rg1", "clu1", db, name};
  spec.location = "eastus2";
  spec.kind = kind;
  std::string hub = Rid("Microsoft.EventHub/namespaces/ns1/eventhubs/h-" + name);
  std::string mi = Rid("Microsoft.ManagedIdentity/userAssignedIdentities/mi1");
  switch (kind) {
    case ConnectionKind::kEventHub:
      spec.properties = {{"eventHubResourceId", hub},
                         {"consumerGroup", "$Default"},
                         {"tableName", "T1"},
                         {"dataFormat", "json"}};
      break;
    case ConnectionKind::kEventGrid:
      spec.properties = {{"storageAccountResourceId", Rid("Microsoft.Storage/storageAccounts/sa1")},
                         {"eventHubResourceId", hub},
                         {"consumerGroup", "cg"},
                         {"tableName", "T1"},
                         {"dataFormat", "CSV"}};
      break;
    case ConnectionKind::kIotHub:
      spec.properties = {{"iotHubResourceId", Rid("Microsoft.Devices/IotHubs/iot1")},
                         {"consumerGroup", "cg"},
                         {"sharedAccessPolicyName", "registryRead"},
                         {"tableName", "T1"}};
      break;
    case ConnectionKind::kCosmosDb:
      spec.properties = {
          {"cosmosDbAccountResourceId", Rid("Microsoft.DocumentDB/databaseAccounts/acct1")},
          {"cosmosDbDatabase", "db"},
          {"cosmosDbContainer", "items"},
          {"tableName", "T1"},
          {"managedIdentityResourceId", mi}};
      break;
    case ConnectionKind::kEventHubWithManagedIdentity:
      spec.properties = {{"eventHubResourceIdForManagedIdentity", hub},
                         {"consumerGroup", "cg"},
                         {"managedIdentityResourceId", mi},
                         {"tableName", "T1"}};
      break;
    case ConnectionKind::kEventGridWithManagedIdentity:
      spec.properties = {{"storageAccountResourceIdForManagedIdentity",
                          Rid("Microsoft.Storage/storageAccounts/sa1")},
                         {"eventHubResourceIdForManagedIdentity", hub},
                         {"consumerGroup", "cg"},
                         {"managedIdentityResourceId", mi},
                         {"tableName", "T1"}};
      break;
  }
  return spec;
}

class ArmEmulatorTest : public ::testing::Test {
 protected:
  void StartEmulator(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--dev-token", kDevToken, "--lro-duration", "200ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    absl::StatusOr<testing::Emulator> emu = testing::StartEmulator(dir_, World(), args);
    ASSERT_TRUE(emu.ok()) << emu.status();
    emu_ = std::move(*emu);
    transport_ = NewHttpTransport(TransportOptions{});
  }

  std::unique_ptr<ArmClientImpl> Client(TokenSource& tokens, ArmClientOptions options = {}) {
    options.endpoint = emu_.base_url;
    return std::make_unique<ArmClientImpl>(options, *transport_, tokens, clock_, logger_,
                                           ArmClientHooks{});
  }

  std::unique_ptr<TokenSource> DevToken() {
    CredentialOptions creds;
    creds.static_token = kDevToken;
    absl::StatusOr<CloudConfig> cloud = CloudByName("AzurePublicCloud");
    EXPECT_TRUE(cloud.ok());
    absl::StatusOr<std::unique_ptr<TokenSource>> src =
        NewTokenSource(creds, *cloud, *transport_, clock_);
    EXPECT_TRUE(src.ok()) << src.status();
    return std::move(*src);
  }

  // Polls until the operation is done (the emulator's LROs last 200 ms).
  absl::StatusOr<PollResult> Finish(ArmClient& client, const WriteResult& write) {
    if (!write.operation.has_value()) {
      PollResult done;
      done.done = true;
      done.resource = write.resource;
      return done;
    }
    ArmOperation op = *write.operation;
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      absl::StatusOr<PollResult> poll = client.Poll(op);
      if (!poll.ok() || poll->done) {
        return poll;
      }
      ++op.polls;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return absl::DeadlineExceededError("operation did not finish");
  }

  // Emulator statistics (/_admin/stats).
  nlohmann::json Stats() {
    absl::StatusOr<nlohmann::json> j = http_.GetJson(emu_.base_url + "/_admin/stats");
    EXPECT_TRUE(j.ok()) << j.status();
    return j.ok() ? *j : nlohmann::json::object();
  }

  TempDir dir_;
  testing::Emulator emu_;
  RealClock clock_;
  Logger logger_{LogLevel::kWarning, LogFormat::kText, clock_};
  std::unique_ptr<HttpTransport> transport_;
  HttpHelper http_;
};

TEST_F(ArmEmulatorTest, FullLifecycleForEveryKind) {
  StartEmulator({});
  std::unique_ptr<TokenSource> tokens = DevToken();
  std::unique_ptr<ArmClientImpl> client = Client(*tokens);
  int n = 0;
  for (ConnectionKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(KindName(kind)));
    DataConnectionSpec spec = SpecFor(kind, absl::StrCat("dc", n++), "db1");

    // Validate, then create.
    absl::StatusOr<std::vector<std::string>> problems = client->Validate(spec);
    ASSERT_TRUE(problems.ok()) << problems.status();
    EXPECT_TRUE(problems->empty()) << (*problems)[0];
    absl::StatusOr<WriteResult> created = client->Put(spec);
    ASSERT_TRUE(created.ok()) << created.status();
    absl::StatusOr<PollResult> done = Finish(*client, *created);
    ASSERT_TRUE(done.ok()) << done.status();
    ASSERT_TRUE(done->outcome.ok()) << done->outcome;

    // Read back: what ARM returns (display-name location, server defaults) is no drift.
    absl::StatusOr<LiveConnection> live = client->Get(spec.id);
    ASSERT_TRUE(live.ok()) << live.status();
    EXPECT_TRUE(IsTerminalProvisioningState(live->provisioning_state));
    EXPECT_EQ(Diff(&spec, &*live).action, PlanAction::kNoop);

    // Update one property.
    spec.properties["tableName"] = "T2";
    Plan plan = Diff(&spec, &*live);
    ASSERT_EQ(plan.action, PlanAction::kUpdate);
    absl::StatusOr<WriteResult> updated = client->Put(spec);
    ASSERT_TRUE(updated.ok()) << updated.status();
    done = Finish(*client, *updated);
    ASSERT_TRUE(done.ok() && done->outcome.ok());
    live = client->Get(spec.id);
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(live->properties.value("tableName", ""), "T2");
    EXPECT_EQ(Diff(&spec, &*live).action, PlanAction::kNoop);
  }

  absl::StatusOr<std::vector<LiveConnection>> listed =
      client->List(DatabaseId{kSub, "rg1", "clu1", "db1"});
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), kAllKinds.size());

  for (const LiveConnection& c : *listed) {
    absl::StatusOr<WriteResult> deleted = client->Delete(c.id);
    ASSERT_TRUE(deleted.ok()) << deleted.status();
    absl::StatusOr<PollResult> done = Finish(*client, *deleted);
    ASSERT_TRUE(done.ok() && done->outcome.ok());
    EXPECT_EQ(client->Get(c.id).status().code(), absl::StatusCode::kNotFound);
    // Deleting again: ARM answers 204, which is success with existed=false.
    absl::StatusOr<WriteResult> again = client->Delete(c.id);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(again->existed);
  }
  listed = client->List(DatabaseId{kSub, "rg1", "clu1", "db1"});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(ArmEmulatorTest, InvalidSpecIsRejectedByTheServiceAsInvalidArgument) {
  StartEmulator({});
  std::unique_ptr<TokenSource> tokens = DevToken();
  std::unique_ptr<ArmClientImpl> client = Client(*tokens);
  DataConnectionSpec spec = SpecFor(ConnectionKind::kEventHub, "bad", "db1");
  spec.properties.erase("consumerGroup");
  absl::StatusOr<std::vector<std::string>> problems = client->Validate(spec);
  ASSERT_TRUE(problems.ok()) << problems.status();
  EXPECT_FALSE(problems->empty());
  absl::StatusOr<WriteResult> put = client->Put(spec);
  EXPECT_EQ(put.status().code(), absl::StatusCode::kInvalidArgument) << put.status();
  // A missing parent is NotFound.
  spec = SpecFor(ConnectionKind::kEventHub, "orphan", "nodb");
  EXPECT_EQ(client->Put(spec).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ArmEmulatorTest, ServerThrottlingIsRetriedHonouringRetryAfter) {
  // A tiny write bucket on the server (3 burst, 2 per second), none on the client.
  StartEmulator({"--throttle", "--write-limits", "3/2", "--no-serialize-cluster-writes"});
  std::unique_ptr<TokenSource> tokens = DevToken();
  ArmClientOptions options;
  options.rate_limit.enabled = false;
  options.max_inline_wait = absl::Seconds(5);
  options.retry.max_attempts = 6;
  std::unique_ptr<ArmClientImpl> client = Client(*tokens, options);
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<WriteResult> put =
        client->Put(SpecFor(ConnectionKind::kEventHub, absl::StrCat("t", i), "db2"));
    ASSERT_TRUE(put.ok()) << put.status();
  }
  nlohmann::json stats = Stats();
  EXPECT_GT(stats.value("throttled", 0), 0) << stats.dump();
}

TEST_F(ArmEmulatorTest, ClientSideBucketAvoidsServerThrottling) {
  StartEmulator({"--throttle", "--write-limits", "3/2", "--no-serialize-cluster-writes"});
  std::unique_ptr<TokenSource> tokens = DevToken();
  ArmClientOptions options;
  options.rate_limit.writes = BucketOptions{3, 2};
  options.max_inline_wait = absl::Seconds(5);
  std::unique_ptr<ArmClientImpl> client = Client(*tokens, options);
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<WriteResult> put =
        client->Put(SpecFor(ConnectionKind::kEventHub, absl::StrCat("b", i), "db2"));
    ASSERT_TRUE(put.ok()) << put.status();
  }
  EXPECT_EQ(Stats().value("throttled", -1), 0) << Stats().dump();
}

TEST_F(ArmEmulatorTest, EveryFaultKindIsSurvived) {
  StartEmulator({});
  std::unique_ptr<TokenSource> tokens = DevToken();
  ArmClientOptions options;
  options.retry.initial_backoff = absl::Milliseconds(50);
  options.max_inline_wait = absl::Seconds(5);
  std::unique_ptr<ArmClientImpl> client = Client(*tokens, options);
  DataConnectionSpec spec = SpecFor(ConnectionKind::kEventHub, "faulty", "db1");
  absl::StatusOr<WriteResult> put = client->Put(spec);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(Finish(*client, *put).ok());

  for (const std::string fault :
       {"429=1:x1:GET", "429-no-retry-after:x1:GET", "500:x1:GET", "503:x1:GET", "504:x1:GET",
        "drop:x1:GET", "latency=300:x1:GET"}) {
    SCOPED_TRACE(fault);
    absl::StatusOr<HttpResponse> added = http_.Request("POST", emu_.base_url + "/_admin/faults",
                                                       nlohmann::json{{"spec", fault}}.dump());
    ASSERT_TRUE(added.ok() && added->status / 100 == 2)
        << (added.ok() ? added->body : std::string(added.status().message()));
    absl::StatusOr<LiveConnection> live = client->Get(spec.id);
    EXPECT_TRUE(live.ok()) << live.status();
  }
  nlohmann::json stats = Stats();
  EXPECT_GE(stats.value("faultsTotal", 0), 7) << stats.dump();
}

TEST_F(ArmEmulatorTest, PersistentFaultsSurfaceAsUnavailable) {
  StartEmulator({"--fault", "503:1:GET"});
  std::unique_ptr<TokenSource> tokens = DevToken();
  ArmClientOptions options;
  options.retry.initial_backoff = absl::Milliseconds(20);
  options.retry.max_attempts = 3;
  std::unique_ptr<ArmClientImpl> client = Client(*tokens, options);
  absl::StatusOr<LiveConnection> live =
      client->Get(DataConnectionId{kSub, "rg1", "clu1", "db1", "x"});
  EXPECT_EQ(live.status().code(), absl::StatusCode::kUnavailable) << live.status();
}

TEST_F(ArmEmulatorTest, ExpiredTokenIsRefusedAndClientSecretFlowRefreshes) {
  StartEmulator({"--token-lifetime", "1s"});
  // Obtain a token by hand, let it expire, and present it as a static token.
  std::string form =
      "grant_type=client_credentials&client_id=11111111-1111-1111-1111-111111111111"
      "&client_secret=s3cret-value&scope=https%3A%2F%2Fmanagement.azure.com%2F.default";
  absl::StatusOr<HttpResponse> tok = http_.Request(
      "POST", emu_.base_url + "/10000000-0000-0000-0000-000000000001/oauth2/v2.0/token", form,
      {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_TRUE(tok.ok() && tok->status == 200) << (tok.ok() ? tok->body : "transport");
  std::string token = nlohmann::json::parse(tok->body).at("access_token");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));

  absl::StatusOr<CloudConfig> cloud = CloudByName("AzurePublicCloud");
  ASSERT_TRUE(cloud.ok());
  CredentialOptions stale;
  stale.static_token = token;
  absl::StatusOr<std::unique_ptr<TokenSource>> stale_src =
      NewTokenSource(stale, *cloud, *transport_, clock_);
  ASSERT_TRUE(stale_src.ok());
  std::unique_ptr<ArmClientImpl> stale_client = Client(**stale_src);
  absl::StatusOr<std::vector<LiveConnection>> listed =
      stale_client->List(DatabaseId{kSub, "rg1", "clu1", "db1"});
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kUnauthenticated) << listed.status();
  EXPECT_EQ(GetArmErrorCode(listed.status()), "ExpiredAuthenticationToken");

  // The client-secret flow gets fresh tokens from the emulator's token endpoint.
  CredentialOptions creds;
  creds.tenant_id = "10000000-0000-0000-0000-000000000001";
  creds.client_id = "11111111-1111-1111-1111-111111111111";
  creds.client_secret = "s3cret-value";
  creds.authority_host = emu_.base_url + "/";
  absl::StatusOr<std::unique_ptr<TokenSource>> src =
      NewTokenSource(creds, *cloud, *transport_, clock_);
  ASSERT_TRUE(src.ok()) << src.status();
  std::unique_ptr<ArmClientImpl> client = Client(**src);
  for (int i = 0; i < 2; ++i) {
    listed = client->List(DatabaseId{kSub, "rg1", "clu1", "db1"});
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  // A wrong secret is refused by the identity provider.
  creds.client_secret = "wrong";
  src = NewTokenSource(creds, *cloud, *transport_, clock_);
  ASSERT_TRUE(src.ok());
  client = Client(**src);
  EXPECT_EQ(client->List(DatabaseId{kSub, "rg1", "clu1", "db1"}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace kustodian
