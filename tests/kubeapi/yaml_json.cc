// yaml-cpp node trees converted to nlohmann::json.
#include "tests/kubeapi/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

json Scalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
    return s;  // quoted or explicitly a string
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(
      "[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+");
  int64_t i = 0;
  if (std::regex_match(s, kInt) && absl::SimpleAtoi(s, &i)) {
    return i;
  }
  double d = 0;
  if (std::regex_match(s, kFloat) && absl::SimpleAtod(s, &d)) {
    return d;
  }
  return s;
}

json Convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return Scalar(node);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) {
        arr.push_back(Convert(item));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) {
        obj[kv.first.as<std::string>()] = Convert(kv.second);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::vector<json>> YamlToJson(const std::string& text, const std::string& source) {
  std::vector<json> out;
  try {
    for (const YAML::Node& doc : YAML::LoadAll(text)) {
      if (doc.IsNull() || !doc.IsDefined()) {
        continue;
      }
      out.push_back(Convert(doc));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
  return out;
}

absl::StatusOr<json> ParseBody(const std::string& body) {
  absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(body);
  if (trimmed.empty()) {
    return absl::InvalidArgumentError("the request body is empty");
  }
  if (trimmed.front() == '{' || trimmed.front() == '[') {
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded()) {
      return absl::InvalidArgumentError("the request body is not valid JSON");
    }
    return parsed;
  }
  auto docs = YamlToJson(body, "request body");
  if (!docs.ok()) {
    return docs.status();
  }
  if (docs->size() != 1) {
    return absl::InvalidArgumentError("the request body must hold exactly one document");
  }
  return (*docs)[0];
}

}  // namespace kustodian::kubeapi
