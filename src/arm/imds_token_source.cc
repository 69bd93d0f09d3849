#include "absl/strings/str_cat.h"
#include "src/arm/token_sources.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

constexpr absl::Duration kImdsTimeout = absl::Seconds(10);

std::string ImdsUrl(std::string_view endpoint, std::string_view resource,
                    std::string_view client_id) {
  std::string base(endpoint);
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  std::string url = absl::StrCat(base, "/metadata/identity/oauth2/token?api-version=2018-02-01",
                                 "&resource=", UrlEncode(resource));
  if (!client_id.empty()) {
    absl::StrAppend(&url, "&client_id=", UrlEncode(client_id));
  }
  return url;
}

}  // namespace

ManagedIdentityTokenSource::ManagedIdentityTokenSource(std::string_view imds_endpoint,
                                                       std::string_view resource,
                                                       std::string_view client_id,
                                                       HttpTransport& transport, Clock& clock)
    : CachingTokenSource(clock),
      url_(ImdsUrl(imds_endpoint, resource, client_id)),
      transport_(transport) {}

absl::StatusOr<AccessToken> ManagedIdentityTokenSource::Fetch() {
  HttpRequest request;
  request.method = "GET";
  request.url = url_;
  request.headers = {{"Metadata", "true"}, {"Accept", "application/json"}};
  request.timeout = kImdsTimeout;
  std::string who = absl::StrCat("IMDS token endpoint ", url_);
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  if (!response.ok()) {
    return absl::UnavailableError(absl::StrCat(who, ": ", response.status().message()));
  }
  if (response->status != 200) {
    // 404 and 410: IMDS is updating; 429: IMDS throttles; 5xx: transient.
    int code = response->status;
    bool transient = code == 404 || code == 410 || code == 429 || code >= 500;
    return TokenEndpointError(who, *response, transient);
  }
  return ParseTokenResponse(response->body, clock_.Now());
}

}  // namespace kustodian
