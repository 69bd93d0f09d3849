// Emulator: POST dataConnectionValidation, POST checkNameAvailability and the operation status
// monitor (both its Azure-AsyncOperation and its Location forms).
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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

// The event hub an event-driven connection reads from ("" for other kinds).
std::string EventHubOf(const nlohmann::json& props) {
  for (const char* key : {"eventHubResourceId", "eventHubResourceIdForManagedIdentity"}) {
    if (props.is_object() && props.contains(key) && props[key].is_string()) {
      return absl::AsciiStrToLower(props[key].get<std::string>());
    }
  }
  return "";
}

std::string ConsumerGroupOf(const nlohmann::json& props) {
  return props.is_object() && props.contains("consumerGroup") && props["consumerGroup"].is_string()
             ? absl::AsciiStrToLower(props["consumerGroup"].get<std::string>())
             : "";
}

bool IsValidConnectionName(std::string_view name) {
  if (name.empty() || name.size() > 40) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

ServerResponse Emulator::ValidateConnection(const ServerRequest& request, const Route& route,
                                            Ctx& ctx) {
  const ClusterInfo* cluster = nullptr;
  std::string database;
  absl::Status st = ResolveParents(route, true, "action", &cluster, &database);
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  if (!body->is_object() || !body->contains("properties") || !(*body)["properties"].is_object()) {
    return ErrorResponse(ContentError("Required property 'properties' not found in JSON. Path ''"));
  }
  std::string name = body->value("dataConnectionName", std::string());
  const nlohmann::json& connection = (*body)["properties"];
  nlohmann::json props = connection.value("properties", nlohmann::json::object());
  std::vector<std::string> errors;
  std::string kind = connection.contains("kind") && connection["kind"].is_string()
                         ? connection["kind"].get<std::string>()
                         : "";
  const KindRules* rules = kind.empty() ? nullptr : FindKind(kind);
  if (kind.empty()) {
    errors.emplace_back("The data connection kind is required.");
  } else if (rules == nullptr) {
    errors.push_back(absl::StrCat("The data connection kind '", kind, "' is not supported."));
  } else if (rules->api_2025_only && ctx.api_version != kApi2025) {
    errors.push_back(absl::StrCat("The data connection kind '", rules->name,
                                  "' requires api-version '", Av(kApi2025), "'."));
  } else {
    for (std::string& message : PropertyProblems(*rules, props, ctx.api_version)) {
      absl::string_view text = message;
      absl::ConsumePrefix(&text, "[BadRequest] ");
      errors.emplace_back(text);
    }
    std::string hub = EventHubOf(props);
    std::string group = ConsumerGroupOf(props);
    if (!hub.empty() && !group.empty()) {
      for (const StoredConnection* other : store_.InDatabase(DatabaseKey(
               route.subscription, route.resource_group, route.cluster, route.database))) {
        if (!absl::EqualsIgnoreCase(other->name, name) && EventHubOf(other->requested) == hub &&
            ConsumerGroupOf(other->requested) == group) {
          errors.push_back(
              absl::StrCat("Validation Errors found: event hub resource id and "
                           "consumer group tuple provided are already used by data "
                           "connection '",
                           other->name, "'."));
        }
      }
    }
  }
  OrderedJson out;
  out["value"] = OrderedJson::array();
  for (const std::string& e : errors) {
    out["value"].push_back(OrderedJson{{"errorMessage", e}});
  }
  return JsonResponse(200, out);
}

ServerResponse Emulator::CheckName(const ServerRequest& request, const Route& route, Ctx& /*ctx*/) {
  const ClusterInfo* cluster = nullptr;
  std::string database;
  absl::Status st = ResolveParents(route, true, "action", &cluster, &database);
  if (!st.ok()) {
    return ErrorResponse(st);
  }
  absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
  if (!body.ok()) {
    return ErrorResponse(body.status());
  }
  for (const char* field : {"name", "type"}) {
    if (!body->is_object() || !body->contains(field) || !(*body)[field].is_string()) {
      return ErrorResponse(
          ContentError(absl::StrCat("Required property '", field, "' not found in JSON. Path ''")));
    }
  }
  std::string name = (*body)["name"].get<std::string>();
  std::string type = (*body)["type"].get<std::string>();
  if (!absl::EqualsIgnoreCase(type, "Microsoft.Kusto/clusters/databases/dataConnections")) {
    return ErrorResponse(ContentError(
        absl::StrCat("Error converting value \"", type,
                     "\" to type 'DataConnectionType'. Allowed: "
                     "'Microsoft.Kusto/clusters/databases/dataConnections'. Path 'type'")));
  }
  OrderedJson out;
  out["name"] = name;
  if (store_.Find(ConnectionKey(route.subscription, route.resource_group, route.cluster,
                                route.database, name)) != nullptr) {
    out["nameAvailable"] = false;
    out["message"] =
        absl::StrCat("Name '", name, "' is already taken. Please specify a different name.");
    out["reason"] = "AlreadyExists";
  } else if (!IsValidConnectionName(name)) {
    out["nameAvailable"] = false;
    out["message"] =
        absl::StrCat("Name '", name, "' is invalid: use 1-40 letters, digits, '-', '_' or '.'.");
    out["reason"] = "Invalid";
  } else {
    out["nameAvailable"] = true;
  }
  return JsonResponse(200, out);
}

ServerResponse Emulator::GetOperation(const ServerRequest& request, const Route& route, Ctx& ctx) {
  const Operation* op = operations_.Find(route.operation_id);
  if (op == nullptr || !absl::EqualsIgnoreCase(op->subscription, route.subscription) ||
      NormalizedLocation(route.location) != NormalizedLocation(op->location)) {
    return ErrorResponse(
        ArmStatus(absl::StatusCode::kNotFound, "NotFound",
                  absl::StrCat("The operation '", route.operation_id,
                               "' was not found in location '", route.location, "'.")));
  }
  std::optional<std::string> response_type = GetQuery(request, "operationResultResponseType");
  if (!response_type.has_value() || !absl::EqualsIgnoreCase(*response_type, "Location")) {
    // The status monitor always answers 200 (§6).
    return JsonResponse(200, OperationStatusBody(*op, route.location, ctx.now));
  }
  if (op->Running()) {
    ServerResponse response = EmptyResponse(202);
    std::string location = PercentEncodeSegment(op->location);
    response.headers.emplace_back("Location", OperationUrl(request, op->subscription, location,
                                                           op->id, op->api_version, true));
    response.headers.emplace_back(
        "Azure-AsyncOperation",
        OperationUrl(request, op->subscription, location, op->id, op->api_version, false));
    if (options_.lro_retry_after_seconds.has_value()) {
      response.headers.emplace_back("Retry-After",
                                    std::to_string(*options_.lro_retry_after_seconds));
    }
    return response;
  }
  if (op->status == "Failed") {
    return ErrorResponse(
        ArmStatus(absl::StatusCode::kInvalidArgument, op->error_code, op->error_message));
  }
  if (op->kind == OpKind::kDelete) {
    return EmptyResponse(204);
  }
  StoredConnection* connection = store_.Find(op->connection_key);
  if (connection == nullptr) {
    return EmptyResponse(200);
  }
  const ClusterInfo* cluster = topology_.FindCluster(
      connection->subscription, connection->resource_group, connection->cluster);
  return JsonResponse(
      200, ConnectionBody(*connection, cluster != nullptr ? cluster->location : op->location,
                          connection->provisioning_state));
}

}  // namespace kustodian::emulator
