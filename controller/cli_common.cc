// Pieces shared by the CLI subcommands: ARM flags, manifest loading, DNS-1123 names.
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controller/cli_internal.h"
#include "controller/stable_hash.h"
#include "src/core/status.h"

namespace kustodian {

void AddArmFlags(CLI::App* app, ArmFlagInputs* in) {
  WithEnv(app->add_option("--arm-endpoint", in->endpoint,
                          "ARM base URL (default: the cloud's, e.g. https://management.azure.com; "
                          "http://127.0.0.1:PORT for the emulator)"));
  WithEnv(app->add_option("--cloud", in->cloud,
                          "AzurePublicCloud, AzureChinaCloud or AzureUSGovernment")
              ->capture_default_str());
  WithEnv(app->add_option("--api-version", in->api_version,
                          "ARM api-version for data connections: 2024-04-13 or 2025-02-14 (the "
                          "*WithManagedIdentity kinds always use 2025-02-14)")
              ->capture_default_str());
  WithEnv(app->add_flag("--insecure-skip-tls-verify", in->insecure_skip_tls_verify,
                        "Do not verify TLS certificates (emulator only; logged at every start)"));
  WithEnv(app->add_option("--token", in->token,
                          "Static bearer token (for the emulator). Otherwise credentials come "
                          "from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, "
                          "AZURE_FEDERATED_TOKEN_FILE (workload identity) or managed identity"));
  WithEnv(app->add_option("--tenant-id", in->tenant_id,
                          "Entra ID tenant for a service principal or workload identity "
                          "(default: AZURE_TENANT_ID)"));
  WithEnv(app->add_option("--client-id", in->client_id,
                          "Client id of the service principal, workload identity or "
                          "user-assigned managed identity (default: AZURE_CLIENT_ID)"));
  WithEnv(app->add_option("--imds-endpoint", in->imds_endpoint,
                          "Managed-identity endpoint (default: http://169.254.169.254)"));
  WithEnv(app->add_option("--arm-rate-limits", in->rate_limits,
                          "Client-side ARM token buckets, TYPE=BURST/PER_SECOND for reads, "
                          "writes and deletes, or \"off\"")
              ->capture_default_str());
}

absl::StatusOr<ArmFlags> ResolveArmFlags(const ArmFlagInputs& in) {
  ArmFlags flags;
  flags.endpoint = in.endpoint;
  flags.cloud = in.cloud;
  flags.api_version = in.api_version;
  flags.insecure_skip_tls_verify = in.insecure_skip_tls_verify;
  flags.token = in.token;
  flags.tenant_id = in.tenant_id;
  flags.client_id = in.client_id;
  flags.imds_endpoint = in.imds_endpoint;
  KUS_ASSIGN_OR_RETURN(flags.rate_limits, ParseArmRateLimits(in.rate_limits));
  KUS_RETURN_IF_ERROR(ValidateArmFlags(flags));
  return flags;
}

LoadedManifests LoadManifests(const std::string& dir) {
  LoadedManifests out;
  std::error_code ec;
  if (std::filesystem::is_regular_file(dir, ec)) {
    out.raw.files.push_back(LoadManifestFile(dir, LoadOptions{}));
    RejectDuplicateTargets(out.raw.files, &out.raw.errors);
  } else {
    out.raw = LoadDirectory(dir, LoadOptions{}, ScanOptions{});
  }
  for (const ManifestError& e : out.raw.errors) {
    out.errors.push_back(e.ToString());
  }
  for (const FileLoadResult& f : out.raw.files) {
    ++out.files;
    for (const ManifestError& e : f.errors) {
      out.errors.push_back(e.ToString());
    }
    std::vector<DataConnectionSpec> specs;
    for (const LoadedManifest& m : f.manifests) {
      specs.push_back(m.spec);
    }
    out.connections += static_cast<int>(specs.size());
    out.desired->ApplyFile(f.file, std::move(specs), f.rejected_keys);
  }
  return out;
}

std::string Dns1123Name(std::string_view name) {
  std::string out;
  bool lost = false;
  for (char c : name) {
    char l = static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(c)));
    if (absl::ascii_isalnum(static_cast<unsigned char>(l))) {
      out.push_back(l);
    } else {
      if (c != '-' && c != '_' && c != '.' && c != ' ') {
        lost = true;
      }
      if (!out.empty() && out.back() != '-') {
        out.push_back('-');
      }
    }
  }
  while (!out.empty() && out.back() == '-') {
    out.pop_back();
  }
  if (out.empty()) {
    out = "connection";
    lost = true;
  }
  constexpr size_t kMax = 63;
  if (out.size() > kMax) {
    lost = true;
  }
  if (lost) {
    std::string suffix = StableHashHex(name).substr(0, 8);
    out = out.substr(0, kMax - suffix.size() - 1);
    while (!out.empty() && out.back() == '-') {
      out.pop_back();
    }
    out = absl::StrCat(out, "-", suffix);
  }
  return out;
}

}  // namespace kustodian
