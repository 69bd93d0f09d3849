// Resource CRUD: get, list, create, update (PUT), patch, delete, and the status subresource.
#include "tests/kubeapi/api.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/kubeapi/api_server.h"
#include "tests/kubeapi/k8s_time.h"
#include "tests/kubeapi/object_rules.h"
#include "tests/kubeapi/patch.h"
#include "tests/kubeapi/selectors.h"
#include "tests/kubeapi/table.h"
#include "tests/kubeapi/yaml_json.h"

namespace kustodian::kubeapi {
namespace {

constexpr char kModified[] =
    "the object has been modified; please apply your changes to the latest version and try again";

std::string Rv(const json& obj) {
  return obj.value("metadata", json::object()).value("resourceVersion", "");
}

// Everything but metadata and status: what moves metadata.generation.
json SpecPart(const json& obj) {
  json copy = obj;
  copy.erase("metadata");
  copy.erase("status");
  copy.erase("kind");
  copy.erase("apiVersion");
  return copy;
}

// Lets a writer see the old and new object without the resourceVersion.
json WithoutRv(json obj) {
  if (obj.contains("metadata")) obj["metadata"].erase("resourceVersion");
  return obj;
}

ApiError NotFoundFor(const RequestInfo& info) {
  return NotFound(info.type->plural, info.type->group, info.name);
}

std::string FieldValidation(const ServerRequest& req) {
  return req.Query("fieldValidation").value_or("Warn");
}

}  // namespace

ServerResponse JsonResponse(int code, const json& body) {
  ServerResponse r;
  r.status = code;
  r.body = body.dump();
  r.content_type = "application/json";
  return r;
}

ServerResponse ErrorResponse(const ApiError& error) {
  return JsonResponse(error.code, error.ToStatus());
}

bool ParseResourcePath(const Registry& registry, const std::string& path, RequestInfo* info) {
  std::vector<std::string> segs = absl::StrSplit(path, '/', absl::SkipEmpty());
  std::string group;
  std::string version;
  size_t i = 0;
  if (segs.size() >= 3 && segs[0] == "api") {
    version = segs[1];
    i = 2;
  } else if (segs.size() >= 4 && segs[0] == "apis") {
    group = segs[1];
    version = segs[2];
    i = 3;
  } else {
    return false;
  }
  std::vector<std::string> rest(segs.begin() + static_cast<long>(i), segs.end());
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    const ResourceType* t = registry.Find(group, version, rest[2]);
    if (t != nullptr && t->namespaced) {
      info->type = t;
      info->ns = rest[1];
      info->name = rest.size() > 3 ? rest[3] : "";
      info->subresource = rest.size() > 4 ? rest[4] : "";
      return rest.size() <= 5;
    }
  }
  const ResourceType* t = registry.Find(group, version, rest[0]);
  if (t == nullptr) {
    return false;
  }
  info->type = t;
  info->name = rest.size() > 1 ? rest[1] : "";
  info->subresource = rest.size() > 2 ? rest[2] : "";
  if (t->namespaced && !info->name.empty()) {
    return false;  // a namespaced item needs /namespaces/{ns}/
  }
  return rest.size() <= 3;
}

Api::Api(const Registry& registry, ObjectStore& store, const ApiServerOptions& options)
    : registry_(registry), store_(store), options_(options) {}

void Api::AddFailure(const std::string& resource, const std::string& verb, int code, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.push_back(Failure{resource, verb, code, count});
}

void Api::Seed(const ResourceType& type, json obj) {
  ObjectStore::Txn txn(&store_);
  obj["metadata"]["uid"] = NewUid();
  obj["metadata"]["creationTimestamp"] = FormatK8sTime(absl::Now());
  ApplyTypeDefaults(type, &obj);
  txn.Put(type.storage, ToStorage(type, obj), "ADDED");
}

std::optional<ServerResponse> Api::InjectedFailure(const ServerRequest& req,
                                                   const RequestInfo& info) {
  bool write = req.method == "PUT" || req.method == "PATCH" || req.method == "POST" ||
               req.method == "DELETE";
  std::string resource = info.type->plural;
  std::string with_sub = info.subresource.empty() ? resource : resource + "/" + info.subresource;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    bool verb_ok = it->verb.empty() || (it->verb == "write" && write) || it->verb == req.method;
    bool resource_ok = it->resource.empty() || it->resource == resource || it->resource == with_sub;
    if (!verb_ok || !resource_ok) {
      continue;
    }
    int code = it->code;
    if (--it->count <= 0) {
      failures_.erase(it);
    }
    ApiError err;
    if (code == 409) {
      err = Conflict(info.type->plural, info.type->group, info.name, kModified);
    } else if (code == 410) {
      err = Expired("The resourceVersion for the provided list is too old.");
    } else if (code == 429) {
      err = {429, "TooManyRequests", "Too many requests, please try again later.", nullptr};
    } else if (code == 503) {
      err = ServiceUnavailable("the server is currently unable to handle the request");
    } else {
      err = {code, code >= 500 ? "InternalError" : "BadRequest",
             absl::StrCat("injected failure ", code), nullptr};
    }
    ServerResponse r = ErrorResponse(err);
    if (code == 429 || code == 503) {
      r.headers.emplace_back("Retry-After", "1");
    }
    return r;
  }
  return std::nullopt;
}

ServerResponse Api::Serve(const ServerRequest& req, const RequestInfo& info) {
  if (!info.subresource.empty() &&
      (info.subresource != "status" || !(info.type->status_subresource || !info.type->custom))) {
    return ErrorResponse(
        {404, "NotFound", "the server could not find the requested resource", nullptr});
  }
  if (auto failure = InjectedFailure(req, info)) {
    return *failure;
  }
  if (info.type->read_only && req.method != "GET") {
    return ErrorResponse(MethodNotAllowed(
        absl::StrCat("the test API server serves ", info.type->plural, " read-only")));
  }
  std::string watch = req.Query("watch").value_or("");
  if (req.method == "GET") {
    if (!info.name.empty()) return Get(req, info);
    if (watch == "1" || watch == "true") return Watch(req, info);
    return List(req, info);
  }
  if (req.method == "POST" && info.name.empty()) return Create(req, info);
  if (req.method == "PUT" && !info.name.empty()) return Update(req, info);
  if (req.method == "PATCH" && !info.name.empty()) return Patch(req, info);
  if (req.method == "DELETE" && !info.name.empty()) return Delete(req, info);
  return ErrorResponse(MethodNotAllowed(
      absl::StrCat("the server does not allow this method on the requested resource")));
}

ServerResponse Api::Served(int code, const ServerRequest& req, const RequestInfo& info,
                           const json& stored, const std::vector<std::string>& warnings) {
  json served = ToServed(*info.type, stored);
  ServerResponse r;
  if (WantsTable(req.Header("Accept").value_or(""))) {
    r = JsonResponse(
        code, BuildTable(*info.type, {served}, req.Query("includeObject").value_or("Metadata"),
                         Rv(served), absl::Now()));
  } else {
    r = JsonResponse(code, served);
  }
  for (const std::string& w : warnings) {
    r.headers.emplace_back("Warning", absl::StrCat("299 - ", GoQuote(w)));
  }
  return r;
}

ServerResponse Api::Get(const ServerRequest& req, const RequestInfo& info) {
  ObjectStore::Txn txn(&store_);
  const json* obj = txn.Get(info.type->storage, info.ns, info.name);
  if (obj == nullptr) {
    return ErrorResponse(NotFoundFor(info));
  }
  return Served(200, req, info, *obj, {});
}

ServerResponse Api::List(const ServerRequest& req, const RequestInfo& info) {
  auto labels = LabelSelector::Parse(req.Query("labelSelector").value_or(""));
  if (!labels.ok()) return ErrorResponse(BadRequest(std::string(labels.status().message())));
  auto fields = FieldSelector::Parse(req.Query("fieldSelector").value_or(""));
  if (!fields.ok()) return ErrorResponse(BadRequest(std::string(fields.status().message())));
  for (const SelectorRequirement& r : fields->requirements()) {
    const auto& allowed = info.type->field_selectors;
    if (r.key != "metadata.name" && r.key != "metadata.namespace" &&
        std::find(allowed.begin(), allowed.end(), r.key) == allowed.end()) {
      return ErrorResponse(BadRequest(absl::StrCat("field label not supported: ", r.key)));
    }
  }
  int64_t limit = 0;
  absl::SimpleAtoi(req.Query("limit").value_or("0"), &limit);
  std::string after;
  if (auto cont = req.Query("continue"); cont && !cont->empty()) {
    if (!absl::WebSafeBase64Unescape(*cont, &after)) {
      return ErrorResponse(BadRequest("continue key is not valid"));
    }
  }
  json items = json::array();
  std::string rv;
  std::string next;
  {
    ObjectStore::Txn txn(&store_);
    rv = std::to_string(txn.CurrentRv());
    for (const json* stored : txn.List(info.type->storage, info.ns)) {
      json served = ToServed(*info.type, *stored);
      const json& meta = served["metadata"];
      std::string key = absl::StrCat(meta.value("namespace", ""), "/", meta.value("name", ""));
      if (!after.empty() && key <= after) continue;
      if (!labels->Matches(meta.value("labels", json::object())) || !fields->Matches(served)) {
        continue;
      }
      if (limit > 0 && static_cast<int64_t>(items.size()) == limit) {
        const json& last = items.back()["metadata"];
        next = absl::WebSafeBase64Escape(
            absl::StrCat(last.value("namespace", ""), "/", last.value("name", "")));
        break;
      }
      items.push_back(std::move(served));
    }
  }
  if (WantsTable(req.Header("Accept").value_or(""))) {
    std::vector<json> objs(items.begin(), items.end());
    json table = BuildTable(*info.type, objs, req.Query("includeObject").value_or("Metadata"), rv,
                            absl::Now());
    if (!next.empty()) table["metadata"]["continue"] = next;
    return JsonResponse(200, table);
  }
  json meta = {{"resourceVersion", rv}};
  if (!next.empty()) meta["continue"] = next;
  return JsonResponse(200, {{"kind", info.type->kind + "List"},
                            {"apiVersion", info.type->ApiVersion()},
                            {"metadata", meta},
                            {"items", items}});
}

ServerResponse Api::Create(const ServerRequest& req, const RequestInfo& info) {
  auto body = ParseBody(req.body);
  if (!body.ok() || !body->is_object()) {
    return ErrorResponse(BadRequest(body.ok() ? "the request body must be an object"
                                              : std::string(body.status().message())));
  }
  ObjectStore::Txn txn(&store_);
  return CreateLocked(txn, req, info, *body);
}

ServerResponse Api::CreateLocked(ObjectStore::Txn& txn, const ServerRequest& req,
                                 const RequestInfo& info, json obj) {
  const ResourceType& t = *info.type;
  if (obj.contains("kind") && obj["kind"] != t.kind) {
    return ErrorResponse(BadRequest(absl::StrCat("the kind of the object (", obj["kind"].dump(),
                                                 ") does not match the resource (", t.kind, ")")));
  }
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (t.namespaced) {
    std::string body_ns = meta.value("namespace", "");
    if (!body_ns.empty() && body_ns != info.ns) {
      return ErrorResponse(BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request"));
    }
    meta["namespace"] = info.ns;
    const ResourceType* ns_type = registry_.Find("", "v1", "namespaces");
    if (txn.Get(ns_type->storage, "", info.ns) == nullptr) {
      return ErrorResponse(NotFound("namespaces", "", info.ns));
    }
  } else {
    meta.erase("namespace");
  }
  if (meta.value("name", "").empty() && !meta.value("generateName", "").empty()) {
    meta["name"] = meta["generateName"].get<std::string>() + RandomSuffix();
  }
  std::vector<FieldError> errs = ValidateObject(t, obj, true);
  std::string name = meta.value("name", "");
  if (!errs.empty()) {
    return ErrorResponse(Invalid(t.GroupKind(), name, t.kind, t.group, errs));
  }
  if (txn.Get(t.storage, info.ns, name) != nullptr) {
    return ErrorResponse(AlreadyExists(t.plural, t.group, name));
  }
  for (const char* f : {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "managedFields", "selfLink"}) {
    meta.erase(f);
  }
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = FormatK8sTime(absl::Now());
  if (t.HasGeneration()) meta["generation"] = 1;
  if (t.custom && t.status_subresource) obj.erase("status");
  obj["apiVersion"] = t.ApiVersion();
  obj["kind"] = t.kind;
  std::vector<std::string> unknown;
  if (t.schema != nullptr) {
    t.schema->PruneAndDefault(&obj, &unknown);
    if (!unknown.empty() && FieldValidation(req) == "Strict") {
      return ErrorResponse(BadRequest(
          absl::StrCat(t.kind, " in version \"", t.version, "\" cannot be handled as a ", t.kind,
                       ": strict decoding error: unknown field \"", unknown[0], "\"")));
    }
    errs = t.schema->Validate(obj, nullptr);
    if (!errs.empty()) {
      return ErrorResponse(Invalid(t.GroupKind(), name, t.kind, t.group, errs));
    }
  }
  json stored = ToStorage(t, obj);
  ApplyTypeDefaults(t, &stored);
  stored = txn.Put(t.storage, stored, "ADDED");
  std::vector<std::string> warnings;
  if (FieldValidation(req) == "Warn") {
    for (const std::string& u : unknown)
      warnings.push_back(absl::StrCat("unknown field \"", u, "\""));
  }
  return Served(201, req, info, stored, warnings);
}

ServerResponse Api::Update(const ServerRequest& req, const RequestInfo& info) {
  auto body = ParseBody(req.body);
  if (!body.ok() || !body->is_object()) {
    return ErrorResponse(BadRequest(body.ok() ? "the request body must be an object"
                                              : std::string(body.status().message())));
  }
  const json& meta = body->value("metadata", json::object());
  if (meta.value("name", "") != info.name) {
    return ErrorResponse(
        BadRequest(absl::StrCat("the name of the object (", meta.value("name", ""),
                                ") does not match the name on the URL (", info.name, ")")));
  }
  ObjectStore::Txn txn(&store_);
  const json* current = txn.Get(info.type->storage, info.ns, info.name);
  if (current == nullptr) {
    return ErrorResponse(NotFoundFor(info));
  }
  std::string rv = meta.value("resourceVersion", "");
  if (rv.empty() && info.type->custom) {
    return ErrorResponse(Invalid(info.type->GroupKind(), info.name, info.type->kind,
                                 info.type->group,
                                 {{"FieldValueInvalid", "metadata.resourceVersion",
                                   "Invalid value: 0x0: must be specified for an update"}}));
  }
  if (!rv.empty() && rv != Rv(*current)) {
    return ErrorResponse(Conflict(info.type->plural, info.type->group, info.name, kModified));
  }
  json copy = *current;
  return CommitLocked(txn, req, info, copy, *body);
}

ServerResponse Api::Patch(const ServerRequest& req, const RequestInfo& info) {
  const ResourceType& t = *info.type;
  std::string ct = req.Header("Content-Type").value_or("");
  PatchType type = PatchTypeFromContentType(ct);
  if (type == PatchType::kUnknown || (type == PatchType::kStrategic && t.custom)) {
    return ErrorResponse(UnsupportedMediaType(absl::StrCat(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml",
        t.custom ? "" : ", application/strategic-merge-patch+json")));
  }
  ObjectStore::Txn txn(&store_);
  const json* current = txn.Get(t.storage, info.ns, info.name);
  if (current == nullptr) {
    if (type == PatchType::kApply && info.subresource.empty()) {
      auto patched = ApplyPatch(json::object(), req.body, type);
      if (!patched.ok()) return ErrorResponse(BadRequest(std::string(patched.status().message())));
      return CreateLocked(txn, req, info, *patched);
    }
    return ErrorResponse(NotFoundFor(info));
  }
  json stored = *current;
  json served = ToServed(t, stored);
  auto patched = ApplyPatch(served, req.body, type);
  if (!patched.ok()) {
    if (type == PatchType::kJson) {
      return ErrorResponse({422, "Invalid", std::string(patched.status().message()), nullptr});
    }
    return ErrorResponse(BadRequest(std::string(patched.status().message())));
  }
  std::string rv = Rv(*patched);
  if (!rv.empty() && rv != Rv(stored)) {
    return ErrorResponse(Conflict(t.plural, t.group, info.name, kModified));
  }
  if (patched->value("metadata", json::object()).value("name", "") != info.name) {
    return ErrorResponse(BadRequest("metadata.name cannot be changed by a patch"));
  }
  return CommitLocked(txn, req, info, stored, *patched);
}

ServerResponse Api::CommitLocked(ObjectStore::Txn& txn, const ServerRequest& req,
                                 const RequestInfo& info, const json& current, json proposed) {
  const ResourceType& t = *info.type;
  json next;
  if (info.subresource == "status") {
    next = current;
    json proposed_storage = ToStorage(t, proposed);
    if (proposed_storage.contains("status")) {
      next["status"] = proposed_storage["status"];
    } else {
      next.erase("status");
    }
  } else {
    next = ToStorage(t, proposed);
    if (!next["metadata"].is_object()) next["metadata"] = json::object();
    json& meta = next["metadata"];
    const json& old_meta = current["metadata"];
    for (const char* f : {"uid", "creationTimestamp", "namespace", "name", "generation",
                          "deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"}) {
      if (old_meta.contains(f)) {
        meta[f] = old_meta[f];
      } else {
        meta.erase(f);
      }
    }
    meta.erase("managedFields");
    if (t.custom && t.status_subresource) {
      if (current.contains("status")) {
        next["status"] = current["status"];
      } else {
        next.erase("status");
      }
    }
    if (old_meta.contains("deletionTimestamp")) {
      json old_f = old_meta.value("finalizers", json::array());
      std::vector<std::string> added;
      for (const json& f : meta.value("finalizers", json::array())) {
        if (std::find(old_f.begin(), old_f.end(), f) == old_f.end()) {
          added.push_back(f.get<std::string>());
        }
      }
      if (!added.empty()) {
        std::string list;
        for (const std::string& a : added) {
          list += (list.empty() ? "" : ", ") + GoQuote(a);
        }
        return ErrorResponse(Invalid(
            t.GroupKind(), info.name, t.kind, t.group,
            {{"FieldValueForbidden", "metadata.finalizers",
              absl::StrCat("Forbidden: no new finalizers can be added if the object is being "
                           "deleted, found new finalizers []string{",
                           list, "}")}}));
      }
    }
  }
  ApplyTypeDefaults(t, &next);
  std::vector<std::string> unknown;
  if (t.schema != nullptr) {
    t.schema->PruneAndDefault(&next, &unknown);
    if (!unknown.empty() && FieldValidation(req) == "Strict") {
      return ErrorResponse(BadRequest(
          absl::StrCat(t.kind, " in version \"", t.version, "\" cannot be handled as a ", t.kind,
                       ": strict decoding error: unknown field \"", unknown[0], "\"")));
    }
    std::vector<FieldError> errs = t.schema->Validate(next, &current);
    if (!errs.empty()) {
      return ErrorResponse(Invalid(t.GroupKind(), info.name, t.kind, t.group, errs));
    }
  }
  std::vector<FieldError> errs = ValidateObject(t, ToServed(t, next), false);
  if (!errs.empty()) {
    return ErrorResponse(Invalid(t.GroupKind(), info.name, t.kind, t.group, errs));
  }
  if (t.HasGeneration() && SpecPart(next) != SpecPart(current)) {
    next["metadata"]["generation"] = current["metadata"].value("generation", 1) + 1;
  }
  std::vector<std::string> warnings;
  if (FieldValidation(req) == "Warn") {
    for (const std::string& u : unknown)
      warnings.push_back(absl::StrCat("unknown field \"", u, "\""));
  }
  if (WithoutRv(next) == WithoutRv(current)) {
    return Served(200, req, info, current, warnings);  // no-op: no new resourceVersion
  }
  const json& meta = next["metadata"];
  if (meta.contains("deletionTimestamp") && meta.value("finalizers", json::array()).empty()) {
    txn.Put(t.storage, next, "MODIFIED");
    json gone = txn.Erase(t.storage, info.ns, info.name);
    return Served(200, req, info, gone, warnings);
  }
  json stored = txn.Put(t.storage, next, "MODIFIED");
  return Served(200, req, info, stored, warnings);
}

ServerResponse Api::Delete(const ServerRequest& req, const RequestInfo& info) {
  const ResourceType& t = *info.type;
  json options = json::object();
  if (!req.body.empty()) {
    auto body = ParseBody(req.body);
    if (!body.ok()) return ErrorResponse(BadRequest(std::string(body.status().message())));
    options = *body;
  }
  ObjectStore::Txn txn(&store_);
  const json* current = txn.Get(t.storage, info.ns, info.name);
  if (current == nullptr) {
    return ErrorResponse(NotFoundFor(info));
  }
  json obj = *current;
  const json& meta = obj["metadata"];
  if (options.contains("preconditions") && options["preconditions"].is_object()) {
    const json& pre = options["preconditions"];
    std::string uid = pre.value("uid", "");
    std::string rv = pre.value("resourceVersion", "");
    if (!uid.empty() && uid != meta.value("uid", "")) {
      return ErrorResponse(Conflict(t.plural, t.group, info.name,
                                    absl::StrCat("Precondition failed: UID in precondition: ", uid,
                                                 ", UID in object meta: ", meta.value("uid", ""))));
    }
    if (!rv.empty() && rv != Rv(obj)) {
      return ErrorResponse(
          Conflict(t.plural, t.group, info.name,
                   absl::StrCat("Precondition failed: ResourceVersion in precondition: ", rv,
                                ", ResourceVersion in object meta: ", Rv(obj))));
    }
  }
  if (t.kind == "Namespace") {
    return DeleteNamespaceLocked(txn, obj);
  }
  if (!meta.value("finalizers", json::array()).empty()) {
    if (!meta.contains("deletionTimestamp")) {
      if (meta.value("generation", 0) > 0) {
        obj["metadata"]["generation"] = meta.value("generation", 0) + 1;
      }
      obj["metadata"]["deletionTimestamp"] = FormatK8sTime(absl::Now());
      obj["metadata"]["deletionGracePeriodSeconds"] = 0;
      obj = txn.Put(t.storage, obj, "MODIFIED");
    }
    return Served(200, req, info, obj, {});
  }
  json gone = txn.Erase(t.storage, info.ns, info.name);
  json details = {{"name", info.name}, {"kind", t.plural}, {"uid", meta.value("uid", "")}};
  if (!t.group.empty()) details["group"] = t.group;
  return JsonResponse(200, {{"kind", "Status"},
                            {"apiVersion", "v1"},
                            {"metadata", json::object()},
                            {"status", "Success"},
                            {"details", details}});
}

ServerResponse Api::DeleteNamespaceLocked(ObjectStore::Txn& txn, const json& ns) {
  std::string name = ns["metadata"].value("name", "");
  std::vector<std::string> seen;
  for (const ResourceType& t : registry_.types()) {
    if (!t.namespaced || std::find(seen.begin(), seen.end(), t.storage) != seen.end()) continue;
    seen.push_back(t.storage);
    std::vector<json> objects;
    for (const json* o : txn.List(t.storage, name)) objects.push_back(*o);
    for (json& o : objects) {
      json& meta = o["metadata"];
      if (meta.value("finalizers", json::array()).empty()) {
        txn.Erase(t.storage, name, meta.value("name", ""));
      } else if (!meta.contains("deletionTimestamp")) {
        meta["deletionTimestamp"] = FormatK8sTime(absl::Now());
        meta["deletionGracePeriodSeconds"] = 0;
        txn.Put(t.storage, o, "MODIFIED");
      }
    }
  }
  const ResourceType* ns_type = registry_.Find("", "v1", "namespaces");
  json gone = txn.Erase(ns_type->storage, "", name);
  gone["status"]["phase"] = "Terminating";
  return JsonResponse(200, ToServed(*ns_type, gone));
}

}  // namespace kustodian::kubeapi
