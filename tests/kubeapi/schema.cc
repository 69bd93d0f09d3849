// Structural schema compile, prune/default and validate.
#include "tests/kubeapi/schema.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kustodian::kubeapi {
namespace {

absl::Status CompileNode(const json& s, const std::string& path, SchemaNode* out);

absl::Status CompileList(const json& s, const char* key, const std::string& path,
                         std::vector<SchemaNode>* out) {
  if (!s.contains(key)) {
    return absl::OkStatus();
  }
  for (size_t i = 0; i < s[key].size(); ++i) {
    SchemaNode n;
    absl::Status st = CompileNode(s[key][i], absl::StrCat(path, ".", key, "[", i, "]"), &n);
    if (!st.ok()) {
      return st;
    }
    out->push_back(std::move(n));
  }
  return absl::OkStatus();
}

template <typename T>
void Opt(const json& s, const char* key, std::optional<T>* out) {
  if (s.contains(key) && s[key].is_number()) {
    *out = s[key].get<T>();
  }
}

absl::Status CompileNode(const json& s, const std::string& path, SchemaNode* out) {
  if (!s.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": a schema must be an object"));
  }
  out->type = s.value("type", "");
  out->nullable = s.value("nullable", false);
  out->preserve_unknown = s.value("x-kubernetes-preserve-unknown-fields", false);
  out->int_or_string = s.value("x-kubernetes-int-or-string", false);
  out->embedded_resource = s.value("x-kubernetes-embedded-resource", false);
  if (s.contains("properties")) {
    for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it) {
      absl::Status st = CompileNode(it.value(), absl::StrCat(path, ".properties.", it.key()),
                                    &out->properties[it.key()]);
      if (!st.ok()) {
        return st;
      }
    }
  }
  if (s.contains("items")) {
    out->items = std::make_shared<SchemaNode>();
    absl::Status st = CompileNode(s["items"], path + ".items", out->items.get());
    if (!st.ok()) {
      return st;
    }
  }
  if (s.contains("additionalProperties")) {
    if (s["additionalProperties"].is_object()) {
      out->additional = std::make_shared<SchemaNode>();
      absl::Status st = CompileNode(s["additionalProperties"], path + ".additionalProperties",
                                    out->additional.get());
      if (!st.ok()) {
        return st;
      }
    } else if (s["additionalProperties"] == true) {
      out->preserve_unknown = true;
    }
  }
  if (s.contains("required")) {
    out->required = s["required"].get<std::vector<std::string>>();
  }
  if (s.contains("enum")) {
    out->enum_values = s["enum"];
  }
  if (s.contains("pattern")) {
    out->pattern = s["pattern"].get<std::string>();
    try {
      out->pattern_re = std::make_shared<std::regex>(*out->pattern);
    } catch (const std::regex_error&) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".pattern: unsupported regular expression ", *out->pattern));
    }
  }
  Opt(s, "minLength", &out->min_length);
  Opt(s, "maxLength", &out->max_length);
  Opt(s, "minItems", &out->min_items);
  Opt(s, "maxItems", &out->max_items);
  Opt(s, "minProperties", &out->min_props);
  Opt(s, "maxProperties", &out->max_props);
  Opt(s, "minimum", &out->minimum);
  Opt(s, "maximum", &out->maximum);
  out->exclusive_minimum = s.value("exclusiveMinimum", false);
  out->exclusive_maximum = s.value("exclusiveMaximum", false);
  if (s.contains("default")) {
    out->default_value = s["default"];
  }
  for (const char* key : {"allOf", "anyOf", "oneOf"}) {
    std::vector<SchemaNode>* list = std::string(key) == "allOf"   ? &out->all_of
                                    : std::string(key) == "anyOf" ? &out->any_of
                                                                  : &out->one_of;
    absl::Status st = CompileList(s, key, path, list);
    if (!st.ok()) {
      return st;
    }
  }
  if (s.contains("not")) {
    out->not_ = std::make_shared<SchemaNode>();
    absl::Status st = CompileNode(s["not"], path + ".not", out->not_.get());
    if (!st.ok()) {
      return st;
    }
  }
  if (s.contains("x-kubernetes-validations")) {
    for (const json& r : s["x-kubernetes-validations"]) {
      CelRule rule;
      rule.rule = r.value("rule", "");
      rule.message = r.value("message", "");
      rule.reason = r.value("reason", "FieldValueInvalid");
      rule.field_path = r.value("fieldPath", "");
      if (r.contains("messageExpression")) {
        return absl::InvalidArgumentError(absl::StrCat(
            path,
            ".x-kubernetes-validations: messageExpression is not supported by the test API "
            "server; use message"));
      }
      auto program = cel::Program::Compile(rule.rule);
      if (!program.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ".x-kubernetes-validations: rule \"", rule.rule,
                         "\" is outside the CEL subset the test API server supports: ",
                         program.status().message()));
      }
      rule.program = *program;
      out->rules.push_back(std::move(rule));
    }
  }
  return absl::OkStatus();
}

std::string Join(const std::string& path, const std::string& field) {
  return path.empty() ? field : absl::StrCat(path, ".", field);
}

std::string ShowValue(const json& v) {
  if (v.is_string()) {
    return GoQuote(v.get<std::string>());
  }
  if (v.is_object()) {
    return "\"object\"";
  }
  if (v.is_array()) {
    return "\"array\"";
  }
  if (v.is_null()) {
    return "\"null\"";
  }
  return v.dump();
}

std::string JsonTypeName(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

bool TypeMatches(const SchemaNode& n, const json& v) {
  if (v.is_null()) {
    return n.nullable;
  }
  if (n.int_or_string) {
    return v.is_string() || v.is_number_integer();
  }
  if (n.type.empty()) {
    return true;
  }
  if (n.type == "integer") {
    return v.is_number_integer() ||
           (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  }
  if (n.type == "number") return v.is_number();
  if (n.type == "string") return v.is_string();
  if (n.type == "boolean") return v.is_boolean();
  if (n.type == "array") return v.is_array();
  if (n.type == "object") return v.is_object();
  return true;
}

void Prune(const SchemaNode& n, json* v, const std::string& path, bool root,
           std::vector<std::string>* unknown) {
  if (v->is_object()) {
    if (!n.properties.empty() || (!n.preserve_unknown && n.additional == nullptr)) {
      for (auto it = v->begin(); it != v->end();) {
        const std::string key = it.key();
        auto prop = n.properties.find(key);
        bool meta = (root || n.embedded_resource) &&
                    (key == "apiVersion" || key == "kind" || key == "metadata");
        if (prop != n.properties.end()) {
          if (!(root && key == "metadata")) {
            Prune(prop->second, &it.value(), Join(path, key), false, unknown);
          }
          ++it;
        } else if (meta || n.preserve_unknown) {
          ++it;
        } else if (n.additional != nullptr) {
          Prune(*n.additional, &it.value(), absl::StrCat(path, "[", key, "]"), false, unknown);
          ++it;
        } else {
          unknown->push_back(Join(path, key));
          it = v->erase(it);
        }
      }
    } else if (n.additional != nullptr) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        Prune(*n.additional, &it.value(), absl::StrCat(path, "[", it.key(), "]"), false, unknown);
      }
    }
    // Defaults for absent properties.
    for (const auto& [key, prop] : n.properties) {
      if (!v->contains(key) && !prop.default_value.is_null()) {
        (*v)[key] = prop.default_value;
        Prune(prop, &(*v)[key], Join(path, key), false, unknown);
      }
    }
  } else if (v->is_array() && n.items != nullptr) {
    for (size_t i = 0; i < v->size(); ++i) {
      Prune(*n.items, &(*v)[i], absl::StrCat(path, "[", i, "]"), false, unknown);
    }
  }
}

void Check(const SchemaNode& n, const json& v, const json* old, const std::string& path, bool root,
           std::vector<FieldError>* errs);

// True when `v` satisfies `n` (used by allOf/anyOf/oneOf/not).
bool Satisfies(const SchemaNode& n, const json& v, const std::string& path) {
  std::vector<FieldError> errs;
  Check(n, v, nullptr, path, false, &errs);
  return errs.empty();
}

void CheckRules(const SchemaNode& n, const json& v, const json* old, const std::string& path,
                std::vector<FieldError>* errs) {
  for (const CelRule& rule : n.rules) {
    if (rule.program.UsesOldSelf() && old == nullptr) {
      continue;  // transition rules only run on update
    }
    std::string field = path;
    if (!rule.field_path.empty()) {
      std::string fp = rule.field_path;
      if (fp[0] == '.') {
        fp = fp.substr(1);
      }
      field = Join(path, fp);
    }
    std::string type_name = n.type.empty() ? JsonTypeName(v) : n.type;
    auto result = rule.program.Eval(v, old);
    std::string message;
    if (!result.ok()) {
      message = absl::StrCat(result.status().message(), " evaluating rule: ", rule.rule);
    } else if (!result->is_boolean()) {
      message = absl::StrCat("rule did not evaluate to a bool: ", rule.rule);
    } else if (result->get<bool>()) {
      continue;
    } else {
      message = rule.message.empty() ? absl::StrCat("failed rule: ", rule.rule) : rule.message;
    }
    if (rule.reason == "FieldValueForbidden") {
      errs->push_back({"FieldValueForbidden", field, absl::StrCat("Forbidden: ", message)});
    } else if (rule.reason == "FieldValueRequired") {
      errs->push_back({"FieldValueRequired", field, absl::StrCat("Required value: ", message)});
    } else if (rule.reason == "FieldValueDuplicate") {
      errs->push_back({"FieldValueDuplicate", field,
                       absl::StrCat("Duplicate value: ", GoQuote(type_name), ": ", message)});
    } else {
      errs->push_back({"FieldValueInvalid", field,
                       absl::StrCat("Invalid value: ", GoQuote(type_name), ": ", message)});
    }
  }
}

void Check(const SchemaNode& n, const json& v, const json* old, const std::string& path, bool root,
           std::vector<FieldError>* errs) {
  const std::string where = path.empty() ? "body" : path;
  if (!TypeMatches(n, v)) {
    std::string t = JsonTypeName(v);
    errs->push_back({"FieldValueTypeInvalid", path,
                     absl::StrCat("Invalid value: ", GoQuote(t), ": ", where,
                                  " in body must be of type ", n.type, ": ", GoQuote(t))});
    return;
  }
  if (v.is_null()) {
    return;
  }
  if (n.enum_values.is_array()) {
    bool found = false;
    std::vector<std::string> shown;
    for (const json& e : n.enum_values) {
      found = found || e == v;
      shown.push_back(ShowValue(e));
    }
    if (!found) {
      errs->push_back({"FieldValueNotSupported", path,
                       absl::StrCat("Unsupported value: ", ShowValue(v),
                                    ": supported values: ", absl::StrJoin(shown, ", "))});
    }
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    int64_t len = 0;
    for (unsigned char c : s) {
      len += (c & 0xC0) != 0x80 ? 1 : 0;
    }
    if (n.min_length && len < *n.min_length) {
      errs->push_back({"FieldValueInvalid", path,
                       absl::StrCat("Invalid value: ", ShowValue(v), ": ", where,
                                    " in body should be at least ", *n.min_length, " chars long")});
    }
    if (n.max_length && len > *n.max_length) {
      errs->push_back({"FieldValueTooLong", path,
                       absl::StrCat("Too long: may not be more than ", *n.max_length, " bytes")});
    }
    if (n.pattern_re && !std::regex_search(s, *n.pattern_re)) {
      errs->push_back({"FieldValueInvalid", path,
                       absl::StrCat("Invalid value: ", ShowValue(v), ": ", where,
                                    " in body should match '", *n.pattern, "'")});
    }
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (n.minimum && (n.exclusive_minimum ? d <= *n.minimum : d < *n.minimum)) {
      errs->push_back({"FieldValueInvalid", path,
                       absl::StrCat("Invalid value: ", v.dump(), ": ", where,
                                    " in body should be greater than ",
                                    n.exclusive_minimum ? "" : "or equal to ", *n.minimum)});
    }
    if (n.maximum && (n.exclusive_maximum ? d >= *n.maximum : d > *n.maximum)) {
      errs->push_back(
          {"FieldValueInvalid", path,
           absl::StrCat("Invalid value: ", v.dump(), ": ", where, " in body should be less than ",
                        n.exclusive_maximum ? "" : "or equal to ", *n.maximum)});
    }
  }
  if (v.is_array()) {
    int64_t size = static_cast<int64_t>(v.size());
    if (n.min_items && size < *n.min_items) {
      errs->push_back({"FieldValueInvalid", path,
                       absl::StrCat("Invalid value: ", size, ": ", where,
                                    " in body should have at least ", *n.min_items, " items")});
    }
    if (n.max_items && size > *n.max_items) {
      errs->push_back(
          {"FieldValueTooMany", path,
           absl::StrCat("Too many: ", size, ": must have at most ", *n.max_items, " items")});
    }
    if (n.items != nullptr) {
      for (size_t i = 0; i < v.size(); ++i) {
        Check(*n.items, v[i], nullptr, absl::StrCat(path, "[", i, "]"), false, errs);
      }
    }
  }
  if (v.is_object()) {
    int64_t size = static_cast<int64_t>(v.size());
    if (n.min_props && size < *n.min_props) {
      errs->push_back(
          {"FieldValueInvalid", path,
           absl::StrCat("Invalid value: ", size, ": ", where, " in body should have at least ",
                        *n.min_props, " properties")});
    }
    if (n.max_props && size > *n.max_props) {
      errs->push_back(
          {"FieldValueTooMany", path,
           absl::StrCat("Too many: ", size, ": must have at most ", *n.max_props, " items")});
    }
    for (const std::string& req : n.required) {
      if (!v.contains(req)) {
        errs->push_back({"FieldValueRequired", Join(path, req), "Required value"});
      }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (root && it.key() == "metadata") {
        continue;
      }
      const json* old_child = old != nullptr && old->is_object() && old->contains(it.key())
                                  ? &(*old)[it.key()]
                                  : nullptr;
      auto prop = n.properties.find(it.key());
      if (prop != n.properties.end()) {
        Check(prop->second, it.value(), old_child, Join(path, it.key()), false, errs);
      } else if (n.additional != nullptr) {
        Check(*n.additional, it.value(), old_child, absl::StrCat(path, "[", it.key(), "]"), false,
              errs);
      }
    }
  }
  for (const SchemaNode& s : n.all_of) {
    Check(s, v, old, path, root, errs);
  }
  if (!n.any_of.empty()) {
    bool any = false;
    for (const SchemaNode& s : n.any_of) {
      any = any || Satisfies(s, v, path);
    }
    if (!any) {
      errs->push_back({"FieldValueInvalid", path,
                       absl::StrCat("Invalid value: ", ShowValue(v), ": ", where,
                                    " in body must match at least one schema in anyOf")});
    }
  }
  if (!n.one_of.empty()) {
    int count = 0;
    for (const SchemaNode& s : n.one_of) {
      count += Satisfies(s, v, path) ? 1 : 0;
    }
    if (count != 1) {
      errs->push_back({"FieldValueInvalid", path,
                       absl::StrCat("Invalid value: ", ShowValue(v), ": ", where,
                                    " in body must match exactly one schema in oneOf")});
    }
  }
  if (n.not_ != nullptr && Satisfies(*n.not_, v, path)) {
    errs->push_back({"FieldValueInvalid", path,
                     absl::StrCat("Invalid value: ", ShowValue(v), ": ", where,
                                  " in body must not match the schema in not")});
  }
  CheckRules(n, v, old, path, errs);
}

}  // namespace

absl::StatusOr<Schema> Schema::Compile(const json& openapi_v3_schema) {
  Schema s;
  s.raw_ = openapi_v3_schema;
  absl::Status st = CompileNode(openapi_v3_schema, "openAPIV3Schema", &s.root_);
  if (!st.ok()) {
    return st;
  }
  return s;
}

void Schema::PruneAndDefault(json* obj, std::vector<std::string>* unknown) const {
  Prune(root_, obj, "", true, unknown);
}

std::vector<FieldError> Schema::Validate(const json& obj, const json* old) const {
  std::vector<FieldError> errs;
  Check(root_, obj, old, "", true, &errs);
  return errs;
}

}  // namespace kustodian::kubeapi
