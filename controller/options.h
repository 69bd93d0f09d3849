// The daemon's and the CLI's options as plain structs with documented defaults, plus the parsers
// for option values (Go durations, host:port, ARM rate limits) and the validation that turns a bad
// option into a message saying which flag is wrong and how to fix it. The CLI (cli.h) fills these
// structs; nothing here reads flags or the environment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/eventgrid_options.h"
#include "src/arm/rate_limiter.h"
#include "src/core/logging.h"

namespace kustodian {

// The default ARM api-version the daemon pins (both layouts of the spec describe it).
inline constexpr char kDefaultApiVersion[] = "2024-04-13";
// The default cloud when neither --cloud nor --arm-endpoint says otherwise.
inline constexpr char kDefaultCloud[] = "AzurePublicCloud";

// How to reach ARM: shared by run, plan, validate --remote and export.
struct ArmFlags {
  std::string endpoint;                          // --arm-endpoint; "" = the cloud's endpoint
  std::string cloud = kDefaultCloud;             // --cloud
  std::string api_version = kDefaultApiVersion;  // --api-version
  bool insecure_skip_tls_verify = false;         // --insecure-skip-tls-verify
  std::string token;          // --token: a static bearer token (emulator use); never logged
  std::string tenant_id;      // --tenant-id; "" = AZURE_TENANT_ID
  std::string client_id;      // --client-id; "" = AZURE_CLIENT_ID (also picks a user-assigned MI)
  std::string imds_endpoint;  // --imds-endpoint; "" = http://169.254.169.254
  // --arm-rate-limits, "reads=250/25,writes=200/10,deletes=200/10" (burst/per-second) or "off".
  RateLimitOptions rate_limits;
};

// Where `run` reads the desired state from (--source).
enum class SourceKind { kDirectory, kKubernetes };

// The Kubernetes source's options (--source=kubernetes).
struct KubeOptions {
  std::string kubeconfig;                     // --kubeconfig; "" = $KUBECONFIG, in-cluster, ~/.kube
  std::string context;                        // --context; "" = the current context
  std::vector<std::string> watch_namespaces;  // --watch-namespace; empty = all namespaces
  bool leader_elect = false;                  // --leader-elect
  // --leader-election-namespace; "" = the in-cluster namespace, else "kustodian-system".
  std::string leader_election_namespace;
  std::string leader_election_id = "kustodian";       // --leader-election-id: the Lease name (base)
  int shard_count = 1;                                // --shard-count
  int shard_index = 0;                                // --shard-index (0..shard-count-1)
  std::string identity;                               // --identity; "" = hostname + random suffix
  absl::Duration lease_duration = absl::Seconds(15);  // --leader-election-lease-duration
  absl::Duration renew_deadline = absl::Seconds(10);  // --leader-election-renew-deadline
  absl::Duration retry_period = absl::Seconds(2);     // --leader-election-retry-period
};

// Options of `kustodian run`.
struct DaemonOptions {
  SourceKind source = SourceKind::kDirectory;  // --source directory|kubernetes
  KubeOptions kube;
  std::string config_dir;  // --config-dir (required): the manifests, scanned recursively
  std::string state_dir;   // --state-dir (required): the ownership journal lives here
  std::string status_dir;  // --status-dir; "" = "<state-dir>/status"
  // --metrics-bind-address: host:port of /metrics, /healthz, /readyz, /status; "0" = no server.
  std::string metrics_bind_address = "127.0.0.1:8080";
  int workers = 4;  // --workers: concurrent reconciles (1..64)
  // --resync-interval: default LIST period per database when no manifest asks for a shorter
  // one; 0 disables periodic resync (one LIST at start only).
  absl::Duration resync_interval = absl::Minutes(5);
  // --rescan-interval: full rescan of --config-dir as a safety net for missed events; 0 = off.
  absl::Duration rescan_interval = absl::Seconds(60);
  // --debounce: quiet period before a full rescan for events that do not say a file is complete
  // (a modification not closed yet, a removal, a new directory); a file closed or renamed into
  // place is read at once (DirWatcher).
  absl::Duration debounce = absl::Milliseconds(200);
  int max_deletes_per_pass = 10;  // --max-deletes-per-pass: prune guard (0 = no deletes)
  bool adopt = false;             // --adopt: adopt existing connections without the annotation
  LogFormat log_format = LogFormat::kText;  // --log-format text|json
  LogLevel log_level = LogLevel::kInfo;     // --log-level debug|info|warn|error
  ArmFlags arm;
  EventGridOptions eventgrid;  // --eventgrid-*: the drift webhook (off by default)
};

// The status directory actually used: status_dir, or "<state_dir>/status" when empty.
std::string EffectiveStatusDir(const DaemonOptions& options);

// Parses a Go-style duration ("30s", "5m", "1h30m", "0") given to `flag`. Returns the duration;
// InvalidArgument "--flag: ..." saying what is wrong and showing valid examples otherwise
// (negative durations included).
absl::StatusOr<absl::Duration> ParseDurationFlag(std::string_view flag, std::string_view text);

struct HostPort {
  std::string host;
  int port = 0;
};
// Parses "host:port" or "[v6]:port" (port 0..65535; an empty host means 0.0.0.0). Returns the
// parts; InvalidArgument naming `flag` and the expected shape otherwise.
absl::StatusOr<HostPort> ParseBindAddress(std::string_view flag, std::string_view text);

// Parses --arm-rate-limits: "off", or a comma list of reads=B/R, writes=B/R, deletes=B/R (burst
// tokens / refill per second, each > 0); types not listed keep their defaults. InvalidArgument
// "--arm-rate-limits: ..." otherwise.
absl::StatusOr<RateLimitOptions> ParseArmRateLimits(std::string_view text);
// The inverse of ParseArmRateLimits (for logs and --help defaults).
std::string FormatArmRateLimits(const RateLimitOptions& options);

// Parses --source: "directory" or "kubernetes" (any case). InvalidArgument otherwise.
absl::StatusOr<SourceKind> ParseSourceFlag(std::string_view text);

// Parses "text" or "json" (any case). InvalidArgument "--log-format: ..." otherwise.
absl::StatusOr<LogFormat> ParseLogFormatFlag(std::string_view text);
// Parses debug|info|warn|warning|error. InvalidArgument "--log-level: ..." otherwise.
absl::StatusOr<LogLevel> ParseLogLevelFlag(std::string_view text);

// Checks the ARM flags: a known cloud, an absolute http(s) endpoint without path or query, an
// api-version ARM's data connections accept. OK, or InvalidArgument naming the flag and the fix.
absl::Status ValidateArmFlags(const ArmFlags& flags);

// Checks every option of `run`: required directories given (config dir must exist and be a
// directory; state and status dirs must be directories when they exist), ranges of workers,
// intervals and the prune limit, the bind address, the ARM flags. Returns OK, or
// InvalidArgument whose message lists every problem, one "--flag: what to fix" per line.
absl::Status ValidateDaemonOptions(const DaemonOptions& options);

}  // namespace kustodian
