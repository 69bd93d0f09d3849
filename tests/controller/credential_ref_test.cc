// spec.credentialRef without a Manager: reading the Secret (keys, errors naming the Secret and
// key, caching per resourceVersion, re-reading when due or after a refusal), routing each
// connection's ARM calls to its principal's client (LIST stays on the daemon's identity), picking
// up a rotated Secret, and the real principal client: the token request carries the Secret's
// tenant, client id and secret, and the ARM write carries the token Entra ID returned.
#include "controller/credential_ref.h"

#include <map>

#include "absl/strings/escaping.h"
#include "controller/credential_arm_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/arm/principal_clients.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "tests/controller/credential_test_util.h"
#include "tests/controller/kube_test_util.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/scripted_transport.h"

namespace kustodian {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace kubetest;  // NOLINT(google-build-using-namespace): test helpers
using namespace credtest;  // NOLINT(google-build-using-namespace): test helpers

DataConnectionSpec SpecFor(const std::string& name) {
  DataConnectionSpec spec;
  spec.id = IdOf(name);
  return spec;
}

// --- PrincipalFromSecret ---

TEST(PrincipalFromSecretTest, ReadsTheThreeKeys) {
  absl::StatusOr<ServicePrincipal> p =
      PrincipalFromSecret(SecretObject("adx", "w", GoodKeys()), SecretRef{"adx", "w"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->client_id, "app-1");
  EXPECT_EQ(p->tenant_id, "tenant-1");
  EXPECT_EQ(p->client_secret, kSecretValue);
}

TEST(PrincipalFromSecretTest, MissingOrEmptyKeyIsCredentialInvalidNamingSecretAndKey) {
  std::map<std::string, std::string> keys = GoodKeys();
  keys.erase("tenantId");
  absl::StatusOr<ServicePrincipal> p =
      PrincipalFromSecret(SecretObject("adx", "w", keys), SecretRef{"adx", "w"});
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(p.status()));
  EXPECT_EQ(GetArmErrorCode(p.status()), kCredentialInvalid);
  EXPECT_THAT(p.status().message(), HasSubstr("\"adx/w\""));
  EXPECT_THAT(p.status().message(), HasSubstr("\"tenantId\""));

  keys = GoodKeys("");
  p = PrincipalFromSecret(SecretObject("adx", "w", keys), SecretRef{"adx", "w"});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("\"clientSecret\""));

  json bad = SecretObject("adx", "w", GoodKeys());
  bad["data"]["clientId"] = "!!not base64!!";
  p = PrincipalFromSecret(bad, SecretRef{"adx", "w"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(GetArmErrorCode(p.status()), kCredentialInvalid);
  EXPECT_THAT(p.status().message(), Not(HasSubstr("!!not base64!!")));
}

TEST(PrincipalFromSecretTest, KeysAreExact) {
  json s = SecretObject("adx", "w", {{"client_id", "a"}, {"tenant_id", "t"}, {"secret", "x"}});
  EXPECT_EQ(GetArmErrorCode(PrincipalFromSecret(s, SecretRef{"adx", "w"}).status()),
            kCredentialInvalid);
}

// --- CredentialRefs ---

class CredentialRefsTest : public ::testing::Test {
 protected:
  void PutSecret(const std::map<std::string, std::string>& values) {
    json s = SecretObject("adx", "writer", values);
    if (std::optional<json> old = api_.Object(kube::SecretGvr(), "adx", "writer")) {
      s["metadata"] = (*old)["metadata"];
      ASSERT_TRUE(api_.Update(kube::SecretGvr(), "adx", s).ok());
    } else {
      ASSERT_TRUE(api_.Create(kube::SecretGvr(), "adx", s).ok());
    }
  }

  FakeClock clock_;
  FakeKubeClient api_;
  CredentialRefs refs_{api_, clock_, Logger::Null(), CredentialRefsOptions{absl::Minutes(1)}};
  const SecretRef ref_{"adx", "writer"};
};

TEST_F(CredentialRefsTest, MissingSecretIsCredentialNotFoundAndNeverCached) {
  absl::StatusOr<SecretCredential> got = refs_.Get(ref_);
  ASSERT_FALSE(got.ok());
  // FailedPrecondition, not NotFound: a NotFound from a DELETE or GET would read as "gone".
  EXPECT_TRUE(absl::IsFailedPrecondition(got.status())) << got.status();
  EXPECT_EQ(GetArmErrorCode(got.status()), kCredentialNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("Secret \"adx/writer\" not found"));

  PutSecret(GoodKeys());  // created later: the next use finds it
  got = refs_.Get(ref_);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->principal.client_id, "app-1");
  EXPECT_EQ(api_.calls(FakeKubeClient::Verb::kGet, "secrets"), 2);
  EXPECT_EQ(api_.calls(FakeKubeClient::Verb::kList, "secrets"), 0);
  EXPECT_EQ(api_.calls(FakeKubeClient::Verb::kWatch, "secrets"), 0);
}

TEST_F(CredentialRefsTest, ForbiddenAndUnavailableAreReportedAsSuch) {
  api_.FailNext(FakeKubeClient::Verb::kGet, 1, absl::PermissionDeniedError("secrets is forbidden"));
  absl::StatusOr<SecretCredential> got = refs_.Get(ref_);
  EXPECT_EQ(GetArmErrorCode(got.status()), kCredentialForbidden);
  EXPECT_THAT(got.status().message(), HasSubstr("kustodian-secret-reader"));

  api_.FailNext(FakeKubeClient::Verb::kGet, 1, absl::UnavailableError("etcd timeout"));
  got = refs_.Get(ref_);
  EXPECT_TRUE(absl::IsUnavailable(got.status()));
  EXPECT_EQ(GetArmErrorCode(got.status()), kCredentialUnavailable);
}

TEST_F(CredentialRefsTest, CachedUntilDueOrStaleThenReadAgain) {
  PutSecret(GoodKeys());
  ASSERT_TRUE(refs_.Get(ref_).ok());
  ASSERT_TRUE(refs_.Get(ref_).ok());
  EXPECT_EQ(refs_.reads(), 1);

  PutSecret(GoodKeys("rotated"));
  EXPECT_EQ(refs_.Get(ref_)->principal.client_secret, kSecretValue) << "still cached";
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<SecretCredential> got = refs_.Get(ref_);
  EXPECT_EQ(got->principal.client_secret, "rotated");
  EXPECT_EQ(refs_.reads(), 2);

  refs_.MarkStale(ref_);
  ASSERT_TRUE(refs_.Get(ref_).ok());
  EXPECT_EQ(refs_.reads(), 3);

  ASSERT_TRUE(api_.Delete(kube::SecretGvr(), "adx", "writer").ok());
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(GetArmErrorCode(refs_.Get(ref_).status()), kCredentialNotFound)
      << "a deleted Secret is not used any more";
}

// --- CredentialRefArmClient with fake principals ---

class CredentialRefArmClientTest : public CredentialRefsTest {
 protected:
  CredentialRefArmClientTest()
      : client_(CredentialRefArmClientDeps{azure_, &principals_, refs_,
                                           [](const std::string& key) -> std::optional<SecretRef> {
                                             if (key == KeyOf("with-secret"))
                                               return SecretRef{"adx", "writer"};
                                             return std::nullopt;
                                           },
                                           Logger::Null()}) {}

  FakeArmClient azure_{&clock_};
  FakePrincipals principals_{azure_};
  CredentialRefArmClient client_;
};

TEST_F(CredentialRefArmClientTest, WritesOfAKeyWithASecretGoAsItsPrincipalListAsTheDaemon) {
  PutSecret(GoodKeys());
  ASSERT_TRUE(client_.Put(SpecFor("with-secret")).ok());
  ASSERT_TRUE(client_.Get(IdOf("with-secret")).ok());
  ASSERT_TRUE(client_.Put(SpecFor("plain")).ok());
  ASSERT_TRUE(client_.List(IdOf("plain").Database()).ok());
  EXPECT_THAT(principals_.used(),
              ::testing::ElementsAre(absl::StrCat("PUT as app-1/", kSecretValue),
                                     absl::StrCat("GET as app-1/", kSecretValue)));
  EXPECT_EQ(azure_.calls(FakeArmClient::Method::kPut), 2);
  EXPECT_EQ(azure_.calls(FakeArmClient::Method::kList), 1);
  EXPECT_EQ(client_.clients_made(), 1);
  EXPECT_EQ(refs_.reads(), 1) << "the Secret is read once, then cached";
}

TEST_F(CredentialRefArmClientTest, MissingSecretFailsTheCallAsCredentialNotFoundNeverNotFound) {
  absl::StatusOr<WriteResult> del = client_.Delete(IdOf("with-secret"));
  ASSERT_FALSE(del.ok());
  EXPECT_FALSE(absl::IsNotFound(del.status())) << "a DELETE answering NotFound means 'gone'";
  EXPECT_EQ(GetArmErrorCode(del.status()), kCredentialNotFound);
  EXPECT_EQ(azure_.total_calls(), 0) << "never falls back to the daemon's identity";
  EXPECT_TRUE(principals_.used().empty());
}

TEST_F(CredentialRefArmClientTest, RotatedSecretIsPickedUpOnARefusalAndTheCallRetriedOnce) {
  PutSecret(GoodKeys("old"));
  ASSERT_TRUE(client_.Put(SpecFor("with-secret")).ok());
  // The old secret expires in Entra ID and the Secret is rotated.
  principals_.Refuse("old", absl::UnauthenticatedError("AADSTS7000222: client secret expired"));
  PutSecret(GoodKeys("new"));
  absl::StatusOr<WriteResult> put = client_.Put(SpecFor("with-secret"));
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_THAT(principals_.used(),
              ::testing::ElementsAre("PUT as app-1/old", "PUT as app-1/old", "PUT as app-1/new"));
  EXPECT_EQ(client_.clients_made(), 2);
}

TEST_F(CredentialRefArmClientTest, RotationIsPickedUpPeriodicallyToo) {
  FakeClock& clock = clock_;
  PutSecret(GoodKeys("old"));
  ASSERT_TRUE(client_.Put(SpecFor("with-secret")).ok());
  PutSecret(GoodKeys("new"));
  clock.Advance(absl::Minutes(2));
  ASSERT_TRUE(client_.Put(SpecFor("with-secret")).ok());
  EXPECT_THAT(principals_.used(), ::testing::ElementsAre("PUT as app-1/old", "PUT as app-1/new"));
}

TEST_F(CredentialRefArmClientTest, RefusalByEntraIdIsCredentialRejectedWithoutTheSecret) {
  PutSecret(GoodKeys());
  absl::Status refused = absl::UnauthenticatedError(
      "Entra ID token endpoint http://127.0.0.1/tenant-1/oauth2/v2.0/token (client-secret) "
      "answered 401 invalid_client: AADSTS7000215: Invalid client secret provided.");
  SetArmErrorCode(refused, "AADSTS7000215");
  principals_.Refuse(kSecretValue, refused);
  absl::StatusOr<WriteResult> put = client_.Put(SpecFor("with-secret"));
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(put.status())) << "retried with backoff";
  EXPECT_EQ(GetArmErrorCode(put.status()), kCredentialRejected);
  EXPECT_THAT(put.status().message(), HasSubstr("AADSTS7000215"));
  EXPECT_THAT(put.status().message(), HasSubstr("\"adx/writer\""));
  EXPECT_THAT(put.status().message(), Not(HasSubstr(kSecretValue)));
  EXPECT_EQ(refs_.reads(), 2) << "the refusal re-read the Secret (unchanged: no retry)";
  EXPECT_EQ(principals_.used().size(), 1u);
}

TEST_F(CredentialRefArmClientTest, ArmPermissionDeniedSaysWhichPrincipal) {
  PutSecret(GoodKeys());
  principals_.Refuse(kSecretValue, absl::PermissionDeniedError("ARM PUT ... -> 403 "
                                                               "AuthorizationFailed"));
  absl::StatusOr<WriteResult> put = client_.Put(SpecFor("with-secret"));
  EXPECT_TRUE(absl::IsPermissionDenied(put.status()));
  EXPECT_THAT(put.status().message(), HasSubstr("Secret \"adx/writer\", clientId app-1"));
}

TEST(CredentialRefArmClientNoFactoryTest, ACredentialRefNeedsAPrincipalFactory) {
  FakeClock clock;
  FakeKubeClient api;
  FakeArmClient azure(&clock);
  CredentialRefs refs(api, clock, Logger::Null());
  CredentialRefArmClient client(CredentialRefArmClientDeps{azure, nullptr, refs,
                                                           [](const std::string&) {
                                                             return SecretRef{"adx", "w"};
                                                           },
                                                           Logger::Null()});
  absl::StatusOr<WriteResult> put = client.Put(SpecFor("x"));
  EXPECT_EQ(GetArmErrorCode(put.status()), kCredentialUnavailable);
  EXPECT_EQ(azure.total_calls(), 0);
}

// --- The real principal client over the HTTP seam ---

TEST(ArmPrincipalClientFactoryTest, TokenRequestCarriesTheSecretAndTheWriteCarriesItsToken) {
  FakeClock clock;
  ScriptedTransport transport;
  const std::string token_url = "https://login.example.test/tenant-1/oauth2/v2.0/token";
  transport.ExpectMatching(
      "token request",
      [&](const HttpRequest& r) { return r.method == "POST" && r.url == token_url; },
      ScriptedTransport::Json(
          200, {{"token_type", "Bearer"}, {"expires_in", 3599}, {"access_token", "tok-app-1"}}));
  transport.ExpectMatching(
      "PUT with the principal's token",
      [](const HttpRequest& r) {
        if (r.method != "PUT") return false;
        for (const auto& [k, v] : r.headers) {
          if (absl::EqualsIgnoreCase(k, "Authorization")) return v == "Bearer tok-app-1";
        }
        return false;
      },
      ScriptedTransport::Json(200, {{"id", IdOf("events").ResponseId()},
                                    {"name", "mykustocluster/telemetry/events"},
                                    {"kind", "IotHub"},
                                    {"location", "eastus2"},
                                    {"properties", {{"provisioningState", "Succeeded"}}}}));
  ArmPrincipalClientFactory::Config config;
  config.options.endpoint = "https://arm.example.test";
  config.authority_host = "https://login.example.test/";
  config.scope = "https://management.azure.com/.default";
  ArmPrincipalClientFactory factory(config, transport, clock, Logger::Null());
  absl::StatusOr<std::unique_ptr<ArmClient>> client =
      factory.ForPrincipal(ServicePrincipal{"tenant-1", "app-1", "s3cr3t&="});
  ASSERT_TRUE(client.ok()) << client.status();
  DataConnectionSpec spec = SpecFor("events");
  spec.kind = ConnectionKind::kIotHub;
  spec.location = "eastus2";
  absl::StatusOr<WriteResult> put = (*client)->Put(spec);
  EXPECT_TRUE(transport.Verify());
  ASSERT_GE(transport.RequestCount(), 1u);
  const std::string body = transport.Request(0).body;
  EXPECT_THAT(body, HasSubstr("client_id=app-1"));
  EXPECT_THAT(body, HasSubstr("client_secret=s3cr3t%26%3D"));
  EXPECT_THAT(body, HasSubstr("grant_type=client_credentials"));
  EXPECT_THAT(body, HasSubstr("scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
  EXPECT_TRUE(put.ok()) << put.status();

  EXPECT_TRUE(absl::IsInvalidArgument(
      factory.ForPrincipal(ServicePrincipal{"tenant-1", "app-1", ""}).status()));
}

}  // namespace
}  // namespace kustodian
