// `kustodian validate DIR [--remote]`: the manifest loader's offline checks (syntax, schema,
// duplicate targets), and with --remote ARM's own dataConnectionValidation for each connection.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "controller/cli_internal.h"

namespace kustodian {

int RunValidate(const ValidateArgs& args, CliEnv& env) {
  absl::StatusOr<LogLevel> level = ParseLogLevelFlag(args.log_level);
  if (!level.ok()) {
    return UsageError(env, "validate", std::string(level.status().message()));
  }
  std::error_code ec;
  if (!std::filesystem::exists(args.dir, ec)) {
    return UsageError(env, "validate",
                      absl::StrCat("\"", args.dir, "\" does not exist; give a directory or file"));
  }
  absl::StatusOr<ArmFlags> flags;
  if (args.remote) {
    flags = ResolveArmFlags(args.arm);
    if (!flags.ok()) {
      return UsageError(env, "validate", std::string(flags.status().message()));
    }
  }

  LoadedManifests manifests = LoadManifests(args.dir);
  for (const FileLoadResult& f : manifests.raw.files) {
    for (const std::string& w : f.warnings) {
      env.out << "warning: " << w << "\n";
    }
  }
  int errors = static_cast<int>(manifests.errors.size());
  for (const std::string& e : manifests.errors) {
    env.out << e << "\n";
  }

  int remote_checked = 0;
  if (args.remote) {
    Logger logger(*level, LogFormat::kText, env.clock, env.log_sink);
    absl::StatusOr<ArmStack> arm = env.make_arm(*flags, env.clock, logger, nullptr);
    if (!arm.ok()) {
      return UsageError(env, "validate", std::string(arm.status().message()));
    }
    for (const FileLoadResult& f : manifests.raw.files) {
      for (const LoadedManifest& m : f.manifests) {
        const std::string where = absl::StrCat(m.spec.source.file, ":", m.spec.source.line);
        absl::StatusOr<std::vector<std::string>> messages = arm->client->Validate(m.spec);
        ++remote_checked;
        if (!messages.ok()) {
          ++errors;
          env.out << where << ": remote: cannot validate " << m.spec.id.ArmName() << ": "
                  << messages.status().message() << "\n";
          continue;
        }
        for (const std::string& message : *messages) {
          ++errors;
          env.out << where << ": remote: " << m.spec.id.ArmName() << ": " << message << "\n";
        }
      }
    }
  }

  env.out << manifests.files << " file(s), " << manifests.connections << " connection(s)";
  if (args.remote) {
    env.out << ", " << remote_checked << " checked by ARM";
  }
  if (errors == 0) {
    env.out << ": valid\n";
    return kExitOk;
  }
  env.out << ": " << errors << " error(s)\n";
  return kExitError;
}

}  // namespace kustodian
