#include "src/emulator/world.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/strings.h"
#include "src/emulator/ids.h"
#include "yaml-cpp/yaml.h"

namespace kustodian::emulator {

namespace {

// Parse context: labels errors with file and line.
struct Ctx {
  std::string file;
  absl::Status Error(const YAML::Node& node, std::string_view what) const {
    int line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
    return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", Av(what)));
  }
};

absl::Status CheckKeys(const Ctx& ctx, const YAML::Node& node, std::string_view where,
                       const std::set<std::string>& allowed) {
  if (!node.IsMap()) {
    return ctx.Error(node, absl::StrCat(Av(where), " must be a mapping"));
  }
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (allowed.count(key) == 0) {
      return ctx.Error(kv.first, absl::StrCat("unknown key '", key, "' in ", Av(where),
                                              " (allowed: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequiredString(const Ctx& ctx, const YAML::Node& node,
                                           std::string_view key, std::string_view where) {
  YAML::Node value = node[std::string(key)];
  if (!value) {
    return ctx.Error(node, absl::StrCat(Av(where), " is missing '", Av(key), "'"));
  }
  if (!value.IsScalar() || value.Scalar().empty()) {
    return ctx.Error(value,
                     absl::StrCat("'", Av(key), "' in ", Av(where), " must be a non-empty string"));
  }
  return value.Scalar();
}

absl::StatusOr<std::string> OptionalString(const Ctx& ctx, const YAML::Node& node,
                                           std::string_view key) {
  YAML::Node value = node[std::string(key)];
  if (!value || value.IsNull()) {
    return std::string();
  }
  if (!value.IsScalar()) {
    return ctx.Error(value, absl::StrCat("'", Av(key), "' must be a string"));
  }
  return value.Scalar();
}

absl::StatusOr<bool> OptionalBool(const Ctx& ctx, const YAML::Node& node, std::string_view key) {
  YAML::Node value = node[std::string(key)];
  if (!value || value.IsNull()) {
    return false;
  }
  std::string s = value.IsScalar() ? absl::AsciiStrToLower(value.Scalar()) : "";
  if (s == "true") {
    return true;
  }
  if (s == "false") {
    return false;
  }
  return ctx.Error(value, absl::StrCat("'", Av(key), "' must be true or false"));
}

// YAML node -> JSON, typing plain scalars (true/false, null, numbers) as YAML 1.2 core does.
nlohmann::json ToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) {
      out[kv.first.Scalar()] = ToJson(kv.second);
    }
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) {
      out.push_back(ToJson(item));
    }
    return out;
  }
  if (!node.IsScalar()) {
    return nullptr;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") {  // quoted: always a string
    return s;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  try {
    size_t used = 0;
    long long i = std::stoll(s, &used);
    if (used == s.size()) {
      return i;
    }
    double d = std::stod(s, &used);
    if (used == s.size()) {
      return d;
    }
  } catch (const std::exception&) {
    // not a number
  }
  return s;
}

template <typename T, typename F>
absl::Status ParseList(const Ctx& ctx, const YAML::Node& parent, std::string_view key,
                       std::vector<T>* out, F parse_one) {
  YAML::Node list = parent[std::string(key)];
  if (!list || list.IsNull()) {
    return absl::OkStatus();
  }
  if (!list.IsSequence()) {
    return ctx.Error(list, absl::StrCat("'", Av(key), "' must be a list"));
  }
  for (const auto& item : list) {
    T value;
    absl::Status st = parse_one(item, &value);
    if (!st.ok()) {
      return st;
    }
    out->push_back(std::move(value));
  }
  return absl::OkStatus();
}

absl::Status ParseConnection(const Ctx& ctx, const YAML::Node& n, WorldConnection* out) {
  absl::Status st = CheckKeys(ctx, n, "connection",
                              {"name", "kind", "location", "properties", "provisioningState"});
  if (!st.ok()) {
    return st;
  }
  out->line = n.Mark().line + 1;
  absl::StatusOr<std::string> s = RequiredString(ctx, n, "name", "connection");
  if (!s.ok()) {
    return s.status();
  }
  out->name = *s;
  if (!(s = RequiredString(ctx, n, "kind", "connection")).ok()) {
    return s.status();
  }
  out->kind = *s;
  if (!(s = OptionalString(ctx, n, "location")).ok()) {
    return s.status();
  }
  out->location = *s;
  if (!(s = OptionalString(ctx, n, "provisioningState")).ok()) {
    return s.status();
  }
  out->provisioning_state = *s;
  YAML::Node props = n["properties"];
  if (props && !props.IsNull()) {
    if (!props.IsMap()) {
      return ctx.Error(props, "'properties' must be a mapping");
    }
    out->properties = ToJson(props);
  }
  return absl::OkStatus();
}

absl::Status ParseDatabase(const Ctx& ctx, const YAML::Node& n, WorldDatabase* out) {
  if (n.IsScalar()) {  // a bare database name
    out->name = n.Scalar();
    return absl::OkStatus();
  }
  absl::Status st = CheckKeys(ctx, n, "database", {"name", "connections"});
  if (!st.ok()) {
    return st;
  }
  absl::StatusOr<std::string> name = RequiredString(ctx, n, "name", "database");
  if (!name.ok()) {
    return name.status();
  }
  out->name = *name;
  return ParseList(
      ctx, n, "connections", &out->connections,
      [&](const YAML::Node& c, WorldConnection* dc) { return ParseConnection(ctx, c, dc); });
}

absl::Status ParseCluster(const Ctx& ctx, const YAML::Node& n, WorldCluster* out) {
  absl::Status st = CheckKeys(ctx, n, "cluster", {"name", "location", "databases"});
  if (!st.ok()) {
    return st;
  }
  absl::StatusOr<std::string> s = RequiredString(ctx, n, "name", "cluster");
  if (!s.ok()) {
    return s.status();
  }
  out->name = *s;
  if (!(s = RequiredString(ctx, n, "location", "cluster")).ok()) {
    return s.status();
  }
  out->location = DisplayLocation(*s);
  return ParseList(
      ctx, n, "databases", &out->databases,
      [&](const YAML::Node& d, WorldDatabase* db) { return ParseDatabase(ctx, d, db); });
}

absl::Status ParseResourceGroup(const Ctx& ctx, const YAML::Node& n, WorldResourceGroup* out) {
  absl::Status st = CheckKeys(ctx, n, "resource group", {"name", "clusters"});
  if (!st.ok()) {
    return st;
  }
  absl::StatusOr<std::string> name = RequiredString(ctx, n, "name", "resource group");
  if (!name.ok()) {
    return name.status();
  }
  out->name = *name;
  return ParseList(ctx, n, "clusters", &out->clusters,
                   [&](const YAML::Node& c, WorldCluster* cl) { return ParseCluster(ctx, c, cl); });
}

absl::Status ParseSubscription(const Ctx& ctx, const YAML::Node& n, WorldSubscription* out) {
  absl::Status st = CheckKeys(ctx, n, "subscription", {"id", "resourceGroups"});
  if (!st.ok()) {
    return st;
  }
  absl::StatusOr<std::string> id = RequiredString(ctx, n, "id", "subscription");
  if (!id.ok()) {
    return id.status();
  }
  out->id = *id;
  return ParseList(
      ctx, n, "resourceGroups", &out->resource_groups,
      [&](const YAML::Node& g, WorldResourceGroup* rg) { return ParseResourceGroup(ctx, g, rg); });
}

absl::Status ParsePrincipal(const Ctx& ctx, const YAML::Node& n, Principal* out) {
  absl::Status st = CheckKeys(
      ctx, n, "principal",
      {"clientId", "clientSecret", "tenantId", "objectId", "federated", "managedIdentity"});
  if (!st.ok()) {
    return st;
  }
  absl::StatusOr<std::string> s = RequiredString(ctx, n, "clientId", "principal");
  if (!s.ok()) {
    return s.status();
  }
  out->client_id = *s;
  if (!(s = OptionalString(ctx, n, "clientSecret")).ok()) {
    return s.status();
  }
  out->client_secret = *s;
  if (!(s = OptionalString(ctx, n, "tenantId")).ok()) {
    return s.status();
  }
  out->tenant_id = *s;
  if (!(s = OptionalString(ctx, n, "objectId")).ok()) {
    return s.status();
  }
  out->object_id = s->empty() ? StableGuid(absl::StrCat("oid:", out->client_id)) : *s;
  absl::StatusOr<bool> b = OptionalBool(ctx, n, "federated");
  if (!b.ok()) {
    return b.status();
  }
  out->federated = *b;
  if (!(b = OptionalBool(ctx, n, "managedIdentity")).ok()) {
    return b.status();
  }
  out->managed_identity = *b;
  if (out->client_secret.empty() && !out->federated && !out->managed_identity) {
    return ctx.Error(n, absl::StrCat("principal '", out->client_id,
                                     "' needs clientSecret, federated: true or "
                                     "managedIdentity: true"));
  }
  return absl::OkStatus();
}

// One entry of eventGridSubscriptions: the keys of SubscriptionFromJson, errors with the line.
absl::Status ParseEventGridSubscription(const Ctx& ctx, const YAML::Node& n,
                                        const std::vector<EventGridSubscriptionConfig>& earlier,
                                        EventGridSubscriptionConfig* out) {
  const std::vector<std::string>& keys = SubscriptionKeys();
  absl::Status st =
      CheckKeys(ctx, n, "Event Grid subscription", std::set<std::string>(keys.begin(), keys.end()));
  if (!st.ok()) {
    return st;
  }
  YAML::Node headers = n["headers"];
  if (headers && !headers.IsNull() && !headers.IsMap()) {
    return ctx.Error(headers, "'headers' must be a mapping of header name to value");
  }
  absl::StatusOr<EventGridSubscriptionConfig> config = SubscriptionFromJson(ToJson(n));
  if (!config.ok()) {
    return ctx.Error(n, Sv(config.status().message()));
  }
  for (const EventGridSubscriptionConfig& other : earlier) {
    if (absl::EqualsIgnoreCase(other.name, config->name)) {
      return ctx.Error(
          n, absl::StrCat("Event Grid subscription '", config->name, "' is listed twice"));
    }
  }
  *out = std::move(*config);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<World> ParseWorld(std::string_view yaml_text, std::string_view file_name) {
  Ctx ctx{std::string(file_name)};
  World world;
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root || root.IsNull()) {
      return world;  // an empty world
    }
    absl::Status st = CheckKeys(ctx, root, "the world file",
                                {"subscriptions", "principals", "eventGridSubscriptions"});
    if (st.ok()) {
      st = ParseList(ctx, root, "subscriptions", &world.subscriptions,
                     [&](const YAML::Node& s, WorldSubscription* sub) {
                       return ParseSubscription(ctx, s, sub);
                     });
    }
    if (st.ok()) {
      st =
          ParseList(ctx, root, "principals", &world.principals,
                    [&](const YAML::Node& p, Principal* pr) { return ParsePrincipal(ctx, p, pr); });
    }
    if (st.ok()) {
      st = ParseList(ctx, root, "eventGridSubscriptions", &world.eventgrid_subscriptions,
                     [&](const YAML::Node& n, EventGridSubscriptionConfig* config) {
                       return ParseEventGridSubscription(ctx, n, world.eventgrid_subscriptions,
                                                         config);
                     });
    }
    if (!st.ok()) {
      return st;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(ctx.file, ":", e.mark.is_null() ? 0 : e.mark.line + 1, ": ", e.msg));
  }
  return world;
}

absl::StatusOr<World> LoadWorldFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read world file '", path, "'"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseWorld(buffer.str(), path);
}

std::string DisplayLocation(std::string_view location) {
  static constexpr std::array<std::pair<const char*, const char*>, 33> kRegions = {{
      {"eastus", "East US"},
      {"eastus2", "East US 2"},
      {"westus", "West US"},
      {"westus2", "West US 2"},
      {"westus3", "West US 3"},
      {"centralus", "Central US"},
      {"northcentralus", "North Central US"},
      {"southcentralus", "South Central US"},
      {"westcentralus", "West Central US"},
      {"canadacentral", "Canada Central"},
      {"canadaeast", "Canada East"},
      {"brazilsouth", "Brazil South"},
      {"northeurope", "North Europe"},
      {"westeurope", "West Europe"},
      {"uksouth", "UK South"},
      {"ukwest", "UK West"},
      {"francecentral", "France Central"},
      {"germanywestcentral", "Germany West Central"},
      {"swedencentral", "Sweden Central"},
      {"switzerlandnorth", "Switzerland North"},
      {"norwayeast", "Norway East"},
      {"polandcentral", "Poland Central"},
      {"italynorth", "Italy North"},
      {"japaneast", "Japan East"},
      {"japanwest", "Japan West"},
      {"koreacentral", "Korea Central"},
      {"eastasia", "East Asia"},
      {"southeastasia", "Southeast Asia"},
      {"australiaeast", "Australia East"},
      {"centralindia", "Central India"},
      {"southindia", "South India"},
      {"uaenorth", "UAE North"},
      {"southafricanorth", "South Africa North"},
  }};
  std::string key = absl::AsciiStrToLower(Av(location));
  key.erase(std::remove(key.begin(), key.end(), ' '), key.end());
  for (const auto& [normalized, display] : kRegions) {
    if (key == normalized) {
      return display;
    }
  }
  return std::string(location);
}

}  // namespace kustodian::emulator
