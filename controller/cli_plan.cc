// `kustodian plan`: what the daemon would do now, computed with the daemon's own Reconciler
// (PlanFor) from the manifests, the ownership journal (read only) and one LIST per database.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "controller/cli_internal.h"
#include "controller/cluster_lock.h"
#include "controller/live_cache.h"
#include "controller/ownership_journal.h"
#include "controller/prune_guard.h"
#include "controller/reconciler.h"
#include "controller/status_store.h"
#include "src/core/status.h"

namespace kustodian {
namespace {

constexpr char kConflictReason[] =
    "exists in Azure and is not managed by kustodian; add annotation kustodian.io/adopt: "
    "\"true\" (or run with --adopt) to take it over";

struct PlannedConnection {
  std::string key;
  std::string arm_name;  // cluster/database/name
  std::string arm_id;
  std::string source;  // file:line, "" when no manifest
  std::string action;  // create, update, recreate, delete, no-op, conflict
  Plan plan;
  bool in_sync = true;
};

// Reads the ownership journal of `state_dir` (snapshot and log) without creating or repairing
// anything. A missing file or directory is an empty journal; DataLoss when it is corrupt.
absl::Status ReadJournal(const std::string& state_dir, OwnershipJournal* journal) {
  KUS_ASSIGN_OR_RETURN(JournalContents contents, OwnershipJournal::Load(state_dir));
  for (auto& [key, record] : contents.records) {
    journal->Add(key, std::move(record));
  }
  return absl::OkStatus();
}

std::string ValueText(const nlohmann::json& v) { return v.is_null() ? "(none)" : v.dump(); }

void PrintText(const std::vector<PlannedConnection>& plans,
               const std::map<std::string, int>& counts, std::ostream& out) {
  static const std::map<std::string, std::string> kMarks = {{"create", "+"},     {"update", "~"},
                                                            {"recreate", "-/+"}, {"delete", "-"},
                                                            {"no-op", "="},      {"conflict", "!"}};
  for (const PlannedConnection& p : plans) {
    out << "  " << kMarks.at(p.action) << " " << p.action << "  " << p.arm_name;
    if (!p.source.empty()) {
      out << "  (" << p.source << ")";
    }
    out << "\n";
    if (!p.plan.reason.empty()) {
      out << "        " << (p.action == "no-op" && !p.in_sync ? "not applied: " : "reason: ")
          << p.plan.reason << "\n";
    }
    for (const FieldChange& c : p.plan.changes) {
      out << "        " << c.path << ": " << ValueText(c.old_value) << " -> "
          << ValueText(c.new_value) << "\n";
    }
  }
  auto n = [&](const char* a) {
    auto it = counts.find(a);
    return it == counts.end() ? 0 : it->second;
  };
  out << "\nPlan: " << n("create") << " to create, " << n("update") << " to update, "
      << n("recreate") << " to recreate, " << n("delete") << " to delete, " << n("no-op")
      << " unchanged, " << n("conflict") << " in conflict.\n";
}

void PrintJson(const std::vector<PlannedConnection>& plans,
               const std::map<std::string, int>& counts, bool in_sync, std::ostream& out) {
  nlohmann::json items = nlohmann::json::array();
  for (const PlannedConnection& p : plans) {
    nlohmann::json changes = nlohmann::json::array();
    for (const FieldChange& c : p.plan.changes) {
      changes.push_back({{"path", c.path}, {"old", c.old_value}, {"new", c.new_value}});
    }
    items.push_back({{"key", p.key},
                     {"armId", p.arm_id},
                     {"name", p.arm_name},
                     {"source", p.source},
                     {"action", p.action},
                     {"inSync", p.in_sync},
                     {"reason", p.plan.reason},
                     {"changes", changes}});
  }
  out << nlohmann::json({{"connections", items}, {"summary", counts}, {"inSync", in_sync}}).dump(2)
      << "\n";
}

}  // namespace

int RunPlan(const PlanArgs& args, CliEnv& env) {
  absl::StatusOr<ArmFlags> flags = ResolveArmFlags(args.arm);
  if (!flags.ok()) {
    return UsageError(env, "plan", std::string(flags.status().message()));
  }
  absl::StatusOr<LogLevel> level = ParseLogLevelFlag(args.log_level);
  if (!level.ok()) {
    return UsageError(env, "plan", std::string(level.status().message()));
  }
  if (args.output != "text" && args.output != "json") {
    return UsageError(env, "plan", "-o/--output: use text or json");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(args.config_dir, ec)) {
    return UsageError(
        env, "plan",
        absl::StrCat("--config-dir: \"", args.config_dir, "\" is not a directory; fix the path"));
  }
  LoadedManifests manifests = LoadManifests(args.config_dir);
  if (!manifests.errors.empty()) {
    for (const std::string& e : manifests.errors) {
      env.err << e << "\n";
    }
    env.err << "kustodian plan: " << manifests.errors.size()
            << " manifest error(s); fix them first (kustodian validate shows the same)\n";
    return kExitError;
  }
  OwnershipJournal journal;
  if (!args.state_dir.empty()) {
    if (absl::Status st = ReadJournal(args.state_dir, &journal); !st.ok()) {
      env.err << "kustodian plan: " << st.message() << "\n";
      return kExitError;
    }
  }
  Logger logger(*level, LogFormat::kText, env.clock, env.log_sink);
  absl::StatusOr<ArmStack> arm = env.make_arm(*flags, env.clock, logger, nullptr);
  if (!arm.ok()) {
    return UsageError(env, "plan", std::string(arm.status().message()));
  }

  DesiredStore& desired = *manifests.desired;
  std::set<std::string> keys;
  std::map<std::string, DatabaseId> databases;
  for (const std::string& key : desired.Keys()) {
    keys.insert(key);
  }
  for (const DatabaseId& db : desired.Databases()) {
    databases.emplace(db.Key(), db);
  }
  for (const auto& [key, record] : journal.All()) {
    if (absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(record.id); id.ok()) {
      keys.insert(key);
      databases.emplace(id->Database().Key(), id->Database());
    }
  }
  LiveCache live(env.clock);
  for (const auto& [db_key, db] : databases) {
    if (absl::Status st = live.Refresh(db, *arm->client); !st.ok()) {
      env.err << "kustodian plan: cannot list the data connections of " << db.ResponseId() << ": "
              << st.message() << "\n";
      return kExitError;
    }
  }

  const bool ownership_known = !args.state_dir.empty();
  StatusStore status(logger);
  ClusterLock cluster_lock;
  PruneGuard prune_guard;
  ReconcilerOptions options;
  options.adopt_all = args.adopt || !ownership_known;
  Reconciler reconciler(ReconcilerDeps{env.clock, logger, *arm->client, desired, live, journal,
                                       status, cluster_lock, prune_guard},
                        options);
  std::vector<PlannedConnection> plans;
  std::map<std::string, int> counts;
  bool in_sync = true;
  for (const std::string& key : keys) {
    PlannedConnection p;
    p.key = key;
    std::optional<DesiredEntry> entry = desired.Get(key);
    std::optional<OwnershipRecord> record = journal.Get(key);
    std::optional<LiveConnection> current = live.Get(key);
    absl::StatusOr<DataConnectionId> id =
        entry ? absl::StatusOr<DataConnectionId>(entry->spec.id) : DataConnectionId::Parse(key);
    p.arm_name = id.ok() ? id->ArmName() : key;
    p.arm_id = id.ok() ? id->ResponseId() : key;
    if (entry) {
      p.source = absl::StrCat(entry->spec.source.file, ":", entry->spec.source.line);
    }
    p.plan = reconciler.PlanFor(key);
    if (entry && current && !record && !entry->spec.adopt && !options.adopt_all &&
        entry->spec.policy.management == ManagementPolicy::kManage) {
      p.action = "conflict";
      p.plan.reason = kConflictReason;
      p.in_sync = false;
    } else {
      p.action = std::string(PlanActionName(p.plan.action));
      p.in_sync = p.plan.action == PlanAction::kNoop && p.plan.changes.empty();
      if (p.plan.action == PlanAction::kDelete && record) {
        p.plan.reason = "managed by kustodian, no manifest, deletion policy Delete";
      }
    }
    in_sync = in_sync && p.in_sync;
    ++counts[p.action];
    plans.push_back(std::move(p));
  }
  if (args.output == "json") {
    PrintJson(plans, counts, in_sync, env.out);
  } else {
    env.out << "Plan for " << plans.size() << " connection(s) from " << args.config_dir << " ("
            << databases.size() << " database(s) listed"
            << (ownership_known ? "" : "; no --state-dir: nothing is deleted") << "):\n\n";
    PrintText(plans, counts, env.out);
  }
  return in_sync ? kExitOk : kExitChanges;
}

}  // namespace kustodian
