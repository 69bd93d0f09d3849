#include "src/arm/credentials.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "src/arm/token_sources.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

CloudConfig PublicCloud() {
  return {"AzurePublicCloud", "https://management.azure.com", "https://login.microsoftonline.com",
          "https://management.azure.com/.default", "https://management.azure.com/"};
}

CloudConfig ChinaCloud() {
  return {"AzureChinaCloud", "https://management.chinacloudapi.cn",
          "https://login.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default",
          "https://management.chinacloudapi.cn/"};
}

CloudConfig UsGovernmentCloud() {
  return {"AzureUSGovernment", "https://management.usgovcloudapi.net",
          "https://login.microsoftonline.us", "https://management.usgovcloudapi.net/.default",
          "https://management.usgovcloudapi.net/"};
}

void SetFromEnv(std::string& field, const char* name) {
  if (!field.empty()) {
    return;
  }
  const char* value = std::getenv(name);
  if (value != nullptr) {
    field = value;
  }
}

}  // namespace

absl::StatusOr<CloudConfig> CloudByName(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(Av(name));
  if (lower == "azurepubliccloud" || lower == "public" || lower == "azurecloud") {
    return PublicCloud();
  }
  if (lower == "azurechinacloud" || lower == "china") {
    return ChinaCloud();
  }
  if (lower == "azureusgovernment" || lower == "azureusgovernmentcloud" || lower == "usgov") {
    return UsGovernmentCloud();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown Azure cloud '", Av(name),
      "'; use AzurePublicCloud (public), AzureChinaCloud (china) or AzureUSGovernment (usgov)"));
}

CredentialOptions CredentialOptionsFromEnv(CredentialOptions base) {
  SetFromEnv(base.tenant_id, "AZURE_TENANT_ID");
  SetFromEnv(base.client_id, "AZURE_CLIENT_ID");
  SetFromEnv(base.client_secret, "AZURE_CLIENT_SECRET");
  SetFromEnv(base.federated_token_file, "AZURE_FEDERATED_TOKEN_FILE");
  SetFromEnv(base.authority_host, "AZURE_AUTHORITY_HOST");
  return base;
}

absl::StatusOr<std::unique_ptr<TokenSource>> NewTokenSource(const CredentialOptions& options,
                                                            const CloudConfig& cloud,
                                                            HttpTransport& transport,
                                                            Clock& clock) {
  if (!options.static_token.empty()) {
    return std::make_unique<StaticTokenSource>(options.static_token, clock);
  }
  bool has_secret = !options.client_secret.empty();
  bool has_file = !options.federated_token_file.empty();
  if (has_secret || has_file) {
    std::string flow = has_secret ? "a client secret" : "a federated token file";
    if (options.tenant_id.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          flow, " is set but the tenant id is not: set AZURE_TENANT_ID (or --tenant-id)"));
    }
    if (options.client_id.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          flow, " is set but the client id is not: set AZURE_CLIENT_ID (or --client-id)"));
    }
    AadTokenSource::Config config;
    config.authority_host =
        options.authority_host.empty() ? cloud.authority_host : options.authority_host;
    config.tenant_id = options.tenant_id;
    config.client_id = options.client_id;
    config.scope = cloud.arm_scope;
    if (has_secret) {
      config.client_secret = options.client_secret;
    } else {
      config.federated_token_file = options.federated_token_file;
    }
    return std::make_unique<AadTokenSource>(std::move(config), transport, clock);
  }
  // Managed identity; a client id selects a user-assigned identity.
  return std::make_unique<ManagedIdentityTokenSource>(options.imds_endpoint, cloud.imds_resource,
                                                      options.client_id, transport, clock);
}

}  // namespace kustodian
