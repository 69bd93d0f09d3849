// Entry point of `kustodian-emulator`: parses flags, loads the world file, serves Emulator on
// HttpServer (plain or TLS) until SIGINT/SIGTERM, and prints/writes the bound port.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/emulator/emulator.h"
#include "src/emulator/faults.h"
#include "src/emulator/world.h"
#include "src/http/server.h"

namespace kustodian::emulator {
namespace {

constexpr std::string_view kDescription =
    "kustodian-emulator: a local Azure Resource Manager for Kusto (Azure Data Explorer) data\n"
    "connections, as Azurite is for Storage. It serves the ARM data-connection API\n"
    "(GET/PUT/PATCH/DELETE/LIST, dataConnectionValidation, checkNameAvailability, operation\n"
    "status), reproduces real ARM behaviours (201 Creating / 200 Accepted / 202 Delete LROs,\n"
    "location display names, server-filled properties, 409 while an operation runs, throttling\n"
    "headers and 429s), a fake Entra ID token endpoint and IMDS, and fault injection.";

constexpr std::string_view kFooter = R"(WORLD FILE (--world, YAML):
  subscriptions:
    - id: 00000000-0000-0000-0000-000000000001
      resourceGroups:
        - name: testrg
          clusters:
            - name: mykustocluster
              location: East US 2          # display name ("eastus2" is mapped to it)
              databases:
                - name: mykustodatabase
                  connections:             # optional, pre-seeded (server defaults added)
                    - name: existing
                      kind: EventHub
                      properties: {eventHubResourceId: /subscriptions/..., consumerGroup: $Default}
  eventGridSubscriptions:                  # resource events of connection writes/deletes
    - name: kustodian
      endpoint: http://127.0.0.1:8090/eventgrid?code=SECRET
      schema: EventGridSchema                # or CloudEventSchemaV1_0
      maxEventsPerBatch: 1                   # also preferredBatchSizeInKilobytes,
      headers: {x-secret: SECRET}            # includedEventTypes, maxDeliveryAttempts, ...
  principals:                              # for POST /{tenant}/oauth2/v2.0/token and IMDS
    - {clientId: ..., clientSecret: ..., tenantId: ..., objectId: ..., federated: false,
       managedIdentity: false}
  Errors name the file and line. More can be loaded at run time: POST /_admin/world.

ADMIN ENDPOINT (loopback clients only, no auth):
  GET    /_admin/healthz                 "ok"
  GET    /_admin/requests?since=SEQ      request log (method, path, api-version, status, ...)
  GET    /_admin/stats                   counts by method, by "METHOD route", status, faults
  POST   /_admin/reset-stats
  GET    /_admin/faults                  active fault rules
  POST   /_admin/faults                  add: {"spec":"503:x2"} or {"kind":"429","count":2,...}
  DELETE /_admin/faults                  remove all
  GET    /_admin/connections             dump of clusters, connections and operations
  PUT    /_admin/connections/{full id}   out-of-band create/merge (no LRO), as in the portal
  DELETE /_admin/connections/{full id}   out-of-band delete
  POST   /_admin/world                   load more world YAML
  GET    /_admin/eventgrid/subscriptions          subscriptions with validation/delivery state
  PUT    /_admin/eventgrid/subscriptions/{name}   add/replace: {"endpoint":...,"schema":...}
  DELETE /_admin/eventgrid/subscriptions/{name}

FAULTS (--fault, repeatable): KIND[=ARG]:WHEN[:METHOD[:PATH-SUBSTRING]]
  KIND  429 (ARG = Retry-After seconds, default 1), 429-no-retry-after, 500, 503, 504,
        drop (connection closed), latency (ARG = milliseconds, required),
        lro-fail (the operation started by a matching write ends Failed)
  WHEN  a probability 0..1, or xN = each of the next N matching calls
  e.g.  --fault 503:0.1   --fault 429=5:x3:PUT   --fault latency=200:1:GET:/operationResults/

On start it prints "kustodian-emulator listening on http(s)://HOST:PORT" on stdout and, with
--port-file, writes the port number to that file. See docs/emulator.md.
)";

// "1s", "250ms", "2m" (absl durations) or a bare number of seconds.
bool ParseDurationFlag(const std::string& text, absl::Duration* out) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    *out = absl::Seconds(seconds);
    return seconds >= 0;
  }
  return absl::ParseDuration(text, out) && *out >= absl::ZeroDuration();
}

// "CAPACITY/REFILL_PER_SECOND", e.g. "250/25".
bool ParseLimit(const std::string& text, BucketLimit* out) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  return parts.size() == 2 && absl::SimpleAtod(parts[0], &out->capacity) &&
         absl::SimpleAtod(parts[1], &out->refill_per_second) && out->capacity >= 1 &&
         out->refill_per_second >= 0;
}

bool WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!(out << port << "\n")) {
      return false;
    }
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int Fail(const std::string& message) {
  std::cerr << "kustodian-emulator: " << message << std::endl;
  return 2;
}

int Run(int argc, char** argv) {
  RealClock clock;
  CLI::App app{std::string(kDescription), "kustodian-emulator"};
  app.footer(std::string(kFooter));
  std::string world_file, bind = "127.0.0.1", port_file, tls_cert, tls_key, public_url;
  int port = 0;
  std::string lro_duration = "1s", token_lifetime = "3600s";
  std::string read_limits = "250/25", write_limits = "200/10", delete_limits = "200/10";
  std::vector<std::string> fault_specs;
  EmulatorOptions options;
  int lro_retry_after = -1;
  bool no_auth = false;
  app.add_option("--world", world_file, "World YAML file (see below); default: an empty world");
  app.add_option("--bind", bind, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "Port to listen on; 0 = pick a free one")->capture_default_str();
  app.add_option("--port-file", port_file, "Write the bound port number to this file");
  app.add_option("--tls-cert", tls_cert, "Serve HTTPS with this PEM certificate (needs --tls-key)");
  app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert");
  app.add_option("--public-url", public_url,
                 "Base URL for Azure-AsyncOperation/Location/nextLink; default: scheme://Host");
  app.add_option("--lro-duration", lro_duration,
                 "How long PUT/PATCH/DELETE operations run (e.g. 1s, 250ms; 0 = done at the next "
                 "request)")
      ->capture_default_str();
  app.add_option("--lro-retry-after", lro_retry_after,
                 "Add Retry-After: N to LRO responses (real Kusto sends none)");
  app.add_option("--token-lifetime", token_lifetime, "Lifetime of issued tokens")
      ->capture_default_str();
  app.add_flag("--throttle,!--no-throttle", options.throttle.enabled,
               "ARM token-bucket throttling (429 SubscriptionRequestsThrottled); on by default");
  app.add_option("--read-limits", read_limits, "Per-principal read bucket CAPACITY/REFILL_PER_S")
      ->capture_default_str();
  app.add_option("--write-limits", write_limits, "Write bucket CAPACITY/REFILL_PER_S")
      ->capture_default_str();
  app.add_option("--delete-limits", delete_limits, "Delete bucket CAPACITY/REFILL_PER_S")
      ->capture_default_str();
  app.add_option("--global-multiplier", options.throttle.global_multiplier,
                 "Subscription-wide buckets are this many times the per-principal ones")
      ->capture_default_str();
  app.add_option("--refill-scale", options.throttle.refill_scale,
                 "Multiply every refill rate (benchmarks)")
      ->capture_default_str();
  app.add_flag("--serialize-cluster-writes,!--no-serialize-cluster-writes",
               options.serialize_cluster_writes,
               "409 RequestConflict for a write while any operation runs on the same cluster "
               "(default on)");
  app.add_option("--list-page-size", options.list_page_size,
                 "Page LIST results with nextLink; 0 = no paging (as real Kusto)")
      ->capture_default_str();
  app.add_option("--fault", fault_specs, "Inject faults, KIND[=ARG]:WHEN[:METHOD[:PATH]] (below)");
  CLI::Option* seed_option =
      app.add_option("--seed", options.seed,
                     "Seed for request/operation ids and fault dice; default: from the clock");
  app.add_option("--dev-token", options.dev_token,
                 "Also accept 'Authorization: Bearer TOKEN' as principal \"dev\"");
  app.add_flag("--no-auth", no_auth, "Do not check Authorization at all");
  app.add_flag("--log-requests", options.log_requests, "Log one line per request to stderr");
  std::string eventgrid_batch_window = "10ms", eventgrid_ttl = "24h";
  app.add_option("--eventgrid-retry-scale", options.eventgrid.retry_scale,
                 "Multiply Event Grid's retry schedule (10s, 30s, 1m, 5m, ...) by this factor "
                 "(tests: e.g. 0.001)")
      ->capture_default_str();
  app.add_option("--eventgrid-batch-window", eventgrid_batch_window,
                 "How long Event Grid delivery gathers events into one batch")
      ->capture_default_str();
  app.add_option("--eventgrid-max-attempts", options.eventgrid.max_attempts,
                 "Delivery attempts before an event is dead-lettered (default, per subscription "
                 "maxDeliveryAttempts overrides)")
      ->capture_default_str();
  app.add_option("--eventgrid-ttl", eventgrid_ttl,
                 "Event time-to-live before it is dead-lettered (per subscription "
                 "eventTimeToLiveInMinutes overrides)")
      ->capture_default_str();
  app.add_option("--eventgrid-tenant-id", options.eventgrid_tenant_id,
                 "data.tenantId of events whose caller's token names no tenant")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  options.auth = !no_auth;
  if (seed_option->count() == 0) {
    options.seed = static_cast<uint64_t>(absl::ToUnixNanos(clock.Now()));
  }
  if (lro_retry_after >= 0) {
    options.lro_retry_after_seconds = lro_retry_after;
  }
  if (!ParseDurationFlag(lro_duration, &options.lro_duration)) {
    return Fail("--lro-duration: '" + lro_duration + "' is not a duration (e.g. 1s, 250ms)");
  }
  if (!ParseDurationFlag(token_lifetime, &options.token_lifetime) ||
      options.token_lifetime < absl::Seconds(1)) {
    return Fail("--token-lifetime: '" + token_lifetime + "' is not a duration of at least 1s");
  }
  if (!ParseLimit(read_limits, &options.throttle.reads) ||
      !ParseLimit(write_limits, &options.throttle.writes) ||
      !ParseLimit(delete_limits, &options.throttle.deletes)) {
    return Fail("--read/write/delete-limits take CAPACITY/REFILL_PER_SECOND, e.g. 250/25");
  }
  if (options.throttle.refill_scale <= 0 || options.throttle.global_multiplier < 1) {
    return Fail("--refill-scale must be > 0 and --global-multiplier >= 1");
  }
  if (!(options.eventgrid.retry_scale > 0)) {
    return Fail("--eventgrid-retry-scale must be > 0");
  }
  if (!ParseDurationFlag(eventgrid_batch_window, &options.eventgrid.batch_window)) {
    return Fail("--eventgrid-batch-window: '" + eventgrid_batch_window +
                "' is not a duration (e.g. 10ms)");
  }
  if (!ParseDurationFlag(eventgrid_ttl, &options.eventgrid.ttl) ||
      options.eventgrid.ttl <= absl::ZeroDuration()) {
    return Fail("--eventgrid-ttl: '" + eventgrid_ttl + "' is not a positive duration (e.g. 24h)");
  }
  if (options.eventgrid.max_attempts < 1) {
    return Fail("--eventgrid-max-attempts must be at least 1");
  }
  for (const std::string& spec : fault_specs) {
    absl::StatusOr<FaultRule> rule = ParseFaultSpec(spec);
    if (!rule.ok()) {
      return Fail(std::string(rule.status().message()));
    }
    options.faults.push_back(*rule);
  }
  if (tls_cert.empty() != tls_key.empty()) {
    return Fail("--tls-cert and --tls-key go together");
  }
  options.scheme = tls_cert.empty() ? "http" : "https";
  options.public_base_url = public_url;

  World world;
  if (!world_file.empty()) {
    absl::StatusOr<World> loaded = LoadWorldFile(world_file);
    if (!loaded.ok()) {
      return Fail(std::string(loaded.status().message()));
    }
    world = std::move(*loaded);
  }

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Logger logger(LogLevel::kInfo, LogFormat::kText, clock);
  Emulator emulator(options, clock, &logger);
  absl::Status loaded = emulator.LoadWorld(world);
  if (!loaded.ok()) {
    return Fail(absl::StrCat(world_file, ": ", loaded.message()));
  }
  HttpServer server;
  server.Route("*", "/",
               [&emulator](const ServerRequest& request) { return emulator.Handle(request); });
  absl::StatusOr<int> bound =
      tls_cert.empty() ? server.Start(bind, port) : server.StartTls(bind, port, tls_cert, tls_key);
  if (!bound.ok()) {
    return Fail(std::string(bound.status().message()));
  }
  std::string host = bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
  std::cout << "kustodian-emulator listening on " << options.scheme << "://" << host << ":"
            << *bound << std::endl;
  if (!port_file.empty() && !WritePortFile(port_file, *bound)) {
    server.Stop();
    return Fail("cannot write --port-file " + port_file);
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "kustodian-emulator stopping (signal " << signal_number << ")" << std::endl;
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace kustodian::emulator

int main(int argc, char** argv) {
  // A client hanging up on a TLS connection must not kill the server (OpenSSL uses write(2)).
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return kustodian::emulator::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kustodian-emulator: fatal: " << e.what() << std::endl;
    return 1;
  }
}
