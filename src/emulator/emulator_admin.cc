// Emulator: the /_admin API (loopback only, no auth): request log, stats, faults, out-of-band
// connection edits "as if in the portal", world loading, health.
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/emulator/emulator.h"
#include "src/emulator/http_util.h"
#include "src/emulator/kinds.h"
#include "src/emulator/time_format.h"

namespace kustodian::emulator {

namespace {

ServerResponse AdminError(absl::StatusCode code, std::string_view message) {
  return ErrorResponse(absl::Status(code, Av(message)));
}

ServerResponse Text(int status, std::string text) {
  ServerResponse response;
  response.status = status;
  response.body = std::move(text);
  response.content_type = "text/plain; charset=utf-8";
  return response;
}

std::string_view OpKindText(OpKind kind) {
  switch (kind) {
    case OpKind::kUpdate:
      return "update";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kCreate:
      break;
  }
  return "create";
}

}  // namespace

ChangeContext Emulator::AdminChange(const ServerRequest& request, std::string_view id,
                                    std::string_view subscription, bool http_request) {
  std::string correlation_id =
      GetHeader(request.headers, "x-ms-correlation-request-id").value_or(rng_.NewGuid());
  return ChangeFor(
      request, id, subscription, correlation_id, http_request,
      absl::StrCat("https://management.azure.com", Av(id), "?api-version=", Av(kApi2024)));
}

ServerResponse Emulator::HandleAdmin(const ServerRequest& request, const Route& route) {
  if (!IsLoopbackAddress(request.remote_addr)) {
    return AdminError(absl::StatusCode::kPermissionDenied,
                      "the admin endpoint only answers loopback clients");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ApplyCompletedOperations(clock_.Now());
  const std::string& m = request.method;
  absl::string_view path = route.admin_path;
  if (path == "/healthz" && m == "GET") {
    return Text(200, "ok\n");
  }
  if (path == "/requests" && m == "GET") {
    int64_t since = 0;
    std::optional<std::string> s = GetQuery(request, "since");
    if (s.has_value() && !absl::SimpleAtoi(*s, &since)) {
      return AdminError(absl::StatusCode::kInvalidArgument, "since must be an integer");
    }
    return JsonResponse(200, log_.RequestsSince(since));
  }
  if (path == "/stats" && m == "GET") {
    OrderedJson stats = log_.Stats();
    stats["eventGrid"] = eventgrid_.CountersJson();
    return JsonResponse(200, stats);
  }
  if (path == "/reset-stats" && m == "POST") {
    log_.ResetStats();
    eventgrid_.ResetCounters();
    return EmptyResponse(204);
  }
  absl::string_view eventgrid_path = path;
  if (absl::ConsumePrefix(&eventgrid_path, "/eventgrid")) {
    std::optional<ServerResponse> response = HandleEventGridAdmin(request, Sv(eventgrid_path));
    if (response.has_value()) {
      return std::move(*response);
    }
  }
  if (path == "/faults") {
    if (m == "GET") {
      OrderedJson list = OrderedJson::array();
      for (const FaultRule& rule : faults_.Rules()) {
        list.push_back(OrderedJson::parse(FaultRuleToJson(rule).dump()));
      }
      return JsonResponse(200, OrderedJson{{"faults", list}});
    }
    if (m == "POST") {
      absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
      if (!body.ok()) {
        return ErrorResponse(body.status());
      }
      absl::StatusOr<std::vector<FaultRule>> rules = FaultRulesFromJson(*body);
      if (!rules.ok()) {
        return ErrorResponse(rules.status());
      }
      OrderedJson ids = OrderedJson::array();
      for (const FaultRule& rule : *rules) {
        ids.push_back(faults_.Add(rule));
      }
      return JsonResponse(200, OrderedJson{{"ids", ids}});
    }
    if (m == "DELETE") {
      faults_.Clear();
      return EmptyResponse(204);
    }
  }
  if (path == "/connections" && m == "GET") {
    return AdminDump();
  }
  absl::string_view id = path;
  if (absl::ConsumePrefix(&id, "/connections/")) {
    std::string full_id = absl::StrCat("/", id);
    if (m == "PUT") {
      return AdminPutConnection(request, full_id);
    }
    if (m == "DELETE") {
      return AdminDeleteConnection(request, full_id);
    }
  }
  if (path == "/world" && m == "POST") {
    absl::StatusOr<World> world = ParseWorld(request.body, "POST /_admin/world");
    if (!world.ok()) {
      return ErrorResponse(world.status());
    }
    absl::Status st = LoadWorldLocked(*world);
    if (!st.ok()) {
      return ErrorResponse(st);
    }
    return EmptyResponse(204);
  }
  return AdminError(absl::StatusCode::kNotFound,
                    absl::StrCat("no admin route ", m, " /_admin", path));
}

ServerResponse Emulator::AdminPutConnection(const ServerRequest& request, std::string_view id) {
  absl::StatusOr<DataConnectionId> parsed = DataConnectionId::Parse(id);
  if (!parsed.ok()) {
    return ErrorResponse(parsed.status());
  }
  const ClusterInfo* cluster =
      topology_.FindCluster(parsed->subscription_id, parsed->resource_group, parsed->cluster);
  const std::string* database =
      cluster == nullptr ? nullptr : Topology::FindDatabase(*cluster, parsed->database);
  if (database == nullptr) {
    return AdminError(absl::StatusCode::kNotFound,
                      absl::StrCat("no database '", parsed->database, "' in cluster '",
                                   parsed->cluster, "' in the world"));
  }
  absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  if (!body->is_object()) {
    return AdminError(absl::StatusCode::kInvalidArgument, "the body must be a JSON object");
  }
  std::string key = ConnectionKey(parsed->subscription_id, parsed->resource_group, parsed->cluster,
                                  parsed->database, parsed->name);
  StoredConnection* existing = store_.Find(key);
  std::string kind = body->value("kind", existing != nullptr ? existing->kind : std::string());
  const KindRules* rules = FindKind(kind);
  if (rules == nullptr) {
    return AdminError(absl::StatusCode::kInvalidArgument,
                      absl::StrCat("a known 'kind' is required (got '", kind, "')"));
  }
  bool same_kind = existing != nullptr && existing->kind == rules->name;
  nlohmann::json requested = same_kind ? existing->requested : nlohmann::json::object();
  nlohmann::json patch = body->value("properties", nlohmann::json::object());
  std::string state = "Succeeded";
  if (patch.is_object() && patch.contains("provisioningState") &&
      patch["provisioningState"].is_string()) {
    state = patch["provisioningState"].get<std::string>();
  }
  if (body->contains("provisioningState") && (*body)["provisioningState"].is_string()) {
    state = (*body)["provisioningState"].get<std::string>();
  }
  if (patch.is_object()) {
    requested.merge_patch(patch);
  }
  absl::StatusOr<RenderedProperties> rendered = RenderProperties(
      *rules, requested, same_kind ? &existing->properties : nullptr, clock_.Now(), kApi2025);
  if (!rendered.ok()) {
    return ErrorResponse(rendered.status());
  }
  StoredConnection connection;
  connection.subscription = cluster->subscription;
  connection.resource_group = cluster->resource_group;
  connection.cluster = cluster->name;
  connection.database = *database;
  connection.name = existing != nullptr ? existing->name : parsed->name;
  connection.kind = rules->name;
  connection.requested = std::move(rendered->requested);
  connection.properties = std::move(rendered->stored);
  connection.provisioning_state = state;
  ChangeContext change = AdminChange(request, id, cluster->subscription, existing != nullptr);
  StoredConnection& stored = store_.Put(key, std::move(connection));
  PublishChange(change, ChangeKind::kWrite, true, clock_.Now());
  return JsonResponse(200, ConnectionBody(stored, cluster->location, stored.provisioning_state));
}

ServerResponse Emulator::AdminDeleteConnection(const ServerRequest& request, std::string_view id) {
  absl::StatusOr<DataConnectionId> parsed = DataConnectionId::Parse(id);
  if (!parsed.ok()) {
    return ErrorResponse(parsed.status());
  }
  std::string key = ConnectionKey(parsed->subscription_id, parsed->resource_group, parsed->cluster,
                                  parsed->database, parsed->name);
  StoredConnection* existing = store_.Find(key);
  if (existing == nullptr) {
    return AdminError(absl::StatusCode::kNotFound, absl::StrCat("no connection '", Av(id), "'"));
  }
  ChangeContext change = AdminChange(request, id, existing->subscription, true);
  store_.Erase(key);
  PublishChange(change, ChangeKind::kDelete, true, clock_.Now());
  return EmptyResponse(204);
}

ServerResponse Emulator::AdminDump() const {
  OrderedJson out;
  out["clusters"] = OrderedJson::array();
  for (const ClusterInfo* cluster : topology_.Clusters()) {
    OrderedJson databases = OrderedJson::array();
    for (const auto& [lower, name] : cluster->databases) {
      databases.push_back(name);
    }
    out["clusters"].push_back(OrderedJson{{"subscriptionId", cluster->subscription},
                                          {"resourceGroup", cluster->resource_group},
                                          {"name", cluster->name},
                                          {"location", cluster->location},
                                          {"databases", databases}});
  }
  out["connections"] = OrderedJson::array();
  for (const StoredConnection* connection : store_.All()) {
    const ClusterInfo* cluster = topology_.FindCluster(
        connection->subscription, connection->resource_group, connection->cluster);
    OrderedJson item = ConnectionBody(*connection, cluster != nullptr ? cluster->location : "",
                                      connection->provisioning_state);
    item["operationId"] = connection->operation_id;
    out["connections"].push_back(std::move(item));
  }
  out["operations"] = OrderedJson::array();
  for (const Operation* op : operations_.All()) {
    out["operations"].push_back(OrderedJson{
        {"id", op->id},
        {"kind", std::string(OpKindText(op->kind))},
        {"status", op->status},
        {"resourceId", op->resource_id},
        {"location", op->location},
        {"startTime", FormatArmTime(op->start)},
        {"dueTime", FormatArmTime(op->due)},
        {"endTime", op->end.has_value() ? OrderedJson(FormatArmTime(*op->end)) : OrderedJson()}});
  }
  return JsonResponse(200, out);
}

absl::Status Emulator::LoadWorldLocked(const World& world) {
  Topology topology = topology_;
  topology.Add(world);
  std::vector<std::pair<std::string, StoredConnection>> seeded;
  absl::Time now = clock_.Now();
  for (const WorldSubscription& sub : world.subscriptions) {
    for (const WorldResourceGroup& group : sub.resource_groups) {
      for (const WorldCluster& wc : group.clusters) {
        const ClusterInfo* cluster = topology.FindCluster(sub.id, group.name, wc.name);
        for (const WorldDatabase& db : wc.databases) {
          for (const WorldConnection& wconn : db.connections) {
            auto fail = [&](std::string_view what) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "world line ", wconn.line, ": connection '", wconn.name, "': ", Av(what)));
            };
            const KindRules* rules = FindKind(wconn.kind);
            if (rules == nullptr) {
              return fail(absl::StrCat("unknown kind '", wconn.kind, "'"));
            }
            absl::StatusOr<RenderedProperties> rendered =
                RenderProperties(*rules, wconn.properties, nullptr, now, kApi2025);
            if (!rendered.ok()) {
              return fail(Sv(rendered.status().message()));
            }
            StoredConnection connection;
            connection.subscription = cluster->subscription;
            connection.resource_group = cluster->resource_group;
            connection.cluster = cluster->name;
            connection.database = *Topology::FindDatabase(*cluster, db.name);
            connection.name = wconn.name;
            connection.kind = rules->name;
            connection.requested = std::move(rendered->requested);
            connection.properties = std::move(rendered->stored);
            if (!wconn.provisioning_state.empty()) {
              connection.provisioning_state = wconn.provisioning_state;
            }
            seeded.emplace_back(ConnectionKey(sub.id, group.name, wc.name, db.name, wconn.name),
                                std::move(connection));
          }
        }
      }
    }
  }
  topology_ = std::move(topology);
  for (auto& [key, connection] : seeded) {
    store_.Put(key, std::move(connection));
  }
  for (const EventGridSubscriptionConfig& config : world.eventgrid_subscriptions) {
    eventgrid_.Upsert(config, ValidationTopic());
  }
  for (const Principal& principal : world.principals) {
    auto same = std::find_if(principals_.begin(), principals_.end(), [&](const Principal& p) {
      return absl::EqualsIgnoreCase(p.client_id, principal.client_id) &&
             absl::EqualsIgnoreCase(p.tenant_id, principal.tenant_id);
    });
    if (same != principals_.end()) {
      *same = principal;
    } else {
      principals_.push_back(principal);
    }
  }
  return absl::OkStatus();
}

}  // namespace kustodian::emulator
