// Credentials: cloud table, environment, flow selection, each flow's request shape, caching
// and refresh, and error mapping of the identity providers' answers.
#include "src/arm/credentials.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/arm/token_sources.h"
#include "src/core/status.h"
#include "tests/arm/arm_test_util.h"

namespace kustodian::testing_arm {
namespace {

using ::testing::HasSubstr;

constexpr char kTokenUrl[] = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token";

HttpResponse AadToken(const std::string& token, int expires_in = 3599) {
  return ScriptedTransport::Json(200, {{"token_type", "Bearer"},
                                       {"expires_in", expires_in},
                                       {"ext_expires_in", expires_in},
                                       {"access_token", token}});
}

CloudConfig Public() { return *CloudByName("public"); }

class CredentialsTest : public ::testing::Test {
 protected:
  std::unique_ptr<TokenSource> Source(const CredentialOptions& options) {
    absl::StatusOr<std::unique_ptr<TokenSource>> source =
        NewTokenSource(options, Public(), transport_, clock_);
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? *std::move(source) : nullptr;
  }
  static CredentialOptions SecretOptions() {
    CredentialOptions options;
    options.tenant_id = "tenant-1";
    options.client_id = "client-1";
    options.client_secret = "s3cret&=+/value";
    return options;
  }
  std::string TempFile(const std::string& contents) {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("kustodian-arm-test-" + std::to_string(::getpid()) + "-" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                           .string();
    std::ofstream(path, std::ios::trunc) << contents;
    files_.push_back(path);
    return path;
  }
  ~CredentialsTest() override {
    for (const std::string& f : files_) {
      std::filesystem::remove(f);
    }
  }

  FakeClock clock_;
  ScriptedTransport transport_;
  std::vector<std::string> files_;
};

TEST(CloudByNameTest, KnowsTheThreeClouds) {
  absl::StatusOr<CloudConfig> pub = CloudByName("AzurePublicCloud");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->arm_endpoint, "https://management.azure.com");
  EXPECT_EQ(pub->authority_host, "https://login.microsoftonline.com");
  EXPECT_EQ(pub->arm_scope, "https://management.azure.com/.default");
  EXPECT_EQ(pub->imds_resource, "https://management.azure.com/");
  absl::StatusOr<CloudConfig> china = CloudByName("CHINA");
  ASSERT_TRUE(china.ok());
  EXPECT_EQ(china->name, "AzureChinaCloud");
  EXPECT_EQ(china->arm_endpoint, "https://management.chinacloudapi.cn");
  EXPECT_EQ(china->authority_host, "https://login.chinacloudapi.cn");
  absl::StatusOr<CloudConfig> gov = CloudByName("usgov");
  ASSERT_TRUE(gov.ok());
  EXPECT_EQ(gov->name, "AzureUSGovernment");
  EXPECT_EQ(gov->arm_endpoint, "https://management.usgovcloudapi.net");
  EXPECT_EQ(gov->authority_host, "https://login.microsoftonline.us");
  EXPECT_EQ(gov->arm_scope, "https://management.usgovcloudapi.net/.default");
  EXPECT_EQ(CloudByName("germany").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CredentialOptionsFromEnvTest, ReadsEnvironmentButKeepsSetFields) {
  setenv("AZURE_TENANT_ID", "env-tenant", 1);
  setenv("AZURE_CLIENT_ID", "env-client", 1);
  setenv("AZURE_CLIENT_SECRET", "env-secret", 1);
  setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token", 1);
  setenv("AZURE_AUTHORITY_HOST", "https://login.example/", 1);
  CredentialOptions base;
  base.client_id = "flag-client";
  CredentialOptions options = CredentialOptionsFromEnv(base);
  EXPECT_EQ(options.tenant_id, "env-tenant");
  EXPECT_EQ(options.client_id, "flag-client");
  EXPECT_EQ(options.client_secret, "env-secret");
  EXPECT_EQ(options.federated_token_file, "/var/run/token");
  EXPECT_EQ(options.authority_host, "https://login.example/");
  for (const char* name : {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                           "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"}) {
    unsetenv(name);
  }
  EXPECT_EQ(CredentialOptionsFromEnv().tenant_id, "");
}

TEST_F(CredentialsTest, ChoosesTheFlow) {
  CredentialOptions stat;
  stat.static_token = "t";
  stat.client_secret = "ignored";
  EXPECT_EQ(Source(stat)->Describe(), "static");
  EXPECT_EQ(Source(SecretOptions())->Describe(), "client-secret");
  CredentialOptions wi;
  wi.tenant_id = "t";
  wi.client_id = "c";
  wi.federated_token_file = "/tmp/x";
  EXPECT_EQ(Source(wi)->Describe(), "workload-identity");
  EXPECT_EQ(Source(CredentialOptions())->Describe(), "managed-identity");
  CredentialOptions no_tenant = SecretOptions();
  no_tenant.tenant_id = "";
  absl::StatusOr<std::unique_ptr<TokenSource>> bad =
      NewTokenSource(no_tenant, Public(), transport_, clock_);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("tenant"));
  CredentialOptions no_client = wi;
  no_client.client_id = "";
  EXPECT_EQ(NewTokenSource(no_client, Public(), transport_, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.RequestCount(), 0u);
}

TEST_F(CredentialsTest, StaticTokenNeverExpires) {
  CredentialOptions options;
  options.static_token = "emulator-token";
  std::unique_ptr<TokenSource> source = Source(options);
  clock_.Advance(absl::Hours(100));
  absl::StatusOr<AccessToken> token = source->GetToken();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->token, "emulator-token");
  EXPECT_GT(token->expires_on, clock_.Now() + absl::Hours(1));
}

TEST_F(CredentialsTest, ClientSecretRequestShape) {
  transport_.Expect("POST", kTokenUrl, AadToken("aad-token"));
  std::unique_ptr<TokenSource> source = Source(SecretOptions());
  absl::StatusOr<AccessToken> token = source->GetToken();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, "aad-token");
  EXPECT_EQ(token->expires_on, clock_.Now() + absl::Seconds(3599));
  ASSERT_TRUE(transport_.Verify());
  HttpRequest sent = transport_.Request(0);
  EXPECT_EQ(Header(sent, "Content-Type"), "application/x-www-form-urlencoded");
  std::map<std::string, std::string> form = FormFields(sent.body);
  EXPECT_EQ(form.size(), 4u);
  EXPECT_EQ(form["client_id"], "client-1");
  EXPECT_EQ(form["scope"], "https://management.azure.com/.default");
  EXPECT_EQ(form["client_secret"], "s3cret&=+/value");
  EXPECT_EQ(form["grant_type"], "client_credentials");
  EXPECT_THAT(sent.body, HasSubstr("scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
}

TEST_F(CredentialsTest, AuthorityHostOverrideIsNormalized) {
  CredentialOptions options = SecretOptions();
  options.authority_host = "http://127.0.0.1:9999/";
  transport_.Expect("POST", "http://127.0.0.1:9999/tenant-1/oauth2/v2.0/token", AadToken("t"));
  EXPECT_TRUE(Source(options)->GetToken().ok());
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(CredentialsTest, TokenIsCachedAndRefreshedWhenFiveMinutesRemain) {
  transport_.Expect("POST", kTokenUrl, AadToken("first", 3600));
  transport_.Expect("POST", kTokenUrl, AadToken("second", 3600));
  std::unique_ptr<TokenSource> source = Source(SecretOptions());
  EXPECT_EQ(source->GetToken()->token, "first");
  clock_.Advance(absl::Minutes(54));  // 6 minutes left
  EXPECT_EQ(source->GetToken()->token, "first");
  EXPECT_EQ(transport_.RequestCount(), 1u);
  clock_.Advance(absl::Minutes(2));  // 4 minutes left
  EXPECT_EQ(source->GetToken()->token, "second");
  EXPECT_EQ(source->GetToken()->token, "second");
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(CredentialsTest, InvalidateForcesANewToken) {
  transport_.Expect("POST", kTokenUrl, AadToken("first"));
  transport_.Expect("POST", kTokenUrl, AadToken("second"));
  std::unique_ptr<TokenSource> source = Source(SecretOptions());
  EXPECT_EQ(source->GetToken()->token, "first");
  source->Invalidate();
  EXPECT_EQ(source->GetToken()->token, "second");
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(CredentialsTest, FailedRefreshKeepsAStillValidToken) {
  transport_.Expect("POST", kTokenUrl, AadToken("first", 3600));
  transport_.ExpectError("POST", kTokenUrl, absl::UnavailableError("refused"));
  std::unique_ptr<TokenSource> source = Source(SecretOptions());
  EXPECT_EQ(source->GetToken()->token, "first");
  clock_.Advance(absl::Minutes(57));
  absl::StatusOr<AccessToken> token = source->GetToken();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, "first");
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(CredentialsTest, AadRefusalIsUnauthenticatedWithAadstsCode) {
  transport_.Expect("POST", kTokenUrl,
                    ScriptedTransport::Json(401, {{"error", "invalid_client"},
                                                  {"error_description",
                                                   "AADSTS7000215: Invalid client secret "
                                                   "provided.\r\nTrace ID: abc"},
                                                  {"error_codes", {7000215}}}));
  absl::StatusOr<AccessToken> token = Source(SecretOptions())->GetToken();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetArmErrorCode(token.status()), "AADSTS7000215");
  std::string message(token.status().message());
  EXPECT_THAT(message, HasSubstr("invalid_client"));
  EXPECT_THAT(message, HasSubstr("Invalid client secret provided"));
  EXPECT_EQ(message.find("s3cret"), std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(CredentialsTest, AadOutageIsUnavailable) {
  transport_.Expect(
      "POST", kTokenUrl,
      ScriptedTransport::Json(503, {{"error", "temporarily_unavailable"}}, {{"Retry-After", "7"}}));
  transport_.ExpectError("POST", kTokenUrl, absl::UnavailableError("connection refused"));
  std::unique_ptr<TokenSource> source = Source(SecretOptions());
  absl::StatusOr<AccessToken> first = source->GetToken();
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(first.status()), absl::Seconds(7));
  EXPECT_EQ(source->GetToken().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(CredentialsTest, WorkloadIdentityReadsTheTokenFileOnEveryRequest) {
  std::string path = TempFile("assertion-one\n");
  CredentialOptions options;
  options.tenant_id = "tenant-1";
  options.client_id = "client-1";
  options.federated_token_file = path;
  options.authority_host = "https://login.microsoftonline.com/";
  transport_.Expect("POST", kTokenUrl, AadToken("wi-1"));
  transport_.Expect("POST", kTokenUrl, AadToken("wi-2"));
  std::unique_ptr<TokenSource> source = Source(options);
  ASSERT_EQ(source->GetToken()->token, "wi-1");
  std::ofstream(path, std::ios::trunc) << "assertion-two";  // the kubelet rotated it
  source->Invalidate();
  ASSERT_EQ(source->GetToken()->token, "wi-2");
  ASSERT_TRUE(transport_.Verify());
  std::map<std::string, std::string> first = FormFields(transport_.Request(0).body);
  EXPECT_EQ(first["client_id"], "client-1");
  EXPECT_EQ(first["scope"], "https://management.azure.com/.default");
  EXPECT_EQ(first["grant_type"], "client_credentials");
  EXPECT_EQ(first["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  EXPECT_EQ(first["client_assertion"], "assertion-one");
  EXPECT_EQ(first.count("client_secret"), 0u);
  EXPECT_EQ(FormFields(transport_.Request(1).body)["client_assertion"], "assertion-two");
}

TEST_F(CredentialsTest, WorkloadIdentityMissingFileIsUnauthenticated) {
  CredentialOptions options;
  options.tenant_id = "tenant-1";
  options.client_id = "client-1";
  options.federated_token_file = "/nonexistent/kustodian/token";
  absl::StatusOr<AccessToken> token = Source(options)->GetToken();
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(transport_.RequestCount(), 0u);
}

TEST_F(CredentialsTest, ManagedIdentityRequestShapeAndStringExpiry) {
  transport_.Expect(
      "GET",
      "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
      "https%3A%2F%2Fmanagement.azure.com%2F",
      ScriptedTransport::Json(200, {{"access_token", "mi-token"},
                                    {"refresh_token", ""},
                                    {"expires_in", "3599"},
                                    {"expires_on", "1735689600"},
                                    {"not_before", "1735686000"},
                                    {"resource", "https://management.azure.com/"},
                                    {"token_type", "Bearer"}}));
  std::unique_ptr<TokenSource> source = Source(CredentialOptions());
  absl::StatusOr<AccessToken> token = source->GetToken();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, "mi-token");
  EXPECT_EQ(token->expires_on, clock_.Now() + absl::Seconds(3599));
  ASSERT_TRUE(transport_.Verify());
  EXPECT_EQ(Header(transport_.Request(0), "Metadata"), "true");
}

TEST_F(CredentialsTest, ManagedIdentityUserAssignedAndExpiresOnOnly) {
  CredentialOptions options;
  options.client_id = "mi-client";
  options.imds_endpoint = "http://127.0.0.1:4000/";
  int64_t expires = absl::ToUnixSeconds(clock_.Now()) + 1800;
  transport_.Expect("GET",
                    "http://127.0.0.1:4000/metadata/identity/oauth2/token?api-version=2018-02-01"
                    "&resource=https%3A%2F%2Fmanagement.azure.com%2F&client_id=mi-client",
                    ScriptedTransport::Json(
                        200, {{"access_token", "mi"}, {"expires_on", std::to_string(expires)}}));
  absl::StatusOr<AccessToken> token = Source(options)->GetToken();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_on, absl::FromUnixSeconds(expires));
  EXPECT_TRUE(transport_.Verify());
}

TEST_F(CredentialsTest, ImdsTransientAndPermanentErrors) {
  for (int code : {404, 410, 429, 500}) {
    transport_.Expect("GET", "*", ScriptedTransport::Json(code, {{"error", "busy"}}));
  }
  transport_.Expect("GET", "*",
                    ScriptedTransport::Json(400, {{"error", "invalid_request"},
                                                  {"error_description", "Identity not found"}}));
  std::unique_ptr<TokenSource> source = Source(CredentialOptions());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(source->GetToken().status().code(), absl::StatusCode::kUnavailable) << i;
  }
  absl::StatusOr<AccessToken> permanent = source->GetToken();
  EXPECT_EQ(permanent.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(permanent.status().message()), HasSubstr("Identity not found"));
  EXPECT_TRUE(transport_.Verify());
}

TEST(ParseTokenResponseTest, RejectsBodiesWithoutAToken) {
  absl::Time now = absl::FromUnixSeconds(1000);
  EXPECT_EQ(ParseTokenResponse("not json", now).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParseTokenResponse(R"({"expires_in":3599})", now).status().code(),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<AccessToken> ok =
      ParseTokenResponse(R"({"access_token":"a","expires_in":" 60 "})", now);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->expires_on, now + absl::Seconds(60));
}

}  // namespace
}  // namespace kustodian::testing_arm
