// The local ARM emulator for Kusto data connections (as Azurite is for Storage). Emulator::Handle
// answers one HTTP request as ARM + the Kusto resource provider would, reproducing the real
// behaviours of arm-kusto-api.md §6 (LRO shapes, location display names, server-filled
// properties), ARM's errors, throttling and headers, a fake Entra token endpoint, fault
// injection and an admin API (/_admin). Tests call Handle directly; emulator_main.cc serves it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/emulator/auth.h"
#include "src/emulator/eventgrid_delivery.h"
#include "src/emulator/eventgrid_events.h"
#include "src/emulator/faults.h"
#include "src/emulator/ids.h"
#include "src/emulator/lro.h"
#include "src/emulator/request_log.h"
#include "src/emulator/routing.h"
#include "src/emulator/store.h"
#include "src/emulator/throttle.h"
#include "src/emulator/world.h"
#include "src/http/server.h"

namespace kustodian::emulator {

struct EmulatorOptions {
  // How long a PUT/PATCH/DELETE operation runs. 0 = it completes at the next request.
  absl::Duration lro_duration = absl::Seconds(1);
  // When set, LRO responses (201/200/202 and Location polls) carry Retry-After: N.
  std::optional<int> lro_retry_after_seconds;
  // A write to any connection of a cluster with an operation in flight gets 409.
  bool serialize_cluster_writes = true;
  // > 0: LIST returns pages of this size with a nextLink.
  int list_page_size = 0;
  ThrottleOptions throttle;
  bool auth = true;       // false = no Authorization checks at all (--no-auth)
  std::string dev_token;  // a static bearer token accepted as principal "dev" ("" = none)
  absl::Duration token_lifetime = absl::Seconds(3600);
  uint64_t seed = 1;  // request ids, operation ids and fault dice
  // Base of the URLs in Azure-AsyncOperation/Location/nextLink. "" = scheme://{Host header}.
  std::string public_base_url;
  std::string scheme = "http";  // used with the Host header when public_base_url is ""
  std::vector<FaultRule> faults;
  size_t request_log_capacity = 10000;
  bool log_requests = false;  // one log line per request (needs a Logger)
  // Event Grid delivery of resource events (docs/emulator.md "Event Grid").
  EventGridOptions eventgrid;
  // data.tenantId of events whose caller's token names no tenant (dev token, admin changes).
  std::string eventgrid_tenant_id = "10000000-0000-0000-0000-000000000001";
};

// Thread-safe: one mutex guards all state; only injected latency sleeps, outside the lock.
class Emulator {
 public:
  // `clock` and `logger` (optional) must outlive the emulator.
  Emulator(EmulatorOptions options, Clock& clock, Logger* logger = nullptr);
  // Stops Event Grid delivery first (its threads call back into the emulator).
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Adds the topology, principals and seeded connections of `world` (merging with what is
  // there). InvalidArgument naming the connection (and its world-file line) when a seeded
  // connection is invalid; nothing of `world` is applied then.
  absl::Status LoadWorld(const World& world);

  // Answers one request. Never fails: every problem is an HTTP response.
  ServerResponse Handle(const ServerRequest& request);

  // Adds a fault rule at run time; returns its id.
  int AddFault(FaultRule rule);

 private:
  struct Ctx;  // per-request context (emulator.cc)

  // emulator.cc: the ARM pipeline.
  ServerResponse HandleLocked(const ServerRequest& request, const Route& route, Ctx& ctx);
  ServerResponse DispatchArm(const ServerRequest& request, const Route& route, Ctx& ctx);
  void ApplyCompletedOperations(absl::Time now);
  void FinishResponse(const ServerRequest& request, const Ctx& ctx, ServerResponse& response);
  std::string BaseUrl(const ServerRequest& request) const;

  // emulator_connections.cc: data connection CRUD.
  absl::Status ResolveParents(const Route& route, bool write, std::string_view action,
                              const ClusterInfo** cluster, std::string* database) const;
  ServerResponse GetConnection(const ServerRequest& request, const Route& route, Ctx& ctx);
  ServerResponse ListConnections(const ServerRequest& request, const Route& route, Ctx& ctx);
  ServerResponse PutConnection(const ServerRequest& request, const Route& route, Ctx& ctx,
                               bool patch);
  ServerResponse DeleteConnection(const ServerRequest& request, const Route& route, Ctx& ctx);
  absl::Status CheckWritable(const StoredConnection* existing, const std::string& cluster_key,
                             const std::string& resource_id) const;
  std::string OperationUrl(const ServerRequest& request, std::string_view subscription,
                           std::string_view location_segment, std::string_view op_id,
                           std::string_view api_version, bool location_form) const;

  // emulator_actions.cc: validation, checkNameAvailability, operation status.
  ServerResponse ValidateConnection(const ServerRequest& request, const Route& route, Ctx& ctx);
  ServerResponse CheckName(const ServerRequest& request, const Route& route, Ctx& ctx);
  ServerResponse GetOperation(const ServerRequest& request, const Route& route, Ctx& ctx);

  // emulator_admin.cc: the /_admin API.
  ServerResponse HandleAdmin(const ServerRequest& request, const Route& route);
  ServerResponse AdminPutConnection(const ServerRequest& request, std::string_view id);
  ServerResponse AdminDeleteConnection(const ServerRequest& request, std::string_view id);
  // The ChangeContext of an out-of-band change (as if made in the portal) of connection `id`;
  // the correlation id is the request's x-ms-correlation-request-id, or a new GUID.
  ChangeContext AdminChange(const ServerRequest& request, std::string_view id,
                            std::string_view subscription, bool http_request);
  ServerResponse AdminDump() const;
  absl::Status LoadWorldLocked(const World& world);

  // eventgrid_emulator.cc: resource events and the /_admin/eventgrid API.
  // What a change made by `request` looks like in its event; `correlation_id` is the request's;
  // `url` "" = the request's own URL.
  ChangeContext ChangeFor(const ServerRequest& request, std::string_view resource_uri,
                          std::string_view subscription, std::string_view correlation_id,
                          bool http_request, std::string_view url);
  // Publishes the event of a finished change (at `time`).
  void PublishChange(const ChangeContext& change, ChangeKind kind, bool succeeded, absl::Time time);
  // /_admin/eventgrid/...; `path` is after "/eventgrid". nullopt when no route matches.
  std::optional<ServerResponse> HandleEventGridAdmin(const ServerRequest& request,
                                                     std::string_view path);
  // The topic of validation events: the first subscription of the world.
  std::string ValidationTopic() const;

  EmulatorOptions options_;
  Clock& clock_;
  Logger* logger_;
  const TokenAuthority authority_;

  std::mutex mu_;
  RandomSource rng_;                   // guarded by mu_
  Topology topology_;                  // guarded by mu_
  std::vector<Principal> principals_;  // guarded by mu_
  ConnectionStore store_;              // guarded by mu_
  OperationTable operations_;          // guarded by mu_
  Throttler throttler_;                // guarded by mu_
  FaultInjector faults_;               // guarded by mu_
  RequestLog log_;                     // guarded by mu_
  // Last member: destroyed (stopped) first. Thread-safe on its own; called with mu_ held.
  EventGridDispatcher eventgrid_;
};

}  // namespace kustodian::emulator
