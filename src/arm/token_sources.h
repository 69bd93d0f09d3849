// The TokenSource implementations behind NewTokenSource (credentials.h): a caching base class
// and the static, client-secret / workload-identity (Entra ID v2 token endpoint) and managed
// identity (IMDS) flows. Exposed for tests; production code calls NewTokenSource.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/arm/credentials.h"
#include "src/core/clock.h"
#include "src/http/http.h"

namespace kustodian {

// Caches the token from Fetch() and refreshes it when less than 5 minutes (or half its
// lifetime, if shorter) remain. One refresh at a time. When a refresh fails while the cached
// token is still valid for 30 s or more, the cached token is returned. Thread-safe.
class CachingTokenSource : public TokenSource {
 public:
  absl::StatusOr<AccessToken> GetToken() final;
  void Invalidate() final;

 protected:
  explicit CachingTokenSource(Clock& clock) : clock_(clock) {}
  // Asks the identity provider for a new token. Called with no cache lock held, one at a time.
  virtual absl::StatusOr<AccessToken> Fetch() = 0;
  Clock& clock_;

 private:
  struct Cached {
    AccessToken token;
    absl::Time refresh_at;
  };
  std::mutex refresh_mu_;  // held for the whole of a Fetch()
  std::mutex mu_;
  std::optional<Cached> cached_;  // guarded by mu_
};

// A fixed token (for the emulator and tests): valid for a day from every GetToken().
class StaticTokenSource final : public TokenSource {
 public:
  StaticTokenSource(std::string token, Clock& clock) : token_(std::move(token)), clock_(clock) {}
  absl::StatusOr<AccessToken> GetToken() override {
    return AccessToken{token_, clock_.Now() + absl::Hours(24)};
  }
  void Invalidate() override {}
  std::string Describe() const override { return "static"; }

 private:
  const std::string token_;
  Clock& clock_;
};

// Entra ID v2 client-credentials grant:
// POST {authority}/{tenant}/oauth2/v2.0/token with client_id, scope, grant_type and either
// client_secret or (workload identity) a client_assertion read from the federated token file
// on every request.
class AadTokenSource final : public CachingTokenSource {
 public:
  struct Config {
    std::string authority_host;  // trailing '/' allowed
    std::string tenant_id;
    std::string client_id;
    std::string scope;                 // e.g. https://management.azure.com/.default
    std::string client_secret;         // set for client-secret
    std::string federated_token_file;  // set for workload identity (when no secret)
  };
  AadTokenSource(Config config, HttpTransport& transport, Clock& clock);
  std::string Describe() const override;
  // The token endpoint URL requests go to.
  const std::string& TokenUrl() const { return token_url_; }

 protected:
  absl::StatusOr<AccessToken> Fetch() override;

 private:
  absl::StatusOr<std::string> FormBody() const;

  const Config config_;
  const std::string token_url_;
  HttpTransport& transport_;
};

// Managed identity through IMDS:
// GET {imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id=C]
// with "Metadata: true".
class ManagedIdentityTokenSource final : public CachingTokenSource {
 public:
  ManagedIdentityTokenSource(std::string_view imds_endpoint, std::string_view resource,
                             std::string_view client_id, HttpTransport& transport, Clock& clock);
  std::string Describe() const override { return "managed-identity"; }

 protected:
  absl::StatusOr<AccessToken> Fetch() override;

 private:
  const std::string url_;
  HttpTransport& transport_;
};

// Parses a token endpoint's 200 body: access_token plus expires_in (seconds, integer or string)
// or, failing that, expires_on (Unix seconds, integer or string). Unauthenticated when the body
// is not JSON or has no access_token.
absl::StatusOr<AccessToken> ParseTokenResponse(std::string_view body, absl::Time now);

// The error for a token endpoint's non-200 answer: Unavailable (Retry-After attached) when
// `transient`, else Unauthenticated. The message names `who` and carries the provider's `error`
// and `error_description` (which hold no secrets); the AADSTS code, or else `error`, is
// attached as the error code.
absl::Status TokenEndpointError(std::string_view who, const HttpResponse& response, bool transient);

}  // namespace kustodian
