#include "src/model/data_connection.h"

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/strings.h"

namespace kustodian {

std::string_view KindName(ConnectionKind kind) {
  switch (kind) {
    case ConnectionKind::kEventHub:
      return "EventHub";
    case ConnectionKind::kEventGrid:
      return "EventGrid";
    case ConnectionKind::kIotHub:
      return "IotHub";
    case ConnectionKind::kCosmosDb:
      return "CosmosDb";
    case ConnectionKind::kEventHubWithManagedIdentity:
      return "EventHubWithManagedIdentity";
    case ConnectionKind::kEventGridWithManagedIdentity:
      return "EventGridWithManagedIdentity";
  }
  return "Unknown";
}

absl::StatusOr<ConnectionKind> ParseKind(std::string_view name) {
  std::vector<std::string> valid;
  for (ConnectionKind kind : kAllKinds) {
    if (absl::EqualsIgnoreCase(Av(KindName(kind)), Av(name))) {
      return kind;
    }
    valid.emplace_back(KindName(kind));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown data connection kind '", Av(name),
                                                 "'; valid kinds: ", absl::StrJoin(valid, ", ")));
}

bool KindNeedsApi2025(ConnectionKind kind) {
  return kind == ConnectionKind::kEventHubWithManagedIdentity ||
         kind == ConnectionKind::kEventGridWithManagedIdentity;
}

bool IsTerminalProvisioningState(std::string_view state) {
  return state.empty() || absl::EqualsIgnoreCase(Av(state), "Succeeded") ||
         absl::EqualsIgnoreCase(Av(state), "Failed") ||
         absl::EqualsIgnoreCase(Av(state), "Canceled");
}

std::string NormalizeLocation(std::string_view location) {
  std::string out;
  out.reserve(location.size());
  for (unsigned char c : location) {
    if (std::isspace(c)) {
      continue;
    }
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

}  // namespace kustodian
