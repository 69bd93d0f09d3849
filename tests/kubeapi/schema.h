// A CRD's structural OpenAPI v3 schema, compiled: pruning of unknown fields, defaults, and
// validation (type, required, enum, pattern, lengths, bounds, item and property counts,
// allOf/anyOf/oneOf/not, and the x-kubernetes-validations CEL rules) with field errors in the
// real API server's wording.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "tests/kubeapi/api_error.h"
#include "tests/kubeapi/cel.h"

namespace kustodian::kubeapi {

struct CelRule {
  std::string rule;
  std::string message;
  std::string reason;      // FieldValueInvalid (default), FieldValueForbidden, FieldValueRequired
  std::string field_path;  // optional, relative (".kind")
  cel::Program program;
};

struct SchemaNode {
  std::string type;  // "" = any
  bool nullable = false;
  bool preserve_unknown = false;
  bool int_or_string = false;
  bool embedded_resource = false;
  std::map<std::string, SchemaNode> properties;
  std::shared_ptr<SchemaNode> items;
  std::shared_ptr<SchemaNode> additional;  // additionalProperties schema
  std::vector<std::string> required;
  json enum_values;  // null or array
  std::optional<std::string> pattern;
  std::shared_ptr<std::regex> pattern_re;
  std::optional<int64_t> min_length, max_length, min_items, max_items, min_props, max_props;
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
  json default_value;  // null = none
  std::vector<SchemaNode> all_of, any_of, one_of;
  std::shared_ptr<SchemaNode> not_;
  std::vector<CelRule> rules;
};

// Immutable after Compile; thread-safe.
class Schema {
 public:
  // InvalidArgument naming the schema path for an unsupported construct or CEL rule.
  static absl::StatusOr<Schema> Compile(const json& openapi_v3_schema);

  // Removes fields the schema does not declare (keeping apiVersion/kind/metadata at the root),
  // appending their paths ("spec.foo") to *unknown, then applies defaults.
  void PruneAndDefault(json* obj, std::vector<std::string>* unknown) const;
  // Validates `obj` (old = the stored object on update, for transition rules; may be null).
  std::vector<FieldError> Validate(const json& obj, const json* old) const;
  const json& raw() const { return raw_; }

 private:
  SchemaNode root_;
  json raw_;
};

}  // namespace kustodian::kubeapi
