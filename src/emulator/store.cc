#include "src/emulator/store.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian::emulator {

namespace {

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(Av(s)); }

}  // namespace

void Topology::Add(const World& world) {
  for (const WorldSubscription& ws : world.subscriptions) {
    Subscription& sub = subscriptions_[Lower(ws.id)];
    if (sub.id.empty()) {
      sub.id = ws.id;
    }
    for (const WorldResourceGroup& wg : ws.resource_groups) {
      Group& group = sub.groups[Lower(wg.name)];
      if (group.name.empty()) {
        group.name = wg.name;
      }
      for (const WorldCluster& wc : wg.clusters) {
        ClusterInfo& cluster = group.clusters[Lower(wc.name)];
        if (cluster.name.empty()) {
          cluster.subscription = sub.id;
          cluster.resource_group = group.name;
          cluster.name = wc.name;
        }
        cluster.location = wc.location;
        for (const WorldDatabase& wd : wc.databases) {
          cluster.databases.try_emplace(Lower(wd.name), wd.name);
        }
      }
    }
  }
}

const std::string* Topology::FindSubscription(std::string_view subscription) const {
  auto it = subscriptions_.find(Lower(subscription));
  return it == subscriptions_.end() ? nullptr : &it->second.id;
}

const std::string* Topology::FindResourceGroup(std::string_view subscription,
                                               std::string_view resource_group) const {
  auto sub = subscriptions_.find(Lower(subscription));
  if (sub == subscriptions_.end()) {
    return nullptr;
  }
  auto group = sub->second.groups.find(Lower(resource_group));
  return group == sub->second.groups.end() ? nullptr : &group->second.name;
}

const ClusterInfo* Topology::FindCluster(std::string_view subscription,
                                         std::string_view resource_group,
                                         std::string_view cluster) const {
  auto sub = subscriptions_.find(Lower(subscription));
  if (sub == subscriptions_.end()) {
    return nullptr;
  }
  auto group = sub->second.groups.find(Lower(resource_group));
  if (group == sub->second.groups.end()) {
    return nullptr;
  }
  auto it = group->second.clusters.find(Lower(cluster));
  return it == group->second.clusters.end() ? nullptr : &it->second;
}

const std::string* Topology::FindDatabase(const ClusterInfo& cluster, std::string_view database) {
  auto it = cluster.databases.find(Lower(database));
  return it == cluster.databases.end() ? nullptr : &it->second;
}

std::vector<const ClusterInfo*> Topology::Clusters() const {
  std::vector<const ClusterInfo*> out;
  for (const auto& [sub_key, sub] : subscriptions_) {
    for (const auto& [group_key, group] : sub.groups) {
      for (const auto& [cluster_key, cluster] : group.clusters) {
        out.push_back(&cluster);
      }
    }
  }
  return out;
}

std::string StoredConnection::ResponseId() const {
  return absl::StrCat("/subscriptions/", subscription, "/resourceGroups/", resource_group,
                      "/providers/Microsoft.Kusto/Clusters/", cluster, "/Databases/", database,
                      "/DataConnections/", name);
}

std::string StoredConnection::ArmName() const {
  return absl::StrCat(cluster, "/", database, "/", name);
}

std::string ConnectionKey(std::string_view subscription, std::string_view resource_group,
                          std::string_view cluster, std::string_view database,
                          std::string_view name) {
  return absl::StrCat(DatabaseKey(subscription, resource_group, cluster, database), "/",
                      Lower(name));
}

std::string DatabaseKey(std::string_view subscription, std::string_view resource_group,
                        std::string_view cluster, std::string_view database) {
  return absl::StrCat(ClusterKey(subscription, resource_group, cluster), "/", Lower(database));
}

std::string ClusterKey(std::string_view subscription, std::string_view resource_group,
                       std::string_view cluster) {
  return absl::StrCat(Lower(subscription), "/", Lower(resource_group), "/", Lower(cluster));
}

StoredConnection* ConnectionStore::Find(const std::string& key) {
  auto it = connections_.find(key);
  return it == connections_.end() ? nullptr : &it->second;
}

StoredConnection& ConnectionStore::Put(const std::string& key, StoredConnection connection) {
  StoredConnection& slot = connections_[key];
  slot = std::move(connection);
  return slot;
}

bool ConnectionStore::Erase(const std::string& key) { return connections_.erase(key) > 0; }

std::vector<const StoredConnection*> ConnectionStore::InDatabase(
    const std::string& database_key) const {
  std::vector<const StoredConnection*> out;
  std::string prefix = database_key + "/";
  for (auto it = connections_.lower_bound(prefix);
       it != connections_.end() && absl::StartsWith(it->first, prefix); ++it) {
    out.push_back(&it->second);
  }
  return out;
}

std::vector<const StoredConnection*> ConnectionStore::All() const {
  std::vector<const StoredConnection*> out;
  for (const auto& [key, connection] : connections_) {
    out.push_back(&connection);
  }
  return out;
}

}  // namespace kustodian::emulator

namespace kustodian::emulator {

OrderedJson ConnectionBody(const StoredConnection& connection, std::string_view location,
                           std::string_view provisioning_state) {
  OrderedJson body;
  body["id"] = connection.ResponseId();
  body["name"] = connection.ArmName();
  body["type"] = "Microsoft.Kusto/Clusters/Databases/DataConnections";
  body["location"] = std::string(location);
  body["kind"] = connection.kind;
  OrderedJson properties = connection.properties;
  properties["provisioningState"] = std::string(provisioning_state);
  body["properties"] = std::move(properties);
  return body;
}

std::string NormalizedLocation(std::string_view location) {
  std::string out;
  for (char c : location) {
    if (c != ' ') {
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace kustodian::emulator
