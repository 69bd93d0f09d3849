// meta/v1 Status builders.
#include "tests/kubeapi/api_error.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kustodian::kubeapi {
namespace {

std::string Qualified(const std::string& resource, const std::string& group) {
  return group.empty() ? resource : absl::StrCat(resource, ".", group);
}

json Details(const std::string& name, const std::string& group, const std::string& kind) {
  json d = json::object();
  if (!name.empty()) {
    d["name"] = name;
  }
  if (!group.empty()) {
    d["group"] = group;
  }
  d["kind"] = kind;
  return d;
}

}  // namespace

json ApiError::ToStatus() const {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", message}, {"code", code}};
  if (!reason.empty()) {
    s["reason"] = reason;
  }
  if (!details.is_null()) {
    s["details"] = details;
  }
  return s;
}

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

ApiError NotFound(const std::string& resource, const std::string& group, const std::string& name) {
  return {404, "NotFound",
          absl::StrCat(Qualified(resource, group), " ", GoQuote(name), " not found"),
          Details(name, group, resource)};
}

ApiError AlreadyExists(const std::string& resource, const std::string& group,
                       const std::string& name) {
  return {409, "AlreadyExists",
          absl::StrCat(Qualified(resource, group), " ", GoQuote(name), " already exists"),
          Details(name, group, resource)};
}

ApiError Conflict(const std::string& resource, const std::string& group, const std::string& name,
                  const std::string& why) {
  return {409, "Conflict",
          absl::StrCat("Operation cannot be fulfilled on ", Qualified(resource, group), " ",
                       GoQuote(name), ": ", why),
          Details(name, group, resource)};
}

ApiError Invalid(const std::string& group_kind, const std::string& name, const std::string& kind,
                 const std::string& group, const std::vector<FieldError>& errors) {
  std::vector<std::string> parts;
  json causes = json::array();
  for (const FieldError& e : errors) {
    parts.push_back(e.ToString());
    causes.push_back({{"reason", e.reason}, {"message", e.detail}, {"field", e.field}});
  }
  std::string list =
      parts.size() == 1 ? parts[0] : absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
  json d = Details(name, group, kind);
  d["causes"] = causes;
  return {422, "Invalid", absl::StrCat(group_kind, " ", GoQuote(name), " is invalid: ", list), d};
}

ApiError BadRequest(const std::string& message) { return {400, "BadRequest", message, nullptr}; }
ApiError MethodNotAllowed(const std::string& message) {
  return {405, "MethodNotAllowed", message, nullptr};
}
ApiError Expired(const std::string& message) { return {410, "Expired", message, nullptr}; }
ApiError UnsupportedMediaType(const std::string& message) {
  return {415, "UnsupportedMediaType", message, nullptr};
}
ApiError Unauthorized() { return {401, "Unauthorized", "Unauthorized", nullptr}; }
ApiError ServiceUnavailable(const std::string& message) {
  return {503, "ServiceUnavailable", message, nullptr};
}
ApiError InternalError(const std::string& message) {
  return {500, "InternalError", message, nullptr};
}

}  // namespace kustodian::kubeapi
