#include "src/emulator/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/emulator/http_util.h"
#include "src/emulator/time_format.h"

namespace kustodian::emulator {

namespace {

uint64_t KeyedFnv(std::string_view key, std::string_view data, uint64_t basis) {
  uint64_t h = basis;
  for (std::string_view part : {key, std::string_view("|"), data}) {
    for (char c : part) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

absl::Status Unauthenticated(std::string_view code, std::string_view message) {
  return ArmStatus(absl::StatusCode::kUnauthenticated, code, message);
}

}  // namespace

std::string TokenAuthority::Checksum(std::string_view signed_part) const {
  return Base64UrlEncode(absl::StrFormat("%016x%016x",
                                         KeyedFnv(key_, signed_part, 0xcbf29ce484222325ull),
                                         KeyedFnv(key_, signed_part, 0x6c62272e07bb0142ull)));
}

std::string TokenAuthority::Mint(const TokenClaims& claims) const {
  nlohmann::ordered_json header = {{"typ", "JWT"}, {"alg", "none"}, {"kid", "kustodian-emulator"}};
  nlohmann::ordered_json payload = {
      {"aud", claims.aud},
      {"iss", absl::StrCat("https://sts.windows.net/", claims.tid, "/")},
      {"iat", absl::ToUnixSeconds(claims.iat)},
      {"nbf", absl::ToUnixSeconds(claims.nbf)},
      {"exp", absl::ToUnixSeconds(claims.exp)},
      {"appid", claims.appid},
      {"oid", claims.oid},
      {"sub", claims.oid},
      {"tid", claims.tid},
      {"ver", "1.0"}};
  std::string signed_part =
      absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
  return absl::StrCat(signed_part, ".", Checksum(signed_part));
}

bool IsArmAudience(std::string_view aud) {
  std::string a = absl::AsciiStrToLower(Av(aud));
  if (absl::EndsWith(a, "/")) {
    a.pop_back();
  }
  return a == "https://management.azure.com" || a == "https://management.core.windows.net";
}

absl::StatusOr<TokenClaims> TokenAuthority::Verify(std::string_view token, absl::Time now) const {
  std::vector<std::string> parts = absl::StrSplit(Av(token), '.');
  if (parts.size() != 3 || Checksum(absl::StrCat(parts[0], ".", parts[1])) != parts[2]) {
    return Unauthenticated("InvalidAuthenticationToken", "The access token is invalid.");
  }
  std::optional<std::string> payload_text = Base64Decode(parts[1]);
  TokenClaims claims;
  try {
    nlohmann::json payload = nlohmann::json::parse(payload_text.value_or(""));
    claims.aud = payload.at("aud").get<std::string>();
    claims.oid = payload.value("oid", std::string());
    claims.appid = payload.value("appid", std::string());
    claims.tid = payload.value("tid", std::string());
    claims.iat = absl::FromUnixSeconds(payload.value("iat", int64_t{0}));
    claims.nbf = absl::FromUnixSeconds(payload.value("nbf", int64_t{0}));
    claims.exp = absl::FromUnixSeconds(payload.at("exp").get<int64_t>());
  } catch (const nlohmann::json::exception&) {
    return Unauthenticated("InvalidAuthenticationToken", "The access token is invalid.");
  }
  if (now < claims.nbf) {
    return Unauthenticated("InvalidAuthenticationToken",
                           absl::StrCat("The access token is not yet valid: its 'nbf' time '",
                                        FormatArmTime(claims.nbf),
                                        "' is later than current UTC "
                                        "time '",
                                        FormatArmTime(now), "'."));
  }
  if (now >= claims.exp) {
    return Unauthenticated(
        "ExpiredAuthenticationToken",
        absl::StrCat("The access token expiry UTC time '", FormatArmTime(claims.exp),
                     "' is earlier than current UTC time '", FormatArmTime(now), "'."));
  }
  if (!IsArmAudience(claims.aud)) {
    return Unauthenticated(
        "InvalidAuthenticationTokenAudience",
        absl::StrCat("The access token has been obtained for wrong audience or resource '",
                     claims.aud,
                     "'. It should exactly match with one of the allowed audiences "
                     "'https://management.core.windows.net/','https://management.core.windows.net',"
                     "'https://management.azure.com/','https://management.azure.com'."));
  }
  return claims;
}

absl::StatusOr<std::string> AuthenticateArm(const ServerRequest& request,
                                            const TokenAuthority& authority,
                                            std::string_view dev_token, absl::Time now) {
  std::optional<std::string> header = GetHeader(request.headers, "Authorization");
  if (!header.has_value() || header->empty()) {
    return Unauthenticated("AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is missing.");
  }
  absl::string_view value = Av(*header);
  if (!absl::ConsumePrefix(&value, "Bearer ") && !absl::ConsumePrefix(&value, "bearer ")) {
    return Unauthenticated("AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an "
                           "invalid format.");
  }
  value = absl::StripAsciiWhitespace(value);
  if (!dev_token.empty() && value == Av(dev_token)) {
    return std::string("dev");
  }
  absl::StatusOr<TokenClaims> claims = authority.Verify(Sv(value), now);
  if (!claims.ok()) {
    return claims.status();
  }
  return claims->oid.empty() ? claims->appid : claims->oid;
}

namespace {

ServerResponse AadError(int status, std::string_view error, int code, std::string_view text,
                        absl::Time now, RandomSource& rng) {
  std::string trace_id = rng.NewGuid();
  std::string correlation_id = rng.NewGuid();
  std::string timestamp = absl::FormatTime("%Y-%m-%d %H:%M:%SZ", now, absl::UTCTimeZone());
  nlohmann::ordered_json body = {
      {"error", std::string(error)},
      {"error_description",
       absl::StrCat("AADSTS", code, ": ", Av(text), "\r\nTrace ID: ", trace_id,
                    "\r\nCorrelation ID: ", correlation_id, "\r\nTimestamp: ", timestamp)},
      {"error_codes", {code}},
      {"timestamp", timestamp},
      {"trace_id", trace_id},
      {"correlation_id", correlation_id},
      {"error_uri", absl::StrCat("https://login.microsoftonline.com/error?code=", code)}};
  return JsonResponse(status, body);
}

const Principal* FindPrincipal(const std::vector<Principal>& principals, std::string_view client_id,
                               std::string_view tenant) {
  for (const Principal& p : principals) {
    if (absl::EqualsIgnoreCase(p.client_id, Av(client_id)) &&
        (p.tenant_id.empty() || absl::EqualsIgnoreCase(p.tenant_id, Av(tenant)))) {
      return &p;
    }
  }
  return nullptr;
}

std::string TenantOf(const Principal& p, std::string_view requested_tenant) {
  return p.tenant_id.empty() ? std::string(requested_tenant) : p.tenant_id;
}

}  // namespace

ServerResponse HandleTokenRequest(const ServerRequest& request, std::string_view tenant,
                                  const std::vector<Principal>& principals,
                                  const TokenAuthority& authority, const AuthSettings& settings,
                                  absl::Time now, RandomSource& rng) {
  std::map<std::string, std::string> form = ParseForm(request.body);
  // HTTP Basic client authentication (RFC 6749 §2.3.1) is accepted too.
  std::optional<std::string> basic = GetHeader(request.headers, "Authorization");
  if (basic.has_value() && absl::StartsWithIgnoreCase(*basic, "Basic ")) {
    std::optional<std::string> decoded = Base64Decode(basic->substr(6));
    if (decoded.has_value()) {
      size_t colon = decoded->find(':');
      form.emplace("client_id", PercentDecode(decoded->substr(0, colon)));
      if (colon != std::string::npos) {
        form.emplace("client_secret", PercentDecode(decoded->substr(colon + 1)));
      }
    }
  }
  auto param = [&](const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  auto missing = [&](const char* name) {
    return AadError(
        400, "invalid_request", 900144,
        absl::StrCat("The request body must contain the following parameter: '", name, "'."), now,
        rng);
  };
  if (param("grant_type").empty()) {
    return missing("grant_type");
  }
  if (param("grant_type") != "client_credentials") {
    return AadError(400, "unsupported_grant_type", 70003,
                    "The app requested an unsupported grant type.", now, rng);
  }
  std::string client_id = param("client_id");
  if (client_id.empty()) {
    return missing("client_id");
  }
  std::string scope = param("scope");
  if (scope.empty()) {
    return missing("scope");
  }
  const Principal* principal = FindPrincipal(principals, client_id, tenant);
  if (principal == nullptr) {
    return AadError(400, "unauthorized_client", 700016,
                    absl::StrCat("Application with identifier '", client_id,
                                 "' was not found in the directory '", Av(tenant),
                                 "'. This can happen if the application has not been installed "
                                 "by the administrator of the tenant or consented to by any "
                                 "user in the tenant."),
                    now, rng);
  }
  if (scope.find(' ') != std::string::npos || !absl::EndsWith(scope, "/.default")) {
    return AadError(400, "invalid_scope", 70011,
                    absl::StrCat("The provided value for the input parameter 'scope' is not "
                                 "valid. The scope ",
                                 scope, " is not valid."),
                    now, rng);
  }
  std::string secret = param("client_secret");
  std::string assertion = param("client_assertion");
  if (!assertion.empty()) {
    if (!principal->federated) {
      return AadError(400, "invalid_client", 70021,
                      "No matching federated identity record found for presented assertion.", now,
                      rng);
    }
  } else if (!secret.empty()) {
    if (principal->client_secret.empty() || secret != principal->client_secret) {
      return AadError(401, "invalid_client", 7000215,
                      absl::StrCat("Invalid client secret provided. Ensure the secret being sent "
                                   "in the request is the client secret value, not the client "
                                   "secret ID, for a secret added to app '",
                                   client_id, "'."),
                      now, rng);
    }
  } else {
    return AadError(401, "invalid_client", 7000218,
                    "The request body must contain the following parameter: 'client_assertion' "
                    "or 'client_secret'.",
                    now, rng);
  }
  TokenClaims claims;
  claims.aud = scope.substr(0, scope.size() - std::string_view("/.default").size());
  claims.oid = principal->object_id;
  claims.appid = principal->client_id;
  claims.tid = TenantOf(*principal, tenant);
  claims.iat = now;
  claims.nbf = now;
  claims.exp = now + settings.token_lifetime;
  int64_t expires_in = absl::ToInt64Seconds(settings.token_lifetime);
  nlohmann::ordered_json body = {{"token_type", "Bearer"},
                                 {"expires_in", expires_in},
                                 {"ext_expires_in", expires_in},
                                 {"access_token", authority.Mint(claims)}};
  return JsonResponse(200, body);
}

ServerResponse HandleImdsRequest(const ServerRequest& request,
                                 const std::vector<Principal>& principals,
                                 const TokenAuthority& authority, const AuthSettings& settings,
                                 absl::Time now) {
  auto error = [](std::string_view code, std::string_view description) {
    return JsonResponse(400,
                        nlohmann::ordered_json{{"error", std::string(code)},
                                               {"error_description", std::string(description)}});
  };
  std::optional<std::string> metadata = GetHeader(request.headers, "Metadata");
  if (!metadata.has_value() || absl::AsciiStrToLower(*metadata) != "true") {
    return error("invalid_request", "Required metadata header not specified");
  }
  if (!GetQuery(request, "api-version").has_value()) {
    return error("invalid_request", "Required query variable 'api-version' is missing");
  }
  std::optional<std::string> resource = GetQuery(request, "resource");
  if (!resource.has_value() || resource->empty()) {
    return error("invalid_request", "Required query variable 'resource' is missing");
  }
  std::optional<std::string> client_id = GetQuery(request, "client_id");
  const Principal* identity = nullptr;
  for (const Principal& p : principals) {
    if (p.managed_identity &&
        (!client_id.has_value() || absl::EqualsIgnoreCase(p.client_id, *client_id))) {
      identity = &p;
      break;
    }
  }
  if (identity == nullptr) {
    return error("invalid_request", "Identity not found");
  }
  TokenClaims claims;
  claims.aud = *resource;
  claims.oid = identity->object_id;
  claims.appid = identity->client_id;
  claims.tid = identity->tenant_id;
  claims.iat = now;
  claims.nbf = now;
  claims.exp = now + settings.token_lifetime;
  nlohmann::ordered_json body = {
      {"access_token", authority.Mint(claims)},
      {"refresh_token", ""},
      {"expires_in", std::to_string(absl::ToInt64Seconds(settings.token_lifetime))},
      {"expires_on", std::to_string(absl::ToUnixSeconds(claims.exp))},
      {"not_before", std::to_string(absl::ToUnixSeconds(claims.nbf))},
      {"resource", *resource},
      {"token_type", "Bearer"}};
  return JsonResponse(200, body);
}

}  // namespace kustodian::emulator
