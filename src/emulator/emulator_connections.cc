// Emulator: GET / LIST / PUT / PATCH / DELETE of data connections (the LRO shapes of §6).
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/emulator/emulator.h"
#include "src/emulator/emulator_ctx.h"
#include "src/emulator/http_util.h"
#include "src/emulator/kinds.h"

namespace kustodian::emulator {

namespace {

absl::Status ContentError(std::string_view detail) {
  return ArmStatus(absl::StatusCode::kInvalidArgument, "InvalidRequestContent",
                   absl::StrCat("The request content was invalid and could not be deserialized: '",
                                Av(detail), "'."));
}

absl::Status BadRequest(std::string_view detail) {
  return ArmStatus(absl::StatusCode::kInvalidArgument, "BadRequest",
                   absl::StrCat("[BadRequest] ", Av(detail)));
}

absl::Status ConnectionNotFound(const ServerRequest& request) {
  return ArmStatus(absl::StatusCode::kNotFound, "ResourceNotFound",
                   absl::StrCat("The resource with identifier '", request.path, "' is not found."));
}

void AddRetryAfter(const EmulatorOptions& options, ServerResponse& response) {
  if (options.lro_retry_after_seconds.has_value()) {
    response.headers.emplace_back("Retry-After", std::to_string(*options.lro_retry_after_seconds));
  }
}

}  // namespace

absl::Status Emulator::ResolveParents(const Route& route, bool write, std::string_view action,
                                      const ClusterInfo** cluster, std::string* database) const {
  if (topology_.FindResourceGroup(route.subscription, route.resource_group) == nullptr) {
    return ArmStatus(
        absl::StatusCode::kNotFound, "ResourceGroupNotFound",
        absl::StrCat("Resource group '", route.resource_group, "' could not be found."));
  }
  *cluster = topology_.FindCluster(route.subscription, route.resource_group, route.cluster);
  if (*cluster == nullptr) {
    if (write) {
      return ArmStatus(
          absl::StatusCode::kNotFound, "ParentResourceNotFound",
          absl::StrCat("Failed to perform '", Av(action),
                       "' on resource(s) of type 'clusters/databases/dataConnections', because "
                       "the parent resource '/subscriptions/",
                       route.subscription, "/resourceGroups/", route.resource_group,
                       "/providers/Microsoft.Kusto/clusters/", route.cluster,
                       "' could not be found."));
    }
    return ArmStatus(absl::StatusCode::kNotFound, "ResourceNotFound",
                     absl::StrCat("The Resource 'Microsoft.Kusto/clusters/", route.cluster,
                                  "' under resource group '", route.resource_group,
                                  "' was not found. For more details please go to "
                                  "https://aka.ms/ARMResourceNotFoundFix"));
  }
  const std::string* db = Topology::FindDatabase(**cluster, route.database);
  if (db == nullptr) {
    return ArmStatus(absl::StatusCode::kNotFound, "NotFound",
                     absl::StrCat("[NotFound] The database '", route.database,
                                  "' was not found in cluster '", (*cluster)->name, "'."));
  }
  *database = *db;
  return absl::OkStatus();
}

absl::Status Emulator::CheckWritable(const StoredConnection* existing,
                                     const std::string& cluster_key,
                                     const std::string& resource_id) const {
  if (existing != nullptr && !existing->operation_id.empty()) {
    return ArmStatus(absl::StatusCode::kAborted, "RequestConflict",
                     absl::StrCat("Cannot modify resource with id '", resource_id,
                                  "' because the resource entity provisioning state is not "
                                  "terminal. Please wait for the provisioning state to become "
                                  "terminal and then retry the request."));
  }
  if (options_.serialize_cluster_writes && operations_.ClusterBusy(cluster_key)) {
    return ArmStatus(absl::StatusCode::kAborted, "RequestConflict",
                     absl::StrCat("Cannot modify resource with id '", resource_id,
                                  "' because another operation is in progress on its cluster. "
                                  "Please wait for the operation to complete and then retry "
                                  "the request."));
  }
  return absl::OkStatus();
}

std::string Emulator::OperationUrl(const ServerRequest& request, std::string_view subscription,
                                   std::string_view location_segment, std::string_view op_id,
                                   std::string_view api_version, bool location_form) const {
  return absl::StrCat(BaseUrl(request), "/subscriptions/", Av(subscription),
                      "/providers/Microsoft.Kusto/locations/", Av(location_segment),
                      "/operationResults/", Av(op_id), "?api-version=", Av(api_version),
                      location_form ? "&operationResultResponseType=Location" : "");
}

ServerResponse Emulator::GetConnection(const ServerRequest& request, const Route& route,
                                       Ctx& /*ctx*/) {
  const ClusterInfo* cluster = nullptr;
  std::string database;
  absl::Status st = ResolveParents(route, false, "read", &cluster, &database);
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  StoredConnection* connection = store_.Find(ConnectionKey(
      route.subscription, route.resource_group, route.cluster, route.database, route.name));
  if (connection == nullptr) {
    return ErrorResponse(ConnectionNotFound(request));
  }
  return JsonResponse(
      200, ConnectionBody(*connection, cluster->location, connection->provisioning_state));
}

ServerResponse Emulator::ListConnections(const ServerRequest& request, const Route& route,
                                         Ctx& ctx) {
  const ClusterInfo* cluster = nullptr;
  std::string database;
  absl::Status st = ResolveParents(route, false, "read", &cluster, &database);
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  std::vector<const StoredConnection*> all = store_.InDatabase(
      DatabaseKey(route.subscription, route.resource_group, route.cluster, route.database));
  size_t skip = 0;
  std::optional<std::string> token = GetQuery(request, "$skiptoken");
  if (token.has_value() && !absl::SimpleAtoi(*token, &skip)) {
    return ErrorResponse(ArmStatus(absl::StatusCode::kInvalidArgument, "InvalidSkipToken",
                                   absl::StrCat("The skip token '", *token, "' is invalid.")));
  }
  size_t end = all.size();
  if (options_.list_page_size > 0) {
    end = std::min(all.size(), skip + static_cast<size_t>(options_.list_page_size));
  }
  OrderedJson body;
  body["value"] = OrderedJson::array();
  for (size_t i = skip; i < end; ++i) {
    body["value"].push_back(ConnectionBody(*all[i], cluster->location, all[i]->provisioning_state));
  }
  if (end < all.size()) {
    body["nextLink"] = absl::StrCat(BaseUrl(request), request.path,
                                    "?api-version=", ctx.api_version, "&$skiptoken=", end);
  }
  return JsonResponse(200, body);
}

ServerResponse Emulator::PutConnection(const ServerRequest& request, const Route& route, Ctx& ctx,
                                       bool patch) {
  const ClusterInfo* cluster = nullptr;
  std::string database;
  absl::Status st = ResolveParents(route, true, "write", &cluster, &database);
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  if (!body->is_object()) {
    return ErrorResponse(ContentError(absl::StrCat("Error converting value ", body->dump(),
                                                   " to type 'DataConnection'. Path ''")));
  }
  if (!body->contains("kind") || (*body)["kind"].is_null()) {
    return ErrorResponse(ContentError("Required property 'kind' not found in JSON. Path ''"));
  }
  if (!(*body)["kind"].is_string()) {
    return ErrorResponse(
        ContentError(absl::StrCat("Error converting value ", (*body)["kind"].dump(),
                                  " to type 'System.String'. Path 'kind'")));
  }
  std::string kind = (*body)["kind"].get<std::string>();
  const KindRules* rules = FindKind(kind);
  if (rules == nullptr) {
    return ErrorResponse(BadRequest(
        absl::StrCat("The data connection kind '", kind,
                     "' is not supported. Supported kinds are: EventHub, "
                     "EventGrid, IotHub, CosmosDb, EventHubWithManagedIdentity (2025-02-14), "
                     "EventGridWithManagedIdentity (2025-02-14).")));
  }
  if (rules->api_2025_only && ctx.api_version != kApi2025) {
    return ErrorResponse(BadRequest(absl::StrCat("The data connection kind '", rules->name,
                                                 "' requires api-version '", Av(kApi2025),
                                                 "'; the request used '", ctx.api_version, "'.")));
  }
  std::string location_sent;
  if (body->contains("location") && !(*body)["location"].is_null()) {
    if (!(*body)["location"].is_string()) {
      return ErrorResponse(
          ContentError("Error converting value to type 'System.String'. Path "
                       "'location'"));
    }
    location_sent = (*body)["location"].get<std::string>();
  }
  std::string key = ConnectionKey(route.subscription, route.resource_group, route.cluster,
                                  route.database, route.name);
  std::string cluster_key = ClusterKey(route.subscription, route.resource_group, route.cluster);
  StoredConnection* existing = store_.Find(key);
  if (patch && existing == nullptr) {
    return ErrorResponse(ConnectionNotFound(request));
  }
  StoredConnection fresh;
  fresh.subscription = cluster->subscription;
  fresh.resource_group = cluster->resource_group;
  fresh.cluster = cluster->name;
  fresh.database = database;
  fresh.name = route.name;
  st = CheckWritable(existing, cluster_key,
                     existing != nullptr ? existing->ResponseId() : fresh.ResponseId());
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  if (existing != nullptr && existing->kind != rules->name) {
    return ErrorResponse(
        BadRequest(absl::StrCat("The kind of data connection '", existing->name,
                                "' cannot be changed from '", existing->kind, "' to '", rules->name,
                                "'. Delete the data connection and create it "
                                "again.")));
  }
  nlohmann::json sent = body->value("properties", nlohmann::json::object());
  if (patch && sent.is_object()) {
    nlohmann::json merged = existing->requested;
    merged.merge_patch(sent);
    sent = std::move(merged);
  }
  absl::StatusOr<RenderedProperties> rendered =
      RenderProperties(*rules, sent, existing != nullptr ? &existing->properties : nullptr, ctx.now,
                       ctx.api_version);
  if (!rendered.ok()) {
    return ErrorResponse(rendered.status());
  }

  Operation op;
  op.id = rng_.NewGuid();
  op.kind = existing == nullptr ? OpKind::kCreate : OpKind::kUpdate;
  op.connection_key = key;
  op.cluster_key = cluster_key;
  op.subscription = cluster->subscription;
  op.location = cluster->location;
  op.api_version = ctx.api_version;
  op.start = ctx.now;
  op.due = ctx.now + options_.lro_duration;
  op.will_fail = faults_.TakeLroFailure(request.method, request.path, rng_);

  StoredConnection* target = existing;
  if (target == nullptr) {
    fresh.kind = rules->name;
    target = &store_.Put(key, std::move(fresh));
  }
  target->requested = std::move(rendered->requested);
  target->properties = std::move(rendered->stored);
  target->provisioning_state = existing == nullptr ? "Creating" : "Updating";
  target->operation_id = op.id;
  op.resource_id = target->ResponseId();
  op.change = ChangeFor(request, request.path, cluster->subscription, ctx.correlation_id,
                        existing != nullptr, "");
  operations_.Start(op);

  ServerResponse response;
  OrderedJson out;
  std::string async_url;
  if (existing == nullptr) {
    // §6: 201, "Creating", the location echoed as sent, an operation URL on the sent location.
    out = ConnectionBody(*target, location_sent.empty() ? cluster->location : location_sent,
                         "Creating");
    async_url =
        OperationUrl(request, op.subscription,
                     NormalizedLocation(location_sent.empty() ? cluster->location : location_sent),
                     op.id, ctx.api_version, false);
    response.status = 201;
  } else {
    // §6: 200, "Accepted", the display name, and an operation URL with literal spaces.
    out = ConnectionBody(*target, cluster->location, "Accepted");
    async_url =
        OperationUrl(request, op.subscription, cluster->location, op.id, ctx.api_version, false);
    response.status = 200;
  }
  // A retrievalStartDate sent is echoed verbatim here, read back canonical later (§6).
  const nlohmann::json& sent_props = body->value("properties", nlohmann::json::object());
  if (sent_props.is_object() && sent_props.contains("retrievalStartDate") &&
      sent_props["retrievalStartDate"].is_string() &&
      out["properties"].contains("retrievalStartDate")) {
    out["properties"]["retrievalStartDate"] = sent_props["retrievalStartDate"];
  }
  response.body = out.dump();
  response.headers.emplace_back("Azure-AsyncOperation", async_url);
  AddRetryAfter(options_, response);
  return response;
}

ServerResponse Emulator::DeleteConnection(const ServerRequest& request, const Route& route,
                                          Ctx& ctx) {
  const ClusterInfo* cluster = nullptr;
  std::string database;
  absl::Status st = ResolveParents(route, true, "delete", &cluster, &database);
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  std::string key = ConnectionKey(route.subscription, route.resource_group, route.cluster,
                                  route.database, route.name);
  StoredConnection* existing = store_.Find(key);
  if (existing == nullptr) {
    return EmptyResponse(204);
  }
  std::string cluster_key = ClusterKey(route.subscription, route.resource_group, route.cluster);
  st = CheckWritable(existing, cluster_key, existing->ResponseId());
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  Operation op;
  op.id = rng_.NewGuid();
  op.kind = OpKind::kDelete;
  op.connection_key = key;
  op.cluster_key = cluster_key;
  op.subscription = cluster->subscription;
  op.location = cluster->location;
  op.api_version = ctx.api_version;
  op.resource_id = existing->ResponseId();
  op.start = ctx.now;
  op.due = ctx.now + options_.lro_duration;
  op.will_fail = faults_.TakeLroFailure(request.method, request.path, rng_);
  existing->provisioning_state = "Deleting";
  existing->operation_id = op.id;
  op.change = ChangeFor(request, request.path, cluster->subscription, ctx.correlation_id, true, "");
  operations_.Start(op);

  // §6: 202, empty body, no Content-Type; Azure-AsyncOperation with literal spaces, Location
  // encoded and with operationResultResponseType=Location.
  ServerResponse response = EmptyResponse(202);
  response.headers.emplace_back(
      "Azure-AsyncOperation",
      OperationUrl(request, op.subscription, cluster->location, op.id, ctx.api_version, false));
  response.headers.emplace_back(
      "Location", OperationUrl(request, op.subscription, PercentEncodeSegment(cluster->location),
                               op.id, ctx.api_version, true));
  AddRetryAfter(options_, response);
  return response;
}

}  // namespace kustodian::emulator
