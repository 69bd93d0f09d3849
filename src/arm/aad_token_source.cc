#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "src/arm/token_sources.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

constexpr absl::Duration kTokenRequestTimeout = absl::Seconds(30);
constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::string BuildTokenUrl(std::string_view authority_host, std::string_view tenant_id) {
  std::string host(authority_host);
  while (!host.empty() && host.back() == '/') {
    host.pop_back();
  }
  return absl::StrCat(host, "/", Av(tenant_id), "/oauth2/v2.0/token");
}

}  // namespace

AadTokenSource::AadTokenSource(Config config, HttpTransport& transport, Clock& clock)
    : CachingTokenSource(clock),
      config_(std::move(config)),
      token_url_(BuildTokenUrl(config_.authority_host, config_.tenant_id)),
      transport_(transport) {}

std::string AadTokenSource::Describe() const {
  return config_.client_secret.empty() ? "workload-identity" : "client-secret";
}

absl::StatusOr<std::string> AadTokenSource::FormBody() const {
  std::string body =
      absl::StrCat("client_id=", UrlEncode(config_.client_id), "&scope=", UrlEncode(config_.scope));
  if (!config_.client_secret.empty()) {
    absl::StrAppend(&body, "&client_secret=", UrlEncode(config_.client_secret));
  } else {
    // The kubelet rotates the projected token: read it again for every request.
    std::ifstream file(config_.federated_token_file, std::ios::binary);
    if (!file) {
      return absl::UnauthenticatedError(
          absl::StrCat("cannot read the federated token file ", config_.federated_token_file));
    }
    std::stringstream contents;
    contents << file.rdbuf();
    std::string assertion(absl::StripAsciiWhitespace(contents.str()));
    if (assertion.empty()) {
      return absl::UnauthenticatedError(
          absl::StrCat("the federated token file ", config_.federated_token_file, " is empty"));
    }
    absl::StrAppend(&body, "&client_assertion_type=", UrlEncode(kJwtBearer),
                    "&client_assertion=", UrlEncode(assertion));
  }
  absl::StrAppend(&body, "&grant_type=client_credentials");
  return body;
}

absl::StatusOr<AccessToken> AadTokenSource::Fetch() {
  absl::StatusOr<std::string> body = FormBody();
  if (!body.ok()) {
    return body.status();
  }
  HttpRequest request;
  request.method = "POST";
  request.url = token_url_;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = *std::move(body);
  request.timeout = kTokenRequestTimeout;
  std::string who = absl::StrCat("Entra ID token endpoint ", token_url_, " (", Describe(), ")");
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat(who, ": ", response.status().message()));
  }
  if (response->status != 200) {
    bool transient = response->status == 429 || response->status >= 500;
    return TokenEndpointError(who, *response, transient);
  }
  return ParseTokenResponse(response->body, clock_.Now());
}

}  // namespace kustodian
