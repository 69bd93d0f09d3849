// Fake Microsoft Entra ID for the emulator: a client-credentials token endpoint (secret or
// federated assertion), an IMDS-style managed-identity endpoint, and the bearer-token checks ARM
// applies to every call (401 AuthenticationFailed / InvalidAuthenticationToken /
// ExpiredAuthenticationToken / InvalidAuthenticationTokenAudience). Tokens are unsigned-JWT
// look-alikes whose third part is a keyed checksum, so tokens not minted here are rejected.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/emulator/ids.h"
#include "src/emulator/world.h"
#include "src/http/server.h"

namespace kustodian::emulator {

struct TokenClaims {
  std::string aud;
  std::string oid;
  std::string appid;
  std::string tid;
  absl::Time iat;
  absl::Time nbf;
  absl::Time exp;
};

// Thread-safe (immutable after construction).
class TokenAuthority {
 public:
  explicit TokenAuthority(std::string key) : key_(std::move(key)) {}

  // header.payload.checksum, base64url, with aud/oid/appid/tid/iat/nbf/exp/iss/sub/ver claims.
  std::string Mint(const TokenClaims& claims) const;

  // The claims of a token minted by this authority, checked at `now`. Errors (Unauthenticated,
  // with the ARM code attached): InvalidAuthenticationToken (malformed, not ours, not yet
  // valid), ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience (aud is not ARM).
  absl::StatusOr<TokenClaims> Verify(std::string_view token, absl::Time now) const;

 private:
  std::string Checksum(std::string_view signed_part) const;
  std::string key_;
};

// True for the audiences ARM accepts (management.azure.com and management.core.windows.net,
// with or without the trailing slash).
bool IsArmAudience(std::string_view aud);

struct AuthSettings {
  absl::Duration token_lifetime = absl::Seconds(3600);
};

// Authenticates an ARM call from its Authorization header. Returns the principal key used for
// throttling: the token's oid (else appid), or "dev" for `dev_token` (when non-empty). Errors
// (Unauthenticated, ARM code attached): AuthenticationFailed (header missing or not Bearer), and
// those of TokenAuthority::Verify.
absl::StatusOr<std::string> AuthenticateArm(const ServerRequest& request,
                                            const TokenAuthority& authority,
                                            std::string_view dev_token, absl::Time now);

// POST /{tenant}/oauth2/v2.0/token (form body). 200 {token_type, expires_in (int),
// ext_expires_in, access_token}; AAD-style errors: 400 unsupported_grant_type (AADSTS70003),
// 400 invalid_request (AADSTS900144, missing parameter), 400 unauthorized_client (AADSTS700016,
// unknown client id for the tenant), 400 invalid_scope (AADSTS70011), 401 invalid_client
// (AADSTS7000215 bad secret, AADSTS7000218 no credential), 400 invalid_client (AADSTS70021,
// assertion for a principal without federation).
ServerResponse HandleTokenRequest(const ServerRequest& request, std::string_view tenant,
                                  const std::vector<Principal>& principals,
                                  const TokenAuthority& authority, const AuthSettings& settings,
                                  absl::Time now, RandomSource& rng);

// GET /metadata/identity/oauth2/token?api-version=..&resource=..[&client_id=..] with header
// "Metadata: true". 200 with string expires_in/expires_on/not_before; 400 {error,
// error_description} when the header, api-version or resource is missing or no managed identity
// matches.
ServerResponse HandleImdsRequest(const ServerRequest& request,
                                 const std::vector<Principal>& principals,
                                 const TokenAuthority& authority, const AuthSettings& settings,
                                 absl::Time now);

}  // namespace kustodian::emulator
