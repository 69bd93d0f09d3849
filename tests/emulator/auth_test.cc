// The fake Entra ID: token endpoint (secret, federated assertion, errors with AADSTS codes),
// IMDS, and ARM's 401 answers for missing, malformed, foreign, expired and wrong-audience tokens.
#include "src/emulator/auth.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/emulator/emulator_test_util.h"

namespace kustodian::emulator::testing {
namespace {

class AuthTest : public EmulatorTest {
 protected:
  ServerResponse Token(const std::string& form, const std::string& tenant = kTenant) {
    return Call(MakeRequest("POST", "/" + tenant + "/oauth2/v2.0/token", form, false));
  }
  static std::string SecretForm(
      const std::string& secret = kSecret,
      const std::string& scope = "https%3A%2F%2Fmanagement.azure.com%2F.default") {
    return absl::StrCat("grant_type=client_credentials&client_id=", kClientId,
                        "&client_secret=", secret, "&scope=", scope);
  }
  ServerResponse GetWith(const std::string& authorization) {
    ServerRequest request =
        MakeRequest("GET", std::string(kDb) + "/dataConnections" + kApi, "", false);
    if (!authorization.empty()) {
      request.headers.emplace_back("Authorization", authorization);
    }
    return Call(request);
  }
  static int AadCode(const ServerResponse& r) { return BodyJson(r)["error_codes"][0].get<int>(); }
};

TEST_F(AuthTest, ClientSecretGrantIssuesAUsableToken) {
  ServerResponse r = Token(SecretForm());
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = BodyJson(r);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);  // an integer in the v2 endpoint
  EXPECT_TRUE(body["ext_expires_in"].is_number());
  std::string token = body["access_token"];
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  // The payload is readable base64url JSON with the claims ARM uses.
  std::string payload = token.substr(token.find('.') + 1);
  payload = payload.substr(0, payload.find('.'));
  nlohmann::json claims = nlohmann::json::parse(*Base64Decode(payload));
  EXPECT_EQ(claims["aud"], "https://management.azure.com");
  EXPECT_EQ(claims["oid"], "21111111-1111-1111-1111-111111111111");
  EXPECT_EQ(claims["appid"], kClientId);
  EXPECT_EQ(claims["tid"], kTenant);
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 3600);
  EXPECT_EQ(GetWith("Bearer " + token).status, 200);
}

TEST_F(AuthTest, TokenLifetimeIsConfigurableAndExpiryIs401) {
  EmulatorOptions options = TestOptions();
  options.token_lifetime = absl::Seconds(60);
  Start(options);
  nlohmann::json body = BodyJson(Token(SecretForm()));
  EXPECT_EQ(body["expires_in"], 60);
  std::string bearer = "Bearer " + body["access_token"].get<std::string>();
  clock_.Advance(absl::Seconds(59));
  EXPECT_EQ(GetWith(bearer).status, 200);
  clock_.Advance(absl::Seconds(1));
  ServerResponse expired = GetWith(bearer);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(ErrorCode(expired), "ExpiredAuthenticationToken");
  EXPECT_TRUE(absl::StartsWith(*Hdr(expired, "WWW-Authenticate"), "Bearer "));
}

TEST_F(AuthTest, FederatedAssertionGrant) {
  ServerResponse ok = Token(
      "grant_type=client_credentials&client_id=33333333-3333-3333-3333-333333333333"
      "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
      "&client_assertion=eyJhbGciOiJSUzI1NiJ9.e30.sig&scope=https%3A%2F%2Fmanagement.azure.com"
      "%2F.default");
  EXPECT_EQ(ok.status, 200) << ok.body;
  // A principal without federation refuses assertions.
  ServerResponse refused = Token(
      absl::StrCat("grant_type=client_credentials&client_id=", kClientId,
                   "&client_assertion=abc&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(AadCode(refused), 70021);
}

TEST_F(AuthTest, BasicClientAuthenticationIsAccepted) {
  ServerRequest request = MakeRequest(
      "POST", std::string("/") + kTenant + "/oauth2/v2.0/token",
      "grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default", false);
  request.headers.emplace_back("Authorization",
                               "Basic " + Base64UrlEncode(std::string(kClientId) + ":" + kSecret));
  EXPECT_EQ(Call(request).status, 200);
}

TEST_F(AuthTest, TokenEndpointErrors) {
  ServerResponse unknown = Token(
      "grant_type=client_credentials&client_id=99999999-0000-0000-0000-000000000000"
      "&client_secret=x&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(BodyJson(unknown)["error"], "unauthorized_client");
  EXPECT_EQ(AadCode(unknown), 700016);
  EXPECT_TRUE(absl::StartsWith(BodyJson(unknown)["error_description"].get<std::string>(),
                               "AADSTS700016: "));

  ServerResponse wrong_tenant = Token(SecretForm(), "20000000-0000-0000-0000-000000000002");
  EXPECT_EQ(AadCode(wrong_tenant), 700016);

  ServerResponse bad_secret = Token(SecretForm("nope"));
  EXPECT_EQ(bad_secret.status, 401);
  EXPECT_EQ(BodyJson(bad_secret)["error"], "invalid_client");
  EXPECT_EQ(AadCode(bad_secret), 7000215);

  ServerResponse no_credential =
      Token(absl::StrCat("grant_type=client_credentials&client_id=", kClientId,
                         "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
  EXPECT_EQ(no_credential.status, 401);
  EXPECT_EQ(AadCode(no_credential), 7000218);

  ServerResponse bad_grant = Token("grant_type=password&client_id=x");
  EXPECT_EQ(bad_grant.status, 400);
  EXPECT_EQ(AadCode(bad_grant), 70003);

  ServerResponse no_scope = Token(absl::StrCat(
      "grant_type=client_credentials&client_id=", kClientId, "&client_secret=", kSecret));
  EXPECT_EQ(AadCode(no_scope), 900144);

  ServerResponse bad_scope = Token(SecretForm(kSecret, "https%3A%2F%2Fmanagement.azure.com"));
  EXPECT_EQ(bad_scope.status, 400);
  EXPECT_EQ(AadCode(bad_scope), 70011);
}

TEST_F(AuthTest, ImdsRequiresMetadataHeaderAndReturnsStrings) {
  std::string target =
      "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
      "https%3A%2F%2Fmanagement.azure.com%2F";
  ServerResponse no_header = Call(MakeRequest("GET", target, "", false));
  EXPECT_EQ(no_header.status, 400);
  EXPECT_EQ(BodyJson(no_header)["error_description"], "Required metadata header not specified");

  ServerRequest request = MakeRequest("GET", target, "", false);
  request.headers.emplace_back("Metadata", "true");
  ServerResponse r = Call(request);
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = BodyJson(r);
  EXPECT_TRUE(body["expires_in"].is_string());
  EXPECT_EQ(body["expires_in"], "3600");
  EXPECT_TRUE(body["expires_on"].is_string());
  EXPECT_TRUE(body["not_before"].is_string());
  EXPECT_EQ(body["resource"], "https://management.azure.com/");
  EXPECT_EQ(GetWith("Bearer " + body["access_token"].get<std::string>()).status, 200);
}

TEST_F(AuthTest, MissingAuthorizationIsAuthenticationFailed) {
  ServerResponse r = GetWith("");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "AuthenticationFailed");
  EXPECT_EQ(GetWith("Basic abc").status, 401);
}

TEST_F(AuthTest, MalformedOrForeignTokenIsInvalidAuthenticationToken) {
  ServerResponse malformed = GetWith("Bearer not-a-jwt");
  EXPECT_EQ(malformed.status, 401);
  EXPECT_EQ(ErrorCode(malformed), "InvalidAuthenticationToken");
  // A token minted by another authority (different key) is rejected too.
  TokenAuthority other("another-key");
  TokenClaims claims;
  claims.aud = "https://management.azure.com/";
  claims.oid = "x";
  claims.iat = claims.nbf = clock_.Now();
  claims.exp = clock_.Now() + absl::Hours(1);
  EXPECT_EQ(ErrorCode(GetWith("Bearer " + other.Mint(claims))), "InvalidAuthenticationToken");
}

TEST_F(AuthTest, WrongAudienceIsInvalidAuthenticationTokenAudience) {
  std::string token = BodyJson(
      Token(SecretForm(kSecret, "https%3A%2F%2Fkusto.windows.net%2F.default")))["access_token"];
  ServerResponse r = GetWith("Bearer " + token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "InvalidAuthenticationTokenAudience");
}

TEST_F(AuthTest, TokenAuthorityChecksNotBefore) {
  TokenAuthority authority("k");
  TokenClaims claims;
  claims.aud = "https://management.core.windows.net/";
  claims.oid = "o";
  claims.iat = claims.nbf = absl::FromUnixSeconds(2000);
  claims.exp = absl::FromUnixSeconds(5000);
  std::string token = authority.Mint(claims);
  EXPECT_FALSE(authority.Verify(token, absl::FromUnixSeconds(1999)).ok());
  absl::StatusOr<TokenClaims> ok = authority.Verify(token, absl::FromUnixSeconds(2000));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->oid, "o");
  // Tampering with the payload breaks the checksum.
  std::string tampered = token;
  tampered[tampered.find('.') + 3] ^= 1;
  EXPECT_FALSE(authority.Verify(tampered, absl::FromUnixSeconds(2000)).ok());
}

TEST_F(AuthTest, DevTokenAndNoAuth) {
  EXPECT_EQ(GetWith("Bearer devtok").status, 200);
  EmulatorOptions options = TestOptions();
  options.auth = false;
  Start(options);
  EXPECT_EQ(GetWith("").status, 200);
}

}  // namespace
}  // namespace kustodian::emulator::testing
