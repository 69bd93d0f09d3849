#include "src/emulator/routing.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"

namespace kustodian::emulator {

namespace {

bool Is(const std::string& segment, std::string_view literal) {
  return absl::EqualsIgnoreCase(segment, Av(literal));
}

}  // namespace

Route ParseRoute(std::string_view path) {
  Route route;
  if (absl::StartsWith(Av(path), "/_admin/") || path == "/_admin") {
    route.kind = RouteKind::kAdmin;
    route.admin_path = std::string(path.substr(std::string_view("/_admin").size()));
    return route;
  }
  std::vector<std::string> s = absl::StrSplit(Av(path), '/', absl::SkipEmpty());
  if (s.size() == 4 && Is(s[1], "oauth2") && Is(s[2], "v2.0") && Is(s[3], "token")) {
    route.kind = RouteKind::kToken;
    route.tenant = s[0];
    return route;
  }
  if (s.size() == 4 && Is(s[0], "metadata") && Is(s[1], "identity") && Is(s[2], "oauth2") &&
      Is(s[3], "token")) {
    route.kind = RouteKind::kImds;
    return route;
  }
  if (s.size() < 2 || !Is(s[0], "subscriptions")) {
    return route;
  }
  route.subscription = s[1];
  // /subscriptions/{s}/providers/Microsoft.Kusto/locations/{l}/operationResults/{id}
  if (s.size() == 8 && Is(s[2], "providers") && Is(s[3], "Microsoft.Kusto") &&
      Is(s[4], "locations") && Is(s[6], "operationResults")) {
    route.kind = RouteKind::kOperationResult;
    route.location = PercentDecode(s[5]);
    route.operation_id = s[7];
    return route;
  }
  // /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Kusto/clusters/{c}/databases/{d}/...
  if (s.size() < 11 || !Is(s[2], "resourceGroups") || !Is(s[4], "providers") ||
      !Is(s[5], "Microsoft.Kusto") || !Is(s[6], "clusters") || !Is(s[8], "databases")) {
    return route;
  }
  route.resource_group = s[3];
  route.cluster = s[7];
  route.database = s[9];
  if (s.size() == 11 && Is(s[10], "dataConnections")) {
    route.kind = RouteKind::kConnectionList;
  } else if (s.size() == 12 && Is(s[10], "dataConnections")) {
    route.kind = RouteKind::kConnection;
    route.name = s[11];
  } else if (s.size() == 11 && Is(s[10], "dataConnectionValidation")) {
    route.kind = RouteKind::kValidation;
  } else if (s.size() == 11 && Is(s[10], "checkNameAvailability")) {
    route.kind = RouteKind::kCheckName;
  }
  return route;
}

std::string RouteTemplate(const Route& route, std::string_view method, bool location_form) {
  std::string_view name = "unknown";
  switch (route.kind) {
    case RouteKind::kConnection:
      name = "dataConnection";
      break;
    case RouteKind::kConnectionList:
      name = "list";
      break;
    case RouteKind::kValidation:
      name = "dataConnectionValidation";
      break;
    case RouteKind::kCheckName:
      name = "checkNameAvailability";
      break;
    case RouteKind::kOperationResult:
      name = location_form ? "operationResultLocation" : "operationResult";
      break;
    case RouteKind::kToken:
      name = "token";
      break;
    case RouteKind::kImds:
      name = "imds";
      break;
    case RouteKind::kAdmin:
      name = "admin";
      break;
    case RouteKind::kUnknown:
      break;
  }
  return absl::StrCat(Av(method), " ", Av(name));
}

}  // namespace kustodian::emulator
