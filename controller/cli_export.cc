// `kustodian export`: one LIST per database, one manifest per connection (SpecFromLive), one
// multi-document file per database, each manifest annotated kustodian.io/adopt: "true" so that
// the daemon adopts what it finds instead of reporting a conflict. Export then plan is a no-op.
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "controller/atomic_file.h"
#include "controller/cli_internal.h"
#include "controller/stable_hash.h"
#include "src/core/strings.h"
#include "src/manifest/manifest.h"
#include "src/model/arm_codec.h"
#include "yaml-cpp/yaml.h"

namespace kustodian {
namespace {

// True when `s` written plain would read back as something other than this string.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) {
    return true;
  }
  static const std::set<std::string> kSpecial = {"true", "false", "yes", "no",   "on",
                                                 "off",  "y",     "n",   "null", "~"};
  if (kSpecial.count(absl::AsciiStrToLower(s)) > 0) {
    return true;
  }
  double d;
  const char c = s.front();
  return absl::SimpleAtod(s, &d) || absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
         c == '-' || c == '+' || c == '.';
}

void EmitString(YAML::Emitter& e, const std::string& s) {
  if (NeedsQuotes(s)) {
    e << YAML::DoubleQuoted << s;
  } else {
    e << s;
  }
}

void EmitJson(YAML::Emitter& e, const nlohmann::json& v) {
  if (v.is_object()) {
    e << YAML::BeginMap;
    for (const auto& [k, item] : v.items()) {
      e << YAML::Key << k << YAML::Value;
      EmitJson(e, item);
    }
    e << YAML::EndMap;
  } else if (v.is_array()) {
    e << YAML::BeginSeq;
    for (const nlohmann::json& item : v) {
      EmitJson(e, item);
    }
    e << YAML::EndSeq;
  } else if (v.is_string()) {
    EmitString(e, v.get<std::string>());
  } else if (v.is_boolean()) {
    e << v.get<bool>();
  } else if (v.is_number_unsigned()) {
    e << v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    e << v.get<int64_t>();
  } else if (v.is_number_float()) {
    e << v.get<double>();
  } else {
    e << YAML::Null;
  }
}

void EmitManifest(YAML::Emitter& e, const DataConnectionSpec& spec, const std::string& name) {
  e << YAML::BeginDoc << YAML::BeginMap;
  e << YAML::Key << "apiVersion" << YAML::Value << std::string(kManifestApiVersion);
  e << YAML::Key << "kind" << YAML::Value << std::string(kManifestKind);
  e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value;
  EmitString(e, name);
  e << YAML::Key << "annotations" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "kustodian.io/adopt" << YAML::Value << YAML::DoubleQuoted << "true";
  e << YAML::EndMap << YAML::EndMap;
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "target" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "subscriptionId" << YAML::Value;
  EmitString(e, spec.id.subscription_id);
  e << YAML::Key << "resourceGroup" << YAML::Value;
  EmitString(e, spec.id.resource_group);
  e << YAML::Key << "cluster" << YAML::Value;
  EmitString(e, spec.id.cluster);
  e << YAML::Key << "database" << YAML::Value;
  EmitString(e, spec.id.database);
  e << YAML::Key << "name" << YAML::Value;
  EmitString(e, spec.id.name);
  e << YAML::EndMap;
  e << YAML::Key << "location" << YAML::Value;
  EmitString(e, spec.location);
  e << YAML::Key << "kind" << YAML::Value << std::string(KindName(spec.kind));
  e << YAML::Key << "properties" << YAML::Value;
  EmitJson(e, spec.properties);
  e << YAML::EndMap << YAML::EndMap;
}

// "<cluster>.<database>.yaml", lower case, characters outside [a-z0-9._-] replaced by '-'.
std::string FileNameFor(const DatabaseId& db) {
  std::string name = absl::AsciiStrToLower(absl::StrCat(db.cluster, ".", db.database));
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      c = '-';
    }
  }
  return name + ".yaml";
}

}  // namespace

int RunExport(const ExportArgs& args, CliEnv& env) {
  absl::StatusOr<ArmFlags> flags = ResolveArmFlags(args.arm);
  if (!flags.ok()) {
    return UsageError(env, "export", std::string(flags.status().message()));
  }
  absl::StatusOr<LogLevel> level = ParseLogLevelFlag(args.log_level);
  if (!level.ok()) {
    return UsageError(env, "export", std::string(level.status().message()));
  }
  std::vector<DatabaseId> databases;
  for (const std::string& name : args.databases) {
    DatabaseId db{args.subscription, args.resource_group, args.cluster, name};
    if (absl::StatusOr<DatabaseId> parsed = DatabaseId::Parse(db.RequestPath()); !parsed.ok()) {
      return UsageError(env, "export", std::string(parsed.status().message()));
    }
    databases.push_back(std::move(db));
  }
  std::error_code ec;
  std::filesystem::create_directories(args.out_dir, ec);
  if (ec || !std::filesystem::is_directory(args.out_dir, ec)) {
    return UsageError(
        env, "export",
        absl::StrCat("--out: cannot create directory \"", args.out_dir, "\": ", ec.message()));
  }
  Logger logger(*level, LogFormat::kText, env.clock, env.log_sink);
  absl::StatusOr<ArmStack> arm = env.make_arm(*flags, env.clock, logger, nullptr);
  if (!arm.ok()) {
    return UsageError(env, "export", std::string(arm.status().message()));
  }

  int exported = 0;
  for (const DatabaseId& db : databases) {
    absl::StatusOr<std::vector<LiveConnection>> list = arm->client->List(db);
    if (!list.ok()) {
      env.err << "kustodian export: cannot list the data connections of " << db.ResponseId() << ": "
              << list.status().message() << "\n";
      return kExitError;
    }
    YAML::Emitter e;
    e.SetIndent(2);
    std::set<std::string> names;
    int in_file = 0;
    for (const LiveConnection& live : *list) {
      if (!live.kind.has_value()) {
        env.err << "skipping " << live.id.ArmName() << ": kind \"" << live.kind_name
                << "\" is not supported by this version of kustodian\n";
        continue;
      }
      std::string name = Dns1123Name(live.id.name);
      if (!names.insert(name).second) {
        name = Dns1123Name(absl::StrCat(name, "-", StableHashHex(live.id.Key()).substr(0, 8)));
        names.insert(name);
      }
      EmitManifest(e, SpecFromLive(live), name);
      ++in_file;
    }
    std::string path = (std::filesystem::path(args.out_dir) / FileNameFor(db)).string();
    std::string text = absl::StrCat(
        "# Exported by `kustodian export` from ", db.ResponseId(), " at ",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", env.clock.Now(), absl::UTCTimeZone()),
        ".\n# kustodian.io/adopt: \"true\" lets the daemon take these connections over.\n",
        in_file == 0 ? "# (the database has no data connections)\n" : e.c_str(), "\n");
    if (absl::Status st = WriteFileAtomically(path, text, /*durable=*/false); !st.ok()) {
      env.err << "kustodian export: " << st.message() << "\n";
      return kExitError;
    }
    env.out << "wrote " << path << " (" << in_file << " connection(s))\n";
    exported += in_file;
  }
  env.out << "exported " << exported << " connection(s) from " << databases.size()
          << " database(s)\n";
  return kExitOk;
}

}  // namespace kustodian
