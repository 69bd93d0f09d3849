// The resource types the test API server serves: built-ins (namespaces, secrets, configmaps,
// core and events.k8s.io events, leases, customresourcedefinitions) plus those of the CRD files
// given on the command line, each with what discovery, tables and validation need.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "tests/kubeapi/json_path.h"
#include "tests/kubeapi/schema.h"

namespace kustodian::kubeapi {

struct PrinterColumn {
  std::string name;
  std::string type;  // string, integer, number, boolean, date
  std::string format;
  std::string description;
  int priority = 0;
  std::string json_path;
  JsonPath path;
};

struct ResourceType {
  std::string group;  // "" = core
  std::string version;
  std::string kind;
  std::string plural;
  std::string singular;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool namespaced = true;
  bool custom = false;  // from a CRD: generation, merge/JSON patch only, rv required
  bool status_subresource = false;
  bool read_only = false;              // served but not writable (customresourcedefinitions)
  std::string storage;                 // store key; the two event APIs share "events"
  std::vector<PrinterColumn> columns;  // CRD additionalPrinterColumns (Name/Age implied)
  std::shared_ptr<const Schema> schema;
  std::vector<std::string> field_selectors;  // beyond metadata.name / metadata.namespace

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1" or "/apis/<group>/<version>".
  std::string Prefix() const;
  // "DataConnection.kustodian.io" (or "Secret" for the core group).
  std::string GroupKind() const { return group.empty() ? kind : kind + "." + group; }
  bool HasGeneration() const { return custom; }
};

// Thread-safe after construction (read-only).
class Registry {
 public:
  // The built-in types.
  Registry();
  // Adds the served versions of a CustomResourceDefinition document. InvalidArgument naming
  // `source` and the field when the CRD is malformed or uses unsupported schema/CEL features.
  absl::Status AddCrd(const nlohmann::json& crd, const std::string& source);

  const ResourceType* Find(const std::string& group, const std::string& version,
                           const std::string& plural) const;
  const std::vector<ResourceType>& types() const { return types_; }
  // The CRD documents added, as stored objects (for GET customresourcedefinitions).
  const std::vector<nlohmann::json>& crds() const { return crds_; }

 private:
  std::vector<ResourceType> types_;
  std::vector<nlohmann::json> crds_;
};

}  // namespace kustodian::kubeapi
