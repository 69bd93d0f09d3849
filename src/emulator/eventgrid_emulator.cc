// Emulator: the Event Grid side of data-connection changes. Builds the ChangeContext of a
// request (correlation id, caller claims, httpRequest), publishes ResourceWrite/Delete events
// to the dispatcher, and serves /_admin/eventgrid/subscriptions.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "src/core/strings.h"
#include "src/emulator/emulator.h"
#include "src/emulator/http_util.h"
#include "src/emulator/kinds.h"

namespace kustodian::emulator {

namespace {

constexpr std::string_view kObjectIdClaim =
    "http://schemas.microsoft.com/identity/claims/objectidentifier";
constexpr std::string_view kTenantIdClaim = "http://schemas.microsoft.com/identity/claims/tenantid";

}  // namespace

Emulator::~Emulator() { eventgrid_.Stop(); }

ChangeContext Emulator::ChangeFor(const ServerRequest& request, std::string_view resource_uri,
                                  std::string_view subscription, std::string_view correlation_id,
                                  bool http_request, std::string_view url) {
  ChangeContext change;
  change.resource_uri = std::string(resource_uri);
  change.subscription_id = std::string(subscription);
  change.tenant_id = options_.eventgrid_tenant_id;
  change.correlation_id = std::string(correlation_id);
  // The header's text must outlive `token` (a view into it): not value_or("")'s temporary.
  const std::string authorization = GetHeader(request.headers, "Authorization").value_or("");
  absl::string_view token = authorization;
  if (absl::ConsumePrefix(&token, "Bearer ") || absl::ConsumePrefix(&token, "bearer ")) {
    absl::StatusOr<TokenClaims> claims = authority_.Verify(Sv(token), clock_.Now());
    if (claims.ok()) {
      if (!claims->tid.empty()) {
        change.tenant_id = claims->tid;
      }
      change.principal_id = claims->oid;
      OrderedJson& c = change.claims;
      c["aud"] = claims->aud;
      c["iss"] = absl::StrCat("https://sts.windows.net/", change.tenant_id, "/");
      c["iat"] = std::to_string(absl::ToUnixSeconds(claims->iat));
      c["nbf"] = std::to_string(absl::ToUnixSeconds(claims->nbf));
      c["exp"] = std::to_string(absl::ToUnixSeconds(claims->exp));
      c["appid"] = claims->appid;
      c[std::string(kObjectIdClaim)] = claims->oid;
      c[std::string(kTenantIdClaim)] = change.tenant_id;
      c["ver"] = "1.0";
    } else if (!options_.dev_token.empty() && Sv(token) == options_.dev_token) {
      change.claims["appid"] = "dev";
    }
  }
  if (change.claims.empty()) {
    change.claims["appid"] = request.path.rfind("/_admin", 0) == 0
                                 ? "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"  // the Azure portal
                                 : "anonymous";
  }
  change.has_http_request = http_request;
  change.method = request.method;
  change.url = !url.empty() ? std::string(url)
                            : BaseUrl(request) +
                                  (request.raw_target.empty() ? request.path : request.raw_target);
  change.client_request_id =
      GetHeader(request.headers, "x-ms-client-request-id").value_or(rng_.NewGuid());
  change.client_ip = request.remote_addr.empty() ? "127.0.0.1" : request.remote_addr;
  return change;
}

void Emulator::PublishChange(const ChangeContext& change, ChangeKind kind, bool succeeded,
                             absl::Time time) {
  eventgrid_.Publish(MakeResourceEvent(change, kind, succeeded, rng_.NewGuid(), time));
}

std::string Emulator::ValidationTopic() const {
  std::vector<const ClusterInfo*> clusters = topology_.Clusters();
  return absl::StrCat("/subscriptions/", clusters.empty() ? "00000000-0000-0000-0000-000000000000"
                                                          : clusters.front()->subscription);
}

std::optional<ServerResponse> Emulator::HandleEventGridAdmin(const ServerRequest& request,
                                                             std::string_view path) {
  const std::string& m = request.method;
  absl::string_view rest = Av(path);
  if (!absl::ConsumePrefix(&rest, "/subscriptions")) {
    return std::nullopt;
  }
  if (rest.empty() || rest == "/") {
    if (m == "GET") {
      return JsonResponse(200, eventgrid_.SubscriptionsJson());
    }
    return std::nullopt;
  }
  if (!absl::ConsumePrefix(&rest, "/") || rest.find('/') != absl::string_view::npos) {
    return std::nullopt;
  }
  std::string name(rest);
  if (m == "GET") {
    std::optional<OrderedJson> sub = eventgrid_.SubscriptionJson(name);
    if (!sub.has_value()) {
      return ErrorResponse(
          absl::NotFoundError(absl::StrCat("no Event Grid subscription '", name, "'")));
    }
    return JsonResponse(200, *sub);
  }
  if (m == "PUT") {
    absl::StatusOr<nlohmann::json> body = ParseJsonBody(request.body);
    if (!body.ok()) {
      return ErrorResponse(body.status());
    }
    absl::StatusOr<EventGridSubscriptionConfig> config = SubscriptionFromJson(*body, name);
    if (!config.ok()) {
      return ErrorResponse(config.status());
    }
    eventgrid_.Upsert(*config, ValidationTopic());
    return JsonResponse(200, eventgrid_.SubscriptionJson(name).value_or(OrderedJson::object()));
  }
  if (m == "DELETE") {
    if (!eventgrid_.Remove(name)) {
      return ErrorResponse(
          absl::NotFoundError(absl::StrCat("no Event Grid subscription '", name, "'")));
    }
    return EmptyResponse(204);
  }
  return std::nullopt;
}

}  // namespace kustodian::emulator
