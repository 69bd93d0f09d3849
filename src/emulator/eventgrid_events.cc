#include "src/emulator/eventgrid_events.h"

#include "absl/strings/str_cat.h"
#include "src/emulator/eventgrid_config.h"

namespace kustodian::emulator {

std::string_view OperationNameFor(ChangeKind kind) {
  return kind == ChangeKind::kDelete ? "Microsoft.Kusto/Clusters/Databases/DataConnections/delete"
                                     : "Microsoft.Kusto/Clusters/Databases/DataConnections/write";
}

ResourceEvent MakeResourceEvent(const ChangeContext& change, ChangeKind kind, bool succeeded,
                                std::string event_id, absl::Time time) {
  ResourceEvent event;
  event.id = std::move(event_id);
  event.topic = absl::StrCat("/subscriptions/", change.subscription_id);
  event.subject = change.resource_uri;
  if (kind == ChangeKind::kDelete) {
    event.event_type = std::string(succeeded ? kResourceDeleteSuccess : kResourceDeleteFailure);
  } else {
    event.event_type = std::string(succeeded ? kResourceWriteSuccess : kResourceWriteFailure);
  }
  event.time = time;
  std::string operation(OperationNameFor(kind));
  nlohmann::ordered_json evidence;
  evidence["role"] = "Contributor";
  evidence["roleAssignmentScope"] = absl::StrCat("/subscriptions/", change.subscription_id);
  if (!change.principal_id.empty()) {
    evidence["principalId"] = change.principal_id;
  }
  evidence["principalType"] = "ServicePrincipal";
  nlohmann::ordered_json& data = event.data;
  data["authorization"] = {
      {"scope", change.resource_uri}, {"action", operation}, {"evidence", evidence}};
  data["claims"] = change.claims;
  data["correlationId"] = change.correlation_id;
  if (change.has_http_request) {
    data["httpRequest"] = {{"clientRequestId", change.client_request_id},
                           {"clientIpAddress", change.client_ip},
                           {"method", change.method},
                           {"url", change.url}};
  }
  data["resourceProvider"] = "Microsoft.Kusto";
  data["resourceUri"] = change.resource_uri;
  data["operationName"] = operation;
  data["status"] = succeeded ? "Succeeded" : "Failed";
  data["subscriptionId"] = change.subscription_id;
  data["tenantId"] = change.tenant_id;
  return event;
}

ResourceEvent MakeValidationEvent(std::string_view topic, std::string event_id, absl::Time time,
                                  std::string_view validation_code,
                                  std::string_view validation_url) {
  ResourceEvent event;
  event.id = std::move(event_id);
  event.topic = std::string(topic);
  event.subject = "";
  event.event_type = "Microsoft.EventGrid.SubscriptionValidationEvent";
  event.time = time;
  event.data_version = "1";
  event.data = {{"validationCode", std::string(validation_code)},
                {"validationUrl", std::string(validation_url)}};
  return event;
}

nlohmann::ordered_json EventGridJson(const ResourceEvent& event) {
  nlohmann::ordered_json out;
  out["id"] = event.id;
  out["topic"] = event.topic;
  out["subject"] = event.subject;
  out["eventType"] = event.event_type;
  out["eventTime"] = EventTime(event.time);
  out["data"] = event.data;
  out["dataVersion"] = event.data_version;
  out["metadataVersion"] = "1";
  return out;
}

nlohmann::ordered_json CloudEventJson(const ResourceEvent& event) {
  nlohmann::ordered_json out;
  out["specversion"] = "1.0";
  out["type"] = event.event_type;
  out["source"] = event.topic;
  out["subject"] = event.subject;
  out["id"] = event.id;
  out["time"] = EventTime(event.time);
  out["data"] = event.data;
  return out;
}

std::string EventTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E7SZ", t, absl::UTCTimeZone());
}

}  // namespace kustodian::emulator
