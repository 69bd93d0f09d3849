// Kubernetes API errors as meta/v1 Status objects: the codes, reasons and message shapes the
// real kube-apiserver uses (NotFound, AlreadyExists, Conflict, Invalid with causes, Gone/Expired,
// UnsupportedMediaType, ...), and field errors in the k8s.io/apimachinery "field.Error" shape.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace kustodian::kubeapi {

using json = nlohmann::json;

// One field error: "spec.kind: Unsupported value: \"Foo\": supported values: \"A\", \"B\"".
struct FieldError {
  std::string reason;  // FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...
  std::string field;   // "spec.kind"
  std::string detail;  // "Unsupported value: \"Foo\": supported values: \"A\""
  std::string ToString() const { return field + ": " + detail; }
};

// An API error; ToStatus() gives the meta/v1 Status body.
struct ApiError {
  int code = 500;
  std::string reason;  // "NotFound", "Conflict", ... (empty for plain failures)
  std::string message;
  json details;  // null or {"name","group","kind","causes"}
  json ToStatus() const;
};

// The quoted Go %q form of a string ("a\"b" -> "\"a\\\"b\"").
std::string GoQuote(const std::string& s);

// resource = plural, group may be empty: `dataconnections.kustodian.io "x" not found`.
ApiError NotFound(const std::string& resource, const std::string& group, const std::string& name);
ApiError AlreadyExists(const std::string& resource, const std::string& group,
                       const std::string& name);
// "Operation cannot be fulfilled on ... the object has been modified; ...".
ApiError Conflict(const std::string& resource, const std::string& group, const std::string& name,
                  const std::string& why);
// 422 with causes; group_kind = "DataConnection.kustodian.io".
ApiError Invalid(const std::string& group_kind, const std::string& name, const std::string& kind,
                 const std::string& group, const std::vector<FieldError>& errors);
ApiError BadRequest(const std::string& message);
ApiError MethodNotAllowed(const std::string& message);
ApiError Expired(const std::string& message);  // 410 Gone, reason Expired
ApiError UnsupportedMediaType(const std::string& message);
ApiError Unauthorized();
ApiError ServiceUnavailable(const std::string& message);
ApiError InternalError(const std::string& message);

}  // namespace kustodian::kubeapi
