// Credentials for ARM: a TokenSource yields a bearer token for the ARM audience, cached and
// refreshed before expiry. Implementations: client secret, workload identity (federated token
// file), managed identity (IMDS), and a static token for tests and the emulator.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/http/http.h"

namespace kustodian {

struct AccessToken {
  std::string token;
  absl::Time expires_on;
};

// Thread-safe in every implementation.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token valid for at least a few more minutes (refreshes when less than 5 minutes remain).
  // Unauthenticated with the identity provider's error (AADSTS code) when the provider refuses;
  // Unavailable when it cannot be reached.
  virtual absl::StatusOr<AccessToken> GetToken() = 0;
  // Forgets any cached token (after ARM answered 401 ExpiredAuthenticationToken).
  virtual void Invalidate() = 0;
  // "client-secret", "workload-identity", "managed-identity", "static".
  virtual std::string Describe() const = 0;
};

// A named Azure cloud.
struct CloudConfig {
  std::string name;            // "AzurePublicCloud", "AzureChinaCloud", "AzureUSGovernment"
  std::string arm_endpoint;    // "https://management.azure.com"
  std::string authority_host;  // "https://login.microsoftonline.com"
  std::string arm_scope;       // "https://management.azure.com/.default"
  std::string imds_resource;   // "https://management.azure.com/"
};
// Looks up a cloud by name (case-insensitive; "public", "china", "usgov" accepted too).
absl::StatusOr<CloudConfig> CloudByName(std::string_view name);

struct CredentialOptions {
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;
  std::string federated_token_file;
  std::string authority_host;  // overrides the cloud's; may end with '/'
  std::string imds_endpoint = "http://169.254.169.254";
  std::string static_token;  // for local use against the emulator only
};

// Reads AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE,
// AZURE_AUTHORITY_HOST into options (fields already set are kept).
CredentialOptions CredentialOptionsFromEnv(CredentialOptions base = {});

// Chooses: static token if set; client secret if tenant+client+secret; workload identity if
// tenant+client+token file; else managed identity. InvalidArgument when the set is
// inconsistent (e.g. a secret without a tenant).
absl::StatusOr<std::unique_ptr<TokenSource>> NewTokenSource(const CredentialOptions& options,
                                                            const CloudConfig& cloud,
                                                            HttpTransport& transport, Clock& clock);

}  // namespace kustodian
