#include "controller/eventgrid_receiver.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/options.h"
#include "nlohmann/json.hpp"
#include "src/core/arm_id.h"
#include "src/core/strings.h"
#include "src/metrics/kustodian_metrics.h"

namespace kustodian {
namespace {

constexpr char kPath[] = "/eventgrid";
constexpr char kKeyPrefix[] = "k:";    // coalesced data connection key
constexpr char kScopePrefix[] = "s:";  // coalesced database/cluster scope
constexpr absl::Duration kSeenTtl = absl::Minutes(10);
constexpr size_t kSeenMax = 100000;
constexpr char kOther[] = "other";

ServerResponse JsonError(int status, std::string_view code, std::string_view message) {
  ServerResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
  return r;
}

// The lower-case key of a Kusto cluster id (a prefix of its database keys), or "".
std::string ClusterScope(std::string_view resource) {
  absl::StatusOr<ResourceId> id = ResourceId::Parse(resource);
  if (!id.ok() || id->resource_group.empty() ||
      !absl::EqualsIgnoreCase(id->provider_namespace, "Microsoft.Kusto") ||
      id->types_and_names.size() != 1 ||
      !absl::EqualsIgnoreCase(id->types_and_names[0].first, "clusters")) {
    return "";
  }
  return AsciiLower(absl::StrCat("/subscriptions/", PercentEncodeSegment(id->subscription_id),
                                 "/resourceGroups/", PercentEncodeSegment(id->resource_group),
                                 "/providers/Microsoft.Kusto/clusters/",
                                 PercentEncodeSegment(id->types_and_names[0].second)));
}

bool IsResourceSuccess(std::string_view type) {
  return absl::EqualsIgnoreCase(Av(type), kEventTypeWriteSuccess) ||
         absl::EqualsIgnoreCase(Av(type), kEventTypeDeleteSuccess);
}

}  // namespace

std::string EventTypeLabel(std::string_view type) {
  static constexpr std::string_view kKnown[] = {"Microsoft.Resources.ResourceWriteSuccess",
                                                "Microsoft.Resources.ResourceWriteFailure",
                                                "Microsoft.Resources.ResourceWriteCancel",
                                                "Microsoft.Resources.ResourceDeleteSuccess",
                                                "Microsoft.Resources.ResourceDeleteFailure",
                                                "Microsoft.Resources.ResourceDeleteCancel",
                                                "Microsoft.Resources.ResourceActionSuccess",
                                                "Microsoft.Resources.ResourceActionFailure",
                                                "Microsoft.Resources.ResourceActionCancel",
                                                kEventTypeValidation,
                                                kEventTypeDeletion};
  for (std::string_view known : kKnown) {
    if (absl::EqualsIgnoreCase(Av(type), Av(known))) {
      return std::string(known);
    }
  }
  return kOther;
}

EventGridReceiver::EventGridReceiver(EventGridOptions options, EventGridReceiverDeps deps)
    : options_(std::move(options)),
      deps_(std::move(deps)),
      seen_events_(deps_.clock, kSeenTtl, kSeenMax),
      coalescer_(deps_.clock,
                 CoalescerOptions{options_.coalesce, options_.coalesce_max, absl::Milliseconds(10)},
                 [this](const std::string& k) { Fire(k); }) {}

EventGridReceiver::~EventGridReceiver() { Stop(); }

absl::Status EventGridReceiver::Start() {
  absl::StatusOr<HostPort> hp = ParseBindAddress("--eventgrid-bind-address", options_.bind_address);
  if (!hp.ok()) {
    return hp.status();
  }
  coalescer_.Start();
  http_ = std::make_unique<HttpServer>();
  http_->Route("*", "/", [this](const ServerRequest& r) { return Handle(r); });
  absl::StatusOr<int> port = http_->Start(hp->host, hp->port);
  if (!port.ok()) {
    http_.reset();
    coalescer_.Stop();
    return absl::UnavailableError(absl::StrCat(
        "--eventgrid-bind-address: cannot listen on ", options_.bind_address, ": ",
        port.status().message(), "; choose a free port (or port 0 to let the system pick one)"));
  }
  port_ = *port;
  deps_.logger.Info("serving the Event Grid webhook",
                    {{"endpoint", absl::StrCat("http://", hp->host.empty() ? "0.0.0.0" : hp->host,
                                               ":", port_, kPath)},
                     {"max_body", std::to_string(options_.max_body)},
                     {"coalesce", absl::FormatDuration(options_.coalesce)}});
  return absl::OkStatus();
}

void EventGridReceiver::Stop() {
  if (http_) {
    http_->Stop();
    http_.reset();
  }
  coalescer_.Stop();
}

void EventGridReceiver::Count(const std::string& type_label, std::string_view outcome) {
  if (deps_.metrics != nullptr) {
    deps_.metrics->eventgrid_events.WithLabels({type_label, std::string(outcome)}).Inc();
  }
}

bool EventGridReceiver::Authorized(const ServerRequest& request) const {
  std::optional<std::string> given = request.Query("code");
  if (!given) {
    given = request.Header(kEventGridSecretHeader);
  }
  return given.has_value() && SecretsEqual(options_.secret, *given);
}

ServerResponse EventGridReceiver::Handle(const ServerRequest& request) {
  if (request.path != kPath && request.path != absl::StrCat(kPath, "/")) {
    Count(kOther, kEgInvalid);
    return JsonError(404, "NotFound", "the Event Grid webhook is served at /eventgrid only");
  }
  if (!Authorized(request)) {
    Count(kOther, kEgUnauthorized);
    deps_.logger.Debug("Event Grid request without the right secret",
                       {{"method", request.method}, {"remote", request.remote_addr}});
    ServerResponse r = JsonError(
        401, "Unauthorized",
        absl::StrCat("missing or wrong secret: put it in the endpoint URL as ?code=<secret> or "
                     "in the ",
                     kEventGridSecretHeader, " header"));
    return r;
  }
  if (request.method == "OPTIONS") {
    return HandleOptions(request);
  }
  if (request.method == "POST") {
    return HandlePost(request);
  }
  Count(kOther, kEgInvalid);
  ServerResponse r = JsonError(405, "MethodNotAllowed", "use POST (or OPTIONS for the preflight)");
  r.headers.emplace_back("Allow", "POST, OPTIONS");
  return r;
}

ServerResponse EventGridReceiver::HandleOptions(const ServerRequest& request) {
  std::optional<std::string> origin = request.Header("WebHook-Request-Origin");
  if (!origin || origin->empty()) {
    Count(kOther, kEgMalformed);
    ServerResponse r =
        JsonError(400, "MissingWebHookRequestOrigin",
                  "an OPTIONS request must be a CloudEvents abuse-protection preflight with a "
                  "WebHook-Request-Origin header");
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    return r;
  }
  Count(kOther, kEgValidation);
  deps_.logger.Info("answered the CloudEvents webhook preflight", {{"origin", *origin}});
  ServerResponse r;
  r.status = 200;
  r.content_type = "text/plain";
  r.headers.emplace_back("WebHook-Allowed-Origin", *origin);
  r.headers.emplace_back("WebHook-Allowed-Rate", "*");
  r.headers.emplace_back("Allow", "POST, OPTIONS");
  return r;
}

ServerResponse EventGridReceiver::HandlePost(const ServerRequest& request) {
  if (request.body.size() > options_.max_body) {
    Count(kOther, kEgTooLarge);
    return JsonError(413, "PayloadTooLarge",
                     absl::StrCat("body is ", request.body.size(), " bytes; the limit is ",
                                  options_.max_body, " (--eventgrid-max-body)"));
  }
  EventGridPayloadLimits limits;
  limits.max_body = options_.max_body;
  absl::StatusOr<EventGridPayload> payload = ParseEventGridPayload(request.body, limits);
  if (!payload.ok()) {
    Count(kOther, kEgMalformed);
    deps_.logger.Warn(
        "rejected an Event Grid delivery",
        {{"error", std::string(payload.status().message())}, {"remote", request.remote_addr}});
    return JsonError(400, "InvalidEventPayload", Sv(payload.status().message()));
  }
  const std::string aeg_type = request.Header("aeg-event-type").value_or("");
  std::optional<std::string> validation_code;
  for (const EventGridEvent& event : payload->events) {
    const std::string label = EventTypeLabel(event.type);
    if (absl::EqualsIgnoreCase(event.type, kEventTypeValidation)) {
      Count(label, kEgValidation);
      if (!validation_code) {
        validation_code = event.validation_code;
        deps_.logger.Info("answered the Event Grid subscription validation",
                          {{"subscription", request.Header("aeg-subscription-name").value_or("")},
                           {"topic", event.source}});
      }
      continue;
    }
    if (absl::EqualsIgnoreCase(aeg_type, "SubscriptionDeletion")) {
      Count(label, kEgIgnored);
      deps_.logger.Warn("Event Grid says the event subscription was deleted",
                        {{"subscription", request.Header("aeg-subscription-name").value_or("")}});
      continue;
    }
    std::string outcome = Dispatch(event, label);
    if (!outcome.empty()) {
      Count(label, outcome);
    }
  }
  ServerResponse r;
  r.status = 200;
  if (validation_code) {
    r.body = nlohmann::json{{"validationResponse", *validation_code}}.dump();
  } else {
    r.body = nlohmann::json{{"accepted", payload->events.size()}}.dump();
  }
  return r;
}

std::string EventGridReceiver::Dispatch(const EventGridEvent& event,
                                        const std::string& type_label) {
  if (!IsResourceSuccess(event.type)) {
    return kEgIgnored;  // failures, cancels, actions and foreign event types
  }
  const std::string& resource = event.Resource();
  if (absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse(resource); id.ok()) {
    const std::string key = id->Key();
    if (!seen_events_.Insert(absl::StrCat(event.id, "|", key))) {
      return kEgDuplicate;
    }
    OwnWrites::Verdict verdict =
        deps_.own_writes.Classify(key, event.correlation_id, [this, key, type_label](bool own) {
          if (own) {
            Count(type_label, kEgOwnWrite);
          } else if (deps_.is_managed && deps_.is_managed(key)) {
            TriggerKey(key);
            Count(type_label, kEgEnqueued);
          } else {
            Count(type_label, kEgIgnored);
          }
        });
    switch (verdict) {
      case OwnWrites::Verdict::kOwn:
        deps_.logger.Debug("Event Grid: own write", {{"key", key}, {"event_id", event.id}});
        return kEgOwnWrite;
      case OwnWrites::Verdict::kParked:
        return "";
      case OwnWrites::Verdict::kForeign:
        break;
    }
    if (!deps_.is_managed || !deps_.is_managed(key)) {
      return kEgIgnored;
    }
    deps_.logger.Debug("Event Grid: drift event", {{"key", key},
                                                   {"event_id", event.id},
                                                   {"type", event.type},
                                                   {"correlation_id", event.correlation_id}});
    TriggerKey(key);
    return kEgEnqueued;
  }
  std::string scope;
  if (absl::StatusOr<DatabaseId> db = DatabaseId::Parse(resource); db.ok()) {
    scope = db->Key();
  } else {
    scope = ClusterScope(resource);
  }
  if (scope.empty() || !deps_.manages_scope || !deps_.manages_scope(scope)) {
    return kEgIgnored;
  }
  if (!seen_events_.Insert(absl::StrCat(event.id, "|", scope))) {
    return kEgDuplicate;
  }
  coalescer_.Add(absl::StrCat(kScopePrefix, scope));
  return kEgRelisted;
}

void EventGridReceiver::TriggerKey(const std::string& key) {
  coalescer_.Add(absl::StrCat(kKeyPrefix, key));
}

void EventGridReceiver::Fire(const std::string& coalesced) {
  if (absl::StartsWith(coalesced, kKeyPrefix)) {
    const std::string key = coalesced.substr(sizeof(kKeyPrefix) - 1);
    deps_.logger.Info("drift event: confirming and reconciling", {{"key", key}});
    if (deps_.reconcile) {
      deps_.reconcile(key);
    }
  } else if (absl::StartsWith(coalesced, kScopePrefix)) {
    const std::string scope = coalesced.substr(sizeof(kScopePrefix) - 1);
    deps_.logger.Info("Event Grid: database or cluster changed; listing again", {{"scope", scope}});
    if (deps_.relist) {
      deps_.relist(scope);
    }
  }
}

}  // namespace kustodian
