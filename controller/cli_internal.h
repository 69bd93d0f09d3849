// Internal to the CLI (cli*.cc): the flag sets shared by several subcommands and the entry
// points of the subcommands other than run and version.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "controller/cli.h"
#include "controller/desired_store.h"
#include "controller/options.h"
#include "src/manifest/directory.h"

namespace kustodian {

// The ARM flags as typed (converted by ResolveArmFlags after parsing).
struct ArmFlagInputs {
  std::string endpoint;
  std::string cloud = kDefaultCloud;
  std::string api_version = kDefaultApiVersion;
  bool insecure_skip_tls_verify = false;
  std::string token;
  std::string tenant_id;
  std::string client_id;
  std::string imds_endpoint;
  std::string rate_limits = "reads=250/25,writes=200/10,deletes=200/10";
};

// Sets the option's environment variable to FlagEnvName(its first long name). Returns `opt`.
CLI::Option* WithEnv(CLI::Option* opt);
// Adds --arm-endpoint, --cloud, --api-version, --insecure-skip-tls-verify, --token,
// --tenant-id, --client-id, --imds-endpoint and --arm-rate-limits to `app`.
void AddArmFlags(CLI::App* app, ArmFlagInputs* in);
// Converts and checks the typed ARM flags. InvalidArgument "--flag: what to fix" otherwise.
absl::StatusOr<ArmFlags> ResolveArmFlags(const ArmFlagInputs& in);

// Prints "kustodian <command>: error: <message>" and a hint to --help on env.err; returns
// kExitError.
int UsageError(CliEnv& env, std::string_view command, std::string_view message);

// The manifests of a directory loaded into a DesiredStore, with every problem as
// "file:line:col: field: message".
struct LoadedManifests {
  std::unique_ptr<DesiredStore> desired = std::make_unique<DesiredStore>();
  DirectoryLoadResult raw;
  std::vector<std::string> errors;
  int files = 0;
  int connections = 0;
};
LoadedManifests LoadManifests(const std::string& dir);

struct PlanArgs {
  std::string config_dir;
  std::string state_dir;
  std::string output = "text";
  bool adopt = false;
  std::string log_level = "warn";
  ArmFlagInputs arm;
};
// `kustodian plan`. Returns kExitOk (in sync), kExitChanges or kExitError.
int RunPlan(const PlanArgs& args, CliEnv& env);

struct ValidateArgs {
  std::string dir;
  bool remote = false;
  std::string log_level = "warn";
  ArmFlagInputs arm;
};
// `kustodian validate`. Returns kExitOk when every manifest is valid, else kExitError.
int RunValidate(const ValidateArgs& args, CliEnv& env);

struct ExportArgs {
  std::string subscription;
  std::string resource_group;
  std::string cluster;
  std::vector<std::string> databases;
  std::string out_dir;
  std::string log_level = "warn";
  ArmFlagInputs arm;
};
// `kustodian export`. Returns kExitOk after writing every file, else kExitError.
int RunExport(const ExportArgs& args, CliEnv& env);

// A DNS-1123 label made from `name` (lower case, [a-z0-9-], at most 63 characters, a short
// hash appended when characters were lost), for metadata.name of exported manifests.
std::string Dns1123Name(std::string_view name);

}  // namespace kustodian
