// What the Kusto resource provider does with a data connection's properties, per kind: which
// exist, which are required, their JSON types and enums, and how the server fills the ones a
// client leaves unset (the "" / null / default values of arm-kusto-api.md §6). This is the
// emulator's own server-side truth, independent of the client's model in src/model/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/emulator/http_util.h"

namespace kustodian::emulator {

inline constexpr std::string_view kApi2024 = "2024-04-13";
inline constexpr std::string_view kApi2025 = "2025-02-14";

enum class PropType { kString, kBool, kStringList, kDateTime };
enum class EnumSet { kNone, kDataFormat, kCompression, kRouting, kBlobEventType };

// How the server fills a property the client did not send.
enum class Fill {
  kAbsent,                     // left out of responses
  kNull,                       // null
  kEmptyOnCreateNullOnUpdate,  // "" after a create, null after an update (EventHub)
  kEmptyString,                // ""
  kEmptyList,                  // []
  kDefault,                    // PropRule::default_value
  kServerTime,                 // the write time on create; kept on update
  kObjectId,                   // read-only: a stable GUID for managedIdentityResourceId, or null
};

struct PropRule {
  std::string name;
  PropType type = PropType::kString;
  bool required = false;
  Fill fill = Fill::kAbsent;
  std::string default_value;  // for Fill::kDefault (a string) or "false" for kBool
  EnumSet enum_set = EnumSet::kNone;
  bool read_only = false;  // ignored when sent
};

struct KindRules {
  std::string name;  // ARM spelling
  bool api_2025_only = false;
  std::vector<PropRule> properties;  // in the order the RP returns them
};

// The rules for kind `name` (case-insensitive), or nullptr for an unknown kind.
const KindRules* FindKind(std::string_view name);
// True when `api_version` is one the emulator serves (2024-04-13, 2025-02-14).
bool IsSupportedApiVersion(std::string_view api_version);

// The result of a write: what the client asked for (canonical spellings, read-only and unknown
// properties dropped) and the full property object the server stores and returns.
struct RenderedProperties {
  nlohmann::json requested = nlohmann::json::object();
  OrderedJson stored = OrderedJson::object();  // without provisioningState
};

// Validates `sent` (the "properties" object of a PUT/PATCH body) for `rules` under
// `api_version` and renders the stored properties. `previous` is the stored object of an
// update (nullptr on create; kServerTime values are kept from it). Errors (first one found):
// InvalidArgument with ARM code InvalidRequestContent (wrong JSON type) or BadRequest (missing
// required property, value outside an enum).
absl::StatusOr<RenderedProperties> RenderProperties(const KindRules& rules,
                                                    const nlohmann::json& sent,
                                                    const OrderedJson* previous, absl::Time now,
                                                    std::string_view api_version);

// Every problem RenderProperties would report, as RP error messages (for dataConnectionValidation).
std::vector<std::string> PropertyProblems(const KindRules& rules, const nlohmann::json& sent,
                                          std::string_view api_version);

}  // namespace kustodian::emulator
