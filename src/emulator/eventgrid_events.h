// The events the emulator publishes (arm-kusto-api.md §5.6): Microsoft.Resources.ResourceWrite*/
// ResourceDelete* for data connections, with the documented `data` fields, rendered in the Event
// Grid schema or as CloudEvents 1.0; and the SubscriptionValidationEvent of the handshake (§5.2).
#pragma once

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kustodian::emulator {

// Everything a change needs to describe itself, captured when the request arrives (an
// asynchronous PUT/PATCH/DELETE keeps it in its Operation until it completes).
struct ChangeContext {
  std::string resource_uri;  // the data connection id as the request named it
  std::string subscription_id;
  std::string tenant_id;
  std::string correlation_id;  // x-ms-correlation-request-id of the request, or a new GUID
  std::string principal_id;    // the caller's object id ("" when unknown)
  nlohmann::ordered_json claims = nlohmann::ordered_json::object();
  bool has_http_request = false;  // §5.6: only for an update of an existing resource or a delete
  std::string method;             // PUT / PATCH / DELETE
  std::string url;                // absolute request URL, query included
  std::string client_request_id;
  std::string client_ip;
};

enum class ChangeKind { kWrite, kDelete };

// One published event, independent of the delivery schema.
struct ResourceEvent {
  std::string id;
  std::string topic;  // "/subscriptions/{sub}"
  std::string subject;
  std::string event_type;  // e.g. Microsoft.Resources.ResourceWriteSuccess
  absl::Time time;
  std::string data_version = "2";
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
};

// The RBAC operation name of §5.7, e.g. Microsoft.Kusto/Clusters/Databases/DataConnections/write.
std::string_view OperationNameFor(ChangeKind kind);

// The resource event for a change of a data connection: ResourceWriteSuccess/ResourceDeleteSuccess
// (or ...Failure with status "Failed" when `succeeded` is false), with data {authorization,
// claims, correlationId, [httpRequest], resourceProvider, resourceUri, operationName, status,
// subscriptionId, tenantId}.
ResourceEvent MakeResourceEvent(const ChangeContext& change, ChangeKind kind, bool succeeded,
                                std::string event_id, absl::Time time);

// Microsoft.EventGrid.SubscriptionValidationEvent with data {validationCode, validationUrl}.
ResourceEvent MakeValidationEvent(std::string_view topic, std::string event_id, absl::Time time,
                                  std::string_view validation_code,
                                  std::string_view validation_url);

// {id, topic, subject, eventType, eventTime, data, dataVersion, metadataVersion "1"}.
nlohmann::ordered_json EventGridJson(const ResourceEvent& event);
// {specversion "1.0", type, source, subject, id, time, data}.
nlohmann::ordered_json CloudEventJson(const ResourceEvent& event);

// Event Grid's timestamp: RFC 3339 UTC with 7 fractional digits, e.g.
// "2025-06-01T10:00:05.1234567Z".
std::string EventTime(absl::Time t);

}  // namespace kustodian::emulator
