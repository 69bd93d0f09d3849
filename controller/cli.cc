#include "controller/cli.h"

#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "controller/cli_internal.h"
#include "controller/eventgrid_flags.h"
#include "controller/manager.h"
#include "src/core/strings.h"
#include "src/metrics/kustodian_metrics.h"
#include "src/metrics/registry.h"

#ifndef KUSTODIAN_VERSION
#define KUSTODIAN_VERSION "0.0.0-dev"
#endif
#ifndef KUSTODIAN_GIT_COMMIT
#define KUSTODIAN_GIT_COMMIT ""
#endif

namespace kustodian {
namespace {

// `run`'s flags as typed.
struct RunInputs {
  DaemonOptions options;
  std::string resync_interval = "5m";
  std::string rescan_interval = "60s";
  std::string debounce = "200ms";
  std::string log_format = "text";
  std::string log_level = "info";
  ArmFlagInputs arm;
  EventGridFlagInputs eventgrid;
  std::string source = "directory";
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
};

void AddKubeFlags(CLI::App* run, RunInputs* in) {
  KubeOptions& k = in->options.kube;
  WithEnv(run->add_option("--source", in->source,
                          "Where the desired state comes from: directory (--config-dir) or "
                          "kubernetes (DataConnection resources)")
              ->capture_default_str());
  WithEnv(run->add_option("--kubeconfig", k.kubeconfig,
                          "kubernetes: kubeconfig file (default: $KUBECONFIG, in-cluster, "
                          "~/.kube/config)"));
  WithEnv(run->add_option("--context", k.context,
                          "kubernetes: kubeconfig context (default: the current context)"));
  WithEnv(run->add_option("--watch-namespace", k.watch_namespaces,
                          "kubernetes: namespace to watch; repeat or comma-separate for several "
                          "(default: all namespaces)")
              ->delimiter(','));
  WithEnv(run->add_flag("--leader-elect", k.leader_elect,
                        "kubernetes: elect a leader over a Lease; only the leader reconciles"));
  WithEnv(run->add_option("--leader-election-namespace", k.leader_election_namespace,
                          "kubernetes: namespace of the Lease (default: the pod's namespace, "
                          "else kustodian-system)"));
  WithEnv(run->add_option("--leader-election-id", k.leader_election_id,
                          "kubernetes: Lease name (with shards: <id>-shard-<I>-of-<N>)")
              ->capture_default_str());
  WithEnv(run->add_option("--leader-election-lease-duration", in->lease_duration,
                          "kubernetes: how long a Lease holds without renewal")
              ->capture_default_str());
  WithEnv(run->add_option("--leader-election-renew-deadline", in->renew_deadline,
                          "kubernetes: how long the leader tries to renew before giving up")
              ->capture_default_str());
  WithEnv(run->add_option("--leader-election-retry-period", in->retry_period,
                          "kubernetes: interval between Lease attempts")
              ->capture_default_str());
  WithEnv(run->add_option("--shard-count", k.shard_count,
                          "kubernetes: number of shards; a resource belongs to shard "
                          "FNV-1a-64(\"<namespace>/<name>\") mod N")
              ->capture_default_str());
  WithEnv(run->add_option("--shard-index", k.shard_index,
                          "kubernetes: the shard this replica handles (0..N-1)")
              ->capture_default_str());
  WithEnv(run->add_option("--identity", k.identity,
                          "kubernetes: this replica's leader-election identity (default: host "
                          "name + random suffix)"));
}

void AddRunFlags(CLI::App* run, RunInputs* in) {
  DaemonOptions& o = in->options;
  WithEnv(run->add_option("--config-dir", o.config_dir,
                          "Directory of DataConnection manifests (*.yaml, *.yml), scanned "
                          "recursively (required with --source=directory)"));
  WithEnv(run->add_option("--state-dir", o.state_dir,
                          "Directory for the ownership journal (managed.json) and lock; created "
                          "when missing (required with --source=directory)"));
  WithEnv(run->add_option("--status-dir", o.status_dir,
                          "Directory for one status JSON per connection (default: "
                          "<state-dir>/status)"));
  WithEnv(run->add_option("--metrics-bind-address", o.metrics_bind_address,
                          "HOST:PORT serving /metrics, /healthz, /readyz and /status; \"0\" "
                          "disables it")
              ->capture_default_str());
  WithEnv(run->add_option("--workers", o.workers, "Concurrent reconciles (1..64)")
              ->capture_default_str());
  WithEnv(run->add_option("--resync-interval", in->resync_interval,
                          "Longest time between two LISTs of a database (a manifest's "
                          "spec.policy.resyncInterval can shorten it); 0 disables periodic "
                          "resync")
              ->capture_default_str());
  WithEnv(run->add_option("--rescan-interval", in->rescan_interval,
                          "Full rescan of --config-dir besides inotify; 0 disables it")
              ->capture_default_str());
  WithEnv(run->add_option("--debounce", in->debounce,
                          "Quiet period before a full rescan of --config-dir for changes that "
                          "do not say a file is complete: a file still being written (modified, "
                          "not closed), a deletion or rename away, a new directory. A file "
                          "closed or renamed into place is read at once; 0: every change at once")
              ->capture_default_str());
  WithEnv(run->add_option("--max-deletes-per-pass", o.max_deletes_per_pass,
                          "Prune guard: most deletions per directory pass; the rest wait")
              ->capture_default_str());
  WithEnv(run->add_flag("--adopt", o.adopt,
                        "Adopt existing connections that match a manifest even without the "
                        "kustodian.io/adopt: \"true\" annotation"));
  WithEnv(run->add_option("--log-format", in->log_format, "text or json")->capture_default_str());
  WithEnv(run->add_option("--log-level", in->log_level, "debug, info, warn or error")
              ->capture_default_str());
  AddArmFlags(run, &in->arm);
  AddEventGridFlags(run, &in->eventgrid);
  AddKubeFlags(run, in);
}

int Run(RunInputs& in, CliEnv& env) {
  DaemonOptions& o = in.options;
  std::vector<std::string> problems;
  auto duration = [&](std::string_view flag, const std::string& text, absl::Duration* out) {
    absl::StatusOr<absl::Duration> d = ParseDurationFlag(flag, text);
    if (d.ok()) {
      *out = *d;
    } else {
      problems.emplace_back(d.status().message());
    }
  };
  duration("--resync-interval", in.resync_interval, &o.resync_interval);
  duration("--rescan-interval", in.rescan_interval, &o.rescan_interval);
  duration("--debounce", in.debounce, &o.debounce);
  duration("--leader-election-lease-duration", in.lease_duration, &o.kube.lease_duration);
  duration("--leader-election-renew-deadline", in.renew_deadline, &o.kube.renew_deadline);
  duration("--leader-election-retry-period", in.retry_period, &o.kube.retry_period);
  if (absl::StatusOr<SourceKind> src = ParseSourceFlag(in.source); src.ok()) {
    o.source = *src;
  } else {
    problems.emplace_back(src.status().message());
  }
  if (absl::StatusOr<LogFormat> f = ParseLogFormatFlag(in.log_format); f.ok()) {
    o.log_format = *f;
  } else {
    problems.emplace_back(f.status().message());
  }
  if (absl::StatusOr<LogLevel> l = ParseLogLevelFlag(in.log_level); l.ok()) {
    o.log_level = *l;
  } else {
    problems.emplace_back(l.status().message());
  }
  ResolveEventGridFlags(in.eventgrid, &o.eventgrid, &problems);
  if (absl::StatusOr<ArmFlags> arm = ResolveArmFlags(in.arm); arm.ok()) {
    o.arm = *arm;
  } else {
    problems.emplace_back(arm.status().message());
  }
  // Report every problem at once (values that failed to parse keep their valid defaults).
  if (absl::Status st = ValidateDaemonOptions(o); !st.ok()) {
    problems.emplace_back(st.message());
  }
  if (!problems.empty()) {
    return UsageError(env, "run", absl::StrJoin(problems, "\n"));
  }

  Logger logger(o.log_level, o.log_format, env.clock, env.log_sink);
  Registry registry;
  KustodianMetrics metrics(registry, KustodianVersion());
  absl::StatusOr<ArmStack> arm = env.make_arm(o.arm, env.clock, logger, &metrics);
  if (!arm.ok()) {
    return UsageError(env, "run", std::string(arm.status().message()));
  }
  logger.Info("starting kustodian", {{"version", KustodianVersion()}});
  ManagerDeps deps{env.clock, logger, *arm->client, registry, metrics};
  std::unique_ptr<kube::KubeClient> kube_client;
  if (o.source == SourceKind::kKubernetes) {
    absl::StatusOr<std::unique_ptr<kube::KubeClient>> made =
        env.make_kube(o.kube, env.clock, logger);
    if (!made.ok()) {
      return UsageError(env, "run", std::string(made.status().message()));
    }
    kube_client = *std::move(made);
    deps.kube = kube_client.get();
  }
  return RunDaemon(o, deps);
}

}  // namespace

std::string FlagEnvName(std::string_view flag) {
  while (!flag.empty() && flag.front() == '-') {
    flag.remove_prefix(1);
  }
  return absl::StrCat("KUSTODIAN_",
                      absl::StrReplaceAll(absl::AsciiStrToUpper(Av(flag)), {{"-", "_"}}));
}

std::string KustodianVersion() { return KUSTODIAN_VERSION; }

CLI::Option* WithEnv(CLI::Option* opt) {
  const std::vector<std::string>& names = opt->get_lnames();
  if (!names.empty()) {
    opt->envname(FlagEnvName(names.front()));
  }
  return opt;
}

int UsageError(CliEnv& env, std::string_view command, std::string_view message) {
  env.err << "kustodian " << command << ": error: " << message << "\n"
          << "Run 'kustodian " << command << " --help' for usage.\n";
  return kExitError;
}

int RunCli(int argc, const char* const* argv, CliEnv& env) {
  CLI::App app{
      "Kustodian keeps Azure Data Explorer (Kusto) data connections in the state that "
      "YAML manifests describe.",
      "kustodian"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show the help of every subcommand");

  RunInputs run_in;
  CLI::App* run = app.add_subcommand("run", "Run the daemon: reconcile --config-dir against ARM");
  AddRunFlags(run, &run_in);

  PlanArgs plan_in;
  CLI::App* plan = app.add_subcommand(
      "plan", "Show what the daemon would change (exit 0: in sync, 2: changes, 1: error)");
  WithEnv(
      plan->add_option("--config-dir", plan_in.config_dir, "Directory of manifests")->required());
  WithEnv(plan->add_option("--state-dir", plan_in.state_dir,
                           "The daemon's state directory, to know what it manages (read only). "
                           "Without it nothing is planned for deletion and existing "
                           "connections are compared as if managed"));
  WithEnv(plan->add_option("-o,--output", plan_in.output, "text or json")->capture_default_str());
  WithEnv(plan->add_flag("--adopt", plan_in.adopt, "Plan as the daemon would with --adopt"));
  WithEnv(plan->add_option("--log-level", plan_in.log_level, "debug, info, warn or error")
              ->capture_default_str());
  AddArmFlags(plan, &plan_in.arm);

  ValidateArgs validate_in;
  CLI::App* validate = app.add_subcommand(
      "validate", "Check manifests offline (exit 1 on any error); --remote asks ARM as well");
  validate->add_option("dir", validate_in.dir, "Directory (or single file) of manifests")
      ->required();
  WithEnv(validate->add_flag("--remote", validate_in.remote,
                             "Also run ARM's dataConnectionValidation for every connection"));
  WithEnv(validate->add_option("--log-level", validate_in.log_level, "debug, info, warn or error")
              ->capture_default_str());
  AddArmFlags(validate, &validate_in.arm);

  ExportArgs export_in;
  CLI::App* exp = app.add_subcommand(
      "export", "Write manifests for the connections that exist in Azure (adopted on run)");
  WithEnv(exp->add_option("--subscription", export_in.subscription, "Subscription id")->required());
  WithEnv(
      exp->add_option("--resource-group", export_in.resource_group, "Resource group")->required());
  WithEnv(exp->add_option("--cluster", export_in.cluster, "Kusto cluster name")->required());
  WithEnv(exp->add_option("--database", export_in.databases,
                          "Database to export; repeat for several. Required: kustodian does not "
                          "list the databases of a cluster")
              ->required());
  WithEnv(exp->add_option("--out", export_in.out_dir,
                          "Directory to write <cluster>.<database>.yaml files into (created)")
              ->required());
  WithEnv(exp->add_option("--log-level", export_in.log_level, "debug, info, warn or error")
              ->capture_default_str());
  AddArmFlags(exp, &export_in.arm);

  CLI::App* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, env.out, env.err);
    return code == 0 ? kExitOk : kExitError;
  }
  if (run->parsed()) {
    return Run(run_in, env);
  }
  if (plan->parsed()) {
    return RunPlan(plan_in, env);
  }
  if (validate->parsed()) {
    return RunValidate(validate_in, env);
  }
  if (exp->parsed()) {
    return RunExport(export_in, env);
  }
  if (version->parsed()) {
    env.out << "kustodian " << KustodianVersion();
    if (std::string commit = KUSTODIAN_GIT_COMMIT; !commit.empty()) {
      env.out << " (commit " << commit << ")";
    }
    env.out << "\n";
    return kExitOk;
  }
  return kExitError;
}

}  // namespace kustodian
