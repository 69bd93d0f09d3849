#include "controller/options.h"

#include <filesystem>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "src/arm/credentials.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/http/http.h"
#include "src/manifest/duration.h"

namespace kustodian {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxWorkers = 64;
constexpr absl::Duration kMinResync = absl::Seconds(1);
constexpr absl::Duration kMinRescan = absl::Seconds(1);
constexpr absl::Duration kMaxDebounce = absl::Seconds(30);

// Checks a directory flag: `required` means it must be given; `must_exist` that it exists.
void CheckDir(std::string_view flag, const std::string& path, bool required, bool must_exist,
              std::vector<std::string>* problems) {
  if (path.empty()) {
    if (required) {
      problems->push_back(absl::StrCat(Av(flag), ": required; give a directory path"));
    }
    return;
  }
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (!exists) {
    if (must_exist) {
      problems->push_back(
          absl::StrCat(Av(flag), ": \"", path, "\" does not exist; create it or fix the path"));
    }
    return;
  }
  if (!fs::is_directory(path, ec)) {
    problems->push_back(
        absl::StrCat(Av(flag), ": \"", path, "\" is not a directory; give a directory path"));
  }
}

absl::StatusOr<BucketOptions> ParseBucket(std::string_view type, std::string_view value) {
  std::vector<std::string> parts = absl::StrSplit(Av(value), '/');
  double burst = 0;
  double rate = 0;
  if (parts.size() != 2 || !absl::SimpleAtod(parts[0], &burst) ||
      !absl::SimpleAtod(parts[1], &rate) || !(burst > 0) || !(rate > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--arm-rate-limits: \"", Av(type), "=", Av(value),
        "\" is not BURST/PER_SECOND with both > 0; example: reads=250/25,writes=200/10,"
        "deletes=200/10, or \"off\""));
  }
  return BucketOptions{burst, rate};
}

bool IsDnsLabel(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

void ValidateKubeOptions(const KubeOptions& k, std::vector<std::string>* problems) {
  for (const std::string& ns : k.watch_namespaces) {
    if (!IsDnsLabel(ns, 63)) {
      problems->push_back(absl::StrCat("--watch-namespace: \"", ns,
                                       "\" is not a namespace name (lower-case letters, digits "
                                       "and '-', at most 63 characters)"));
    }
  }
  if (k.shard_count < 1 || k.shard_count > 1024) {
    problems->push_back(
        absl::StrFormat("--shard-count: %d is out of range; give 1..1024", k.shard_count));
  } else if (k.shard_index < 0 || k.shard_index >= k.shard_count) {
    problems->push_back(absl::StrFormat("--shard-index: %d is out of range; give 0..%d",
                                        k.shard_index, k.shard_count - 1));
  }
  if (!IsDnsLabel(k.leader_election_id, 40)) {
    problems->push_back(absl::StrCat("--leader-election-id: \"", k.leader_election_id,
                                     "\" is not usable as a Lease name (lower-case letters, "
                                     "digits and '-', at most 40 characters)"));
  }
  if (!k.leader_election_namespace.empty() && !IsDnsLabel(k.leader_election_namespace, 63)) {
    problems->push_back(absl::StrCat("--leader-election-namespace: \"", k.leader_election_namespace,
                                     "\" is not a namespace name"));
  }
  if (k.lease_duration <= k.renew_deadline || k.renew_deadline <= k.retry_period ||
      k.retry_period <= absl::ZeroDuration()) {
    problems->push_back(
        absl::StrCat("--leader-election-lease-duration (", absl::FormatDuration(k.lease_duration),
                     ") must be longer than --leader-election-renew-deadline (",
                     absl::FormatDuration(k.renew_deadline),
                     "), which must be longer than --leader-election-retry-period (",
                     absl::FormatDuration(k.retry_period), ") > 0"));
  }
}

}  // namespace

absl::StatusOr<SourceKind> ParseSourceFlag(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(Av(text));
  if (lower == "directory") {
    return SourceKind::kDirectory;
  }
  if (lower == "kubernetes") {
    return SourceKind::kKubernetes;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--source: \"", Av(text), "\" is not a source; use directory or kubernetes"));
}

std::string EffectiveStatusDir(const DaemonOptions& options) {
  if (!options.status_dir.empty()) {
    return options.status_dir;
  }
  if (options.state_dir.empty()) {
    return "";  // kubernetes mode without --state-dir: statuses in memory (and the CRs)
  }
  return (fs::path(options.state_dir) / "status").string();
}

absl::StatusOr<absl::Duration> ParseDurationFlag(std::string_view flag, std::string_view text) {
  absl::StatusOr<absl::Duration> d = ParseGoDuration(text);
  if (!d.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(Av(flag), ": ",
                                                   std::string(d.status().message()),
                                                   "; use a Go duration such as 30s, 5m or 1h"));
  }
  if (*d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(flag), ": \"", Av(text), "\" is negative; give 0 or a positive duration"));
  }
  return *d;
}

absl::StatusOr<HostPort> ParseBindAddress(std::string_view flag, std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(Av(flag), ": \"", Av(text), "\" ", Av(why),
                                                   "; expected HOST:PORT such as 127.0.0.1:8080"));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("has no port");
  }
  HostPort out;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("has an IPv6 host without brackets");
  }
  out.host = host.empty() ? "0.0.0.0" : std::string(host);
  int port = -1;
  if (!absl::SimpleAtoi(Av(text.substr(colon + 1)), &port) || port < 0 || port > 65535) {
    return bad("has an invalid port (0..65535)");
  }
  out.port = port;
  return out;
}

absl::StatusOr<RateLimitOptions> ParseArmRateLimits(std::string_view text) {
  RateLimitOptions out;
  std::string lower = absl::AsciiStrToLower(Av(text));
  if (lower == "off" || lower == "none" || lower == "disabled") {
    out.enabled = false;
    return out;
  }
  for (absl::string_view item : absl::StrSplit(lower, ',', absl::SkipWhitespace())) {
    std::vector<std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    std::string key(absl::StripAsciiWhitespace(kv[0]));
    if (kv.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--arm-rate-limits: \"", item, "\" has no '='; example: reads=250/25,writes=200/10"));
    }
    std::string value(absl::StripAsciiWhitespace(kv[1]));
    BucketOptions* target = nullptr;
    if (key == "reads") {
      target = &out.reads;
    } else if (key == "writes") {
      target = &out.writes;
    } else if (key == "deletes") {
      target = &out.deletes;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--arm-rate-limits: unknown type \"", key,
                                                     "\"; use reads, writes or deletes"));
    }
    KUS_ASSIGN_OR_RETURN(*target, ParseBucket(key, value));
  }
  return out;
}

std::string FormatArmRateLimits(const RateLimitOptions& options) {
  if (!options.enabled) {
    return "off";
  }
  auto one = [](const char* name, const BucketOptions& b) {
    return absl::StrFormat("%s=%g/%g", name, b.burst, b.per_second);
  };
  return absl::StrJoin(
      {one("reads", options.reads), one("writes", options.writes), one("deletes", options.deletes)},
      ",");
}

absl::StatusOr<LogFormat> ParseLogFormatFlag(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(Av(text));
  if (lower == "text") {
    return LogFormat::kText;
  }
  if (lower == "json") {
    return LogFormat::kJson;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--log-format: \"", Av(text), "\" is not a log format; use text or json"));
}

absl::StatusOr<LogLevel> ParseLogLevelFlag(std::string_view text) {
  LogLevel level;
  if (ParseLogLevel(text, &level)) {
    return level;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--log-level: \"", Av(text), "\" is not a log level; use debug, info, warn or error"));
}

absl::Status ValidateArmFlags(const ArmFlags& flags) {
  std::vector<std::string> problems;
  if (absl::StatusOr<CloudConfig> cloud = CloudByName(flags.cloud); !cloud.ok()) {
    problems.push_back(absl::StrCat("--cloud: \"", flags.cloud,
                                    "\" is not a known cloud; use AzurePublicCloud, "
                                    "AzureChinaCloud or AzureUSGovernment"));
  }
  if (!flags.endpoint.empty()) {
    absl::StatusOr<ParsedUrl> url = ParseUrl(flags.endpoint);
    if (!url.ok()) {
      problems.push_back(absl::StrCat("--arm-endpoint: \"", flags.endpoint,
                                      "\" is not an absolute http(s) URL; example: "
                                      "https://management.azure.com"));
    } else if (url->path_and_query != "/" && !url->path_and_query.empty()) {
      problems.push_back(absl::StrCat("--arm-endpoint: \"", flags.endpoint,
                                      "\" has a path or query; give only scheme://host[:port]"));
    } else if (url->scheme == "http" && !IsLoopbackHost(url->host)) {
      problems.push_back(
          absl::StrCat("--arm-endpoint: plain http is allowed only to a loopback "
                       "host (the emulator); use https for \"",
                       url->host, "\""));
    }
  }
  if (!flags.imds_endpoint.empty() && !ParseUrl(flags.imds_endpoint).ok()) {
    problems.push_back(absl::StrCat("--imds-endpoint: \"", flags.imds_endpoint,
                                    "\" is not an absolute http(s) URL"));
  }
  if (flags.api_version != "2024-04-13" && flags.api_version != "2025-02-14") {
    problems.push_back(absl::StrCat("--api-version: \"", flags.api_version,
                                    "\" is not supported; use 2024-04-13 or 2025-02-14"));
  }
  if (problems.empty()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

absl::Status ValidateDaemonOptions(const DaemonOptions& options) {
  std::vector<std::string> problems;
  const bool directory_mode = options.source == SourceKind::kDirectory;
  CheckDir("--config-dir", options.config_dir, /*required=*/directory_mode, /*must_exist=*/true,
           &problems);
  CheckDir("--state-dir", options.state_dir, /*required=*/directory_mode, /*must_exist=*/false,
           &problems);
  if (!directory_mode) {
    ValidateKubeOptions(options.kube, &problems);
  }
  CheckDir("--status-dir", options.status_dir, /*required=*/false, /*must_exist=*/false, &problems);
  if (options.workers < 1 || options.workers > kMaxWorkers) {
    problems.push_back(
        absl::StrFormat("--workers: %d is out of range; give 1..%d", options.workers, kMaxWorkers));
  }
  if (options.resync_interval != absl::ZeroDuration() && options.resync_interval < kMinResync) {
    problems.push_back(
        absl::StrCat("--resync-interval: ", absl::FormatDuration(options.resync_interval),
                     " is too short; give 0 (off) or at least ", absl::FormatDuration(kMinResync)));
  }
  if (options.rescan_interval != absl::ZeroDuration() && options.rescan_interval < kMinRescan) {
    problems.push_back(
        absl::StrCat("--rescan-interval: ", absl::FormatDuration(options.rescan_interval),
                     " is too short; give 0 (off) or at least ", absl::FormatDuration(kMinRescan)));
  }
  if (options.debounce < absl::ZeroDuration() || options.debounce > kMaxDebounce) {
    problems.push_back(absl::StrCat("--debounce: ", absl::FormatDuration(options.debounce),
                                    " is out of range; give 0..",
                                    absl::FormatDuration(kMaxDebounce)));
  }
  if (options.max_deletes_per_pass < 0) {
    problems.push_back(
        absl::StrFormat("--max-deletes-per-pass: %d is negative; give 0 (never delete) or more",
                        options.max_deletes_per_pass));
  }
  if (options.metrics_bind_address != "0") {
    if (absl::StatusOr<HostPort> hp =
            ParseBindAddress("--metrics-bind-address", options.metrics_bind_address);
        !hp.ok()) {
      problems.emplace_back(hp.status().message());
    }
  }
  if (absl::Status arm = ValidateArmFlags(options.arm); !arm.ok()) {
    problems.emplace_back(arm.message());
  }
  for (std::string& p : EventGridOptionProblems(options.eventgrid)) {
    problems.push_back(std::move(p));
  }
  if (problems.empty()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

}  // namespace kustodian
