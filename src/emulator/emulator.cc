#include "src/emulator/emulator.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/emulator/emulator_ctx.h"
#include "src/emulator/http_util.h"
#include "src/emulator/kinds.h"

namespace kustodian::emulator {

Emulator::Emulator(EmulatorOptions options, Clock& clock, Logger* logger)
    : options_(std::move(options)),
      clock_(clock),
      logger_(logger),
      authority_("kustodian-emulator-token-key"),
      rng_(options_.seed),
      throttler_(options_.throttle),
      log_(options_.request_log_capacity),
      eventgrid_(options_.eventgrid, options_.seed ^ 0x9e3779b97f4a7c15ULL, logger) {
  for (const FaultRule& rule : options_.faults) {
    faults_.Add(rule);
  }
  // With subscriptions registered, operations complete (and publish their events) on time even
  // when no request arrives.
  eventgrid_.SetTicker([this] {
    std::lock_guard<std::mutex> lock(mu_);
    ApplyCompletedOperations(clock_.Now());
  });
}

absl::Status Emulator::LoadWorld(const World& world) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadWorldLocked(world);
}

int Emulator::AddFault(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_.Add(std::move(rule));
}

ServerResponse Emulator::Handle(const ServerRequest& request) {
  Route route = ParseRoute(request.path);
  if (route.kind == RouteKind::kAdmin) {
    return HandleAdmin(request, route);
  }
  FaultDecision decision;
  {
    std::lock_guard<std::mutex> lock(mu_);
    decision = faults_.Decide(request.method, request.path, rng_);
  }
  if (decision.latency > absl::ZeroDuration()) {
    clock_.SleepFor(decision.latency);  // the only real wait: the caller's (server) thread
  }
  std::lock_guard<std::mutex> lock(mu_);
  Ctx ctx;
  ctx.now = clock_.Now();
  ctx.request_id = rng_.NewGuid();
  ctx.correlation_id =
      GetHeader(request.headers, "x-ms-correlation-request-id").value_or(rng_.NewGuid());
  ctx.api_version = GetQuery(request, "api-version").value_or("");
  std::optional<std::string> response_type = GetQuery(request, "operationResultResponseType");
  ctx.route_template = RouteTemplate(
      route, request.method,
      response_type.has_value() && absl::EqualsIgnoreCase(*response_type, "Location"));
  ApplyCompletedOperations(ctx.now);

  ServerResponse response;
  if (decision.error.has_value()) {
    ctx.fault = std::string(FaultKindName(decision.error->kind));
    response = FaultResponse(*decision.error);
  } else {
    if (decision.latency > absl::ZeroDuration()) {
      ctx.fault = "latency";
    }
    response = HandleLocked(request, route, ctx);
  }
  FinishResponse(request, ctx, response);

  RequestRecord record;
  record.method = request.method;
  record.path = request.path;
  record.api_version = ctx.api_version;
  record.route = ctx.route_template;
  record.status = response.drop_connection ? 0 : response.status;
  record.time = ctx.now;
  record.client_request_id = GetHeader(request.headers, "x-ms-client-request-id").value_or("");
  record.correlation_id = ctx.correlation_id;
  record.fault = ctx.fault;
  record.throttled = ctx.throttle.has_value() && !ctx.throttle->allowed;
  record.principal = ctx.principal;
  log_.Add(record);
  if (options_.log_requests && logger_ != nullptr) {
    LogFields fields = {{"method", request.method},
                        {"path", request.path},
                        {"api-version", ctx.api_version},
                        {"status", std::to_string(record.status)},
                        {"request-id", ctx.request_id}};
    if (!ctx.fault.empty()) {
      fields.emplace_back("fault", ctx.fault);
    }
    logger_->Info("request", fields);
  }
  return response;
}

ServerResponse Emulator::HandleLocked(const ServerRequest& request, const Route& route, Ctx& ctx) {
  switch (route.kind) {
    case RouteKind::kToken:
      if (request.method != "POST") {
        break;
      }
      if (std::string client_id = ParseForm(request.body)["client_id"]; !client_id.empty()) {
        ctx.principal = client_id;
      }
      return HandleTokenRequest(request, route.tenant, principals_, authority_,
                                AuthSettings{options_.token_lifetime}, ctx.now, rng_);
    case RouteKind::kImds:
      if (request.method != "GET") {
        break;
      }
      return HandleImdsRequest(request, principals_, authority_,
                               AuthSettings{options_.token_lifetime}, ctx.now);
    case RouteKind::kUnknown:
    case RouteKind::kAdmin:
      return ErrorResponse(
          ArmStatus(absl::StatusCode::kNotFound, "NotFound",
                    absl::StrCat("No HTTP resource was found that matches the request URI '",
                                 request.path, "'.")));
    default:
      return DispatchArm(request, route, ctx);
  }
  return ErrorResponse(ArmStatus(absl::StatusCode::kUnimplemented, "MethodNotAllowed",
                                 absl::StrCat("The requested resource does not support http "
                                              "method '",
                                              request.method, "'.")));
}

ServerResponse Emulator::DispatchArm(const ServerRequest& request, const Route& route, Ctx& ctx) {
  ctx.arm = true;
  ctx.op_type = request.method == "GET"      ? OpType::kRead
                : request.method == "DELETE" ? OpType::kDelete
                                             : OpType::kWrite;
  // 1. Authentication.
  if (options_.auth) {
    absl::StatusOr<std::string> principal =
        AuthenticateArm(request, authority_, options_.dev_token, ctx.now);
    if (!principal.ok()) {
      ServerResponse response = ErrorResponse(principal.status());
      response.headers.emplace_back(
          "WWW-Authenticate",
          absl::StrCat("Bearer authorization_uri=\"https://login.microsoftonline.com/common\", "
                       "error=\"invalid_token\", error_description=\"",
                       principal.status().message(), "\""));
      return response;
    }
    ctx.principal = *principal;
  }
  // 2. Throttling (every ARM call spends a token of its operation type).
  ctx.throttle = throttler_.Take(route.subscription, ctx.principal, ctx.op_type, ctx.now);
  if (!ctx.throttle->allowed) {
    // Retry-After is whole seconds: round up, and never 0 (which would invite a hot retry).
    int64_t wait = std::max<int64_t>(
        1, absl::ToInt64Seconds(absl::Ceil(ctx.throttle->retry_after, absl::Seconds(1))));
    std::string op_name = ctx.op_type == OpType::kRead    ? "read"
                          : ctx.op_type == OpType::kWrite ? "write"
                                                          : "delete";
    ServerResponse response = ErrorResponse(ArmStatus(
        absl::StatusCode::kResourceExhausted, "SubscriptionRequestsThrottled",
        absl::StrCat("Number of '", op_name, "' requests for subscription '", route.subscription,
                     "' actor '", ctx.throttle->global_limited ? "*" : ctx.principal,
                     "' exceeded. Please try again after '", wait,
                     "' seconds after the "
                     "additional tokens are available. Refer to "
                     "https://aka.ms/arm-throttling for additional information.")));
    response.headers.emplace_back("Retry-After", std::to_string(wait));
    return response;
  }
  // 3. api-version.
  std::optional<std::string> api_version = GetQuery(request, "api-version");
  if (!api_version.has_value() || api_version->empty()) {
    return ErrorResponse(ArmStatus(absl::StatusCode::kInvalidArgument, "MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required "
                                   "for all requests."));
  }
  if (!IsSupportedApiVersion(*api_version)) {
    return ErrorResponse(ArmStatus(absl::StatusCode::kInvalidArgument, "InvalidApiVersionParameter",
                                   absl::StrCat("The api-version '", *api_version,
                                                "' is invalid. The supported versions are '",
                                                Av(kApi2025), ",", Av(kApi2024), "'.")));
  }
  // 4. Subscription.
  if (topology_.FindSubscription(route.subscription) == nullptr) {
    return ErrorResponse(
        ArmStatus(absl::StatusCode::kNotFound, "SubscriptionNotFound",
                  absl::StrCat("The subscription '", route.subscription, "' could not be found.")));
  }
  const std::string& m = request.method;
  switch (route.kind) {
    case RouteKind::kConnection:
      if (m == "GET") {
        return GetConnection(request, route, ctx);
      }
      if (m == "PUT" || m == "PATCH") {
        return PutConnection(request, route, ctx, m == "PATCH");
      }
      if (m == "DELETE") {
        return DeleteConnection(request, route, ctx);
      }
      break;
    case RouteKind::kConnectionList:
      if (m == "GET") {
        return ListConnections(request, route, ctx);
      }
      break;
    case RouteKind::kValidation:
      if (m == "POST") {
        return ValidateConnection(request, route, ctx);
      }
      break;
    case RouteKind::kCheckName:
      if (m == "POST") {
        return CheckName(request, route, ctx);
      }
      break;
    case RouteKind::kOperationResult:
      if (m == "GET") {
        return GetOperation(request, route, ctx);
      }
      break;
    default:
      break;
  }
  return ErrorResponse(ArmStatus(absl::StatusCode::kUnimplemented, "MethodNotAllowed",
                                 absl::StrCat("The requested resource does not support http "
                                              "method '",
                                              m, "'.")));
}

void Emulator::ApplyCompletedOperations(absl::Time now) {
  for (const Operation& op : operations_.CompleteDue(now)) {
    StoredConnection* connection = store_.Find(op.connection_key);
    if (connection == nullptr || connection->operation_id != op.id) {
      continue;  // changed out of band meanwhile
    }
    connection->operation_id.clear();
    bool succeeded = op.status == "Succeeded";
    if (op.kind == OpKind::kDelete && succeeded) {
      store_.Erase(op.connection_key);
    } else {
      connection->provisioning_state = op.status;
    }
    PublishChange(op.change, op.kind == OpKind::kDelete ? ChangeKind::kDelete : ChangeKind::kWrite,
                  succeeded, op.end.value_or(now));
  }
}

void Emulator::FinishResponse(const ServerRequest& request, const Ctx& ctx,
                              ServerResponse& response) {
  HttpHeaders& h = response.headers;
  SetHeader(h, "x-ms-request-id", ctx.request_id);
  SetHeader(h, "x-ms-correlation-request-id", ctx.correlation_id);
  SetHeader(h, "x-ms-routing-request-id",
            absl::StrCat("LOCAL:", absl::FormatTime("%Y%m%dT%H%M%SZ", ctx.now, absl::UTCTimeZone()),
                         ":", ctx.request_id));
  std::optional<std::string> echo = GetHeader(request.headers, "x-ms-return-client-request-id");
  std::optional<std::string> client_id = GetHeader(request.headers, "x-ms-client-request-id");
  if (echo.has_value() && absl::EqualsIgnoreCase(*echo, "true") && client_id.has_value()) {
    SetHeader(h, "x-ms-client-request-id", *client_id);
  }
  SetHeader(h, "Date", HttpDate(ctx.now));
  SetHeader(h, "Cache-Control", "no-cache");
  SetHeader(h, "Pragma", "no-cache");
  SetHeader(h, "Expires", "-1");
  if (ctx.arm && ctx.throttle.has_value()) {
    std::string type(OpTypeHeaderName(ctx.op_type));
    SetHeader(h, absl::StrCat("x-ms-ratelimit-remaining-subscription-", type),
              std::to_string(ctx.throttle->remaining));
    SetHeader(h, absl::StrCat("x-ms-ratelimit-remaining-subscription-global-", type),
              std::to_string(ctx.throttle->global_remaining));
    if (ctx.op_type != OpType::kDelete) {
      SetHeader(h, "x-ms-ratelimit-remaining-subscription-resource-requests",
                std::to_string(ctx.throttle->remaining));
    }
  }
}

std::string Emulator::BaseUrl(const ServerRequest& request) const {
  if (!options_.public_base_url.empty()) {
    std::string base = options_.public_base_url;
    while (absl::EndsWith(base, "/")) {
      base.pop_back();
    }
    return base;
  }
  std::optional<std::string> host = GetHeader(request.headers, "Host");
  return absl::StrCat(options_.scheme, "://",
                      host.has_value() && !host->empty() ? *host : std::string("127.0.0.1"));
}

}  // namespace kustodian::emulator
