// Table columns per type and cell formatting.
#include "tests/kubeapi/table.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/kubeapi/k8s_time.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

struct Column {
  std::string name;
  std::string type;
  std::string format;
  std::string description;
  int priority;
  std::function<json(const json&)> cell;
};

const json* At(const json& obj, std::initializer_list<const char*> path) {
  const json* cur = &obj;
  for (const char* p : path) {
    if (!cur->is_object() || !cur->contains(p)) return nullptr;
    cur = &(*cur)[p];
  }
  return cur;
}

std::string Str(const json& obj, std::initializer_list<const char*> path) {
  const json* v = At(obj, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

json Age(const std::string& timestamp, absl::Time now) {
  auto t = ParseTime(timestamp);
  if (!t) return "<unknown>";
  return HumanDuration(now - *t);
}

json CrdCell(const PrinterColumn& col, const json& obj, absl::Time now) {
  std::vector<json> found = col.path.Find(obj);
  if (found.empty() || found[0].is_null()) return nullptr;
  const json& v = found[0];
  if (col.type == "date") {
    return v.is_string() ? Age(v.get<std::string>(), now) : json(nullptr);
  }
  if (col.type == "string") {
    return v.is_string() ? v : json(v.dump());
  }
  if (col.type == "integer" && v.is_number()) return v.get<int64_t>();
  if (col.type == "number" && v.is_number()) return v;
  if (col.type == "boolean" && v.is_boolean()) return v;
  return v.is_string() ? v : json(v.dump());
}

std::vector<Column> ColumnsFor(const ResourceType& t, absl::Time now) {
  std::vector<Column> cols;
  cols.push_back({"Name", "string", "name",
                  "Name must be unique within a namespace. Is required when creating resources, "
                  "although some resources may allow a client to request the generation of an "
                  "appropriate name automatically. Name is primarily intended for creation "
                  "idempotence and configuration definition. Cannot be updated. More info: "
                  "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
                  0, [](const json& o) {
                    return json(Str(o, {"metadata", "name"}));
                  }});
  auto age = Column{"Age",
                    "string",
                    "",
                    "CreationTimestamp is a timestamp representing the server time when this "
                    "object was created.",
                    0,
                    [now](const json& o) {
                      return Age(Str(o, {"metadata", "creationTimestamp"}), now);
                    }};
  if (t.custom) {
    for (const PrinterColumn& c : t.columns) {
      PrinterColumn copy = c;
      cols.push_back({c.name, c.type, c.format, c.description, c.priority,
                      [copy, now](const json& o) { return CrdCell(copy, o, now); }});
    }
    if (t.columns.empty()) {
      cols.push_back(age);
    }
    return cols;
  }
  if (t.kind == "Namespace") {
    cols.push_back({"Status", "string", "", "The status of the namespace", 0, [](const json& o) {
                      return json(Str(o, {"status", "phase"}));
                    }});
  } else if (t.kind == "Secret") {
    cols.push_back({"Type", "string", "", "The type of the secret", 0,
                    [](const json& o) { return json(Str(o, {"type"})); }});
    cols.push_back(
        {"Data", "string", "", "The number of entries in the secret", 0, [](const json& o) {
           const json* d = At(o, {"data"});
           return json(d != nullptr && d->is_object() ? d->size() : 0);
         }});
  } else if (t.kind == "ConfigMap") {
    cols.push_back({"Data", "string", "", "The number of entries", 0, [](const json& o) {
                      const json* d = At(o, {"data"});
                      return json(d != nullptr && d->is_object() ? d->size() : 0);
                    }});
  } else if (t.kind == "Lease") {
    cols.push_back({"Holder", "string", "", "The holder of the lease", 0, [](const json& o) {
                      return json(Str(o, {"spec", "holderIdentity"}));
                    }});
  } else if (t.kind == "Event") {
    bool core = t.group.empty();
    cols.clear();
    cols.push_back({"Last Seen", "string", "", "Time since the event was last seen", 0,
                    [now, core](const json& o) {
                      std::string ts =
                          core ? Str(o, {"lastTimestamp"}) : Str(o, {"deprecatedLastTimestamp"});
                      if (ts.empty()) ts = Str(o, {"eventTime"});
                      return Age(ts, now);
                    }});
    cols.push_back({"Type", "string", "", "Normal or Warning", 0,
                    [](const json& o) { return json(Str(o, {"type"})); }});
    cols.push_back({"Reason", "string", "", "Why the event happened", 0,
                    [](const json& o) { return json(Str(o, {"reason"})); }});
    cols.push_back(
        {"Object", "string", "", "The object the event is about", 0, [core](const json& o) {
           const char* ref = core ? "involvedObject" : "regarding";
           return json(absl::StrCat(absl::AsciiStrToLower(Str(o, {ref, "kind"})), "/",
                                    Str(o, {ref, "name"})));
         }});
    cols.push_back({"Message", "string", "", "A human-readable description", 0,
                    [core](const json& o) { return json(Str(o, {core ? "message" : "note"})); }});
    return cols;
  } else if (t.kind == "CustomResourceDefinition") {
    cols.push_back(
        {"Created At", "date", "", "When the definition was created", 0, [](const json& o) {
           return json(Str(o, {"metadata", "creationTimestamp"}));
         }});
    return cols;
  }
  cols.push_back(age);
  return cols;
}

}  // namespace

bool WantsTable(const std::string& accept) {
  return absl::StrContains(accept, "as=Table") && absl::StrContains(accept, "g=meta.k8s.io");
}

json BuildTable(const ResourceType& type, const std::vector<json>& objects,
                const std::string& include_object, const std::string& resource_version,
                absl::Time now) {
  std::vector<Column> cols = ColumnsFor(type, now);
  json defs = json::array();
  for (const Column& c : cols) {
    defs.push_back({{"name", c.name},
                    {"type", c.type},
                    {"format", c.format},
                    {"description", c.description},
                    {"priority", c.priority}});
  }
  json rows = json::array();
  for (const json& obj : objects) {
    json cells = json::array();
    for (const Column& c : cols) {
      cells.push_back(c.cell(obj));
    }
    json row = {{"cells", cells}};
    if (include_object == "Object") {
      row["object"] = obj;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", obj.value("metadata", json::object())}};
    }
    rows.push_back(row);
  }
  json meta = json::object();
  if (!resource_version.empty()) {
    meta["resourceVersion"] = resource_version;
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", meta},
          {"columnDefinitions", defs},
          {"rows", rows}};
}

}  // namespace kustodian::kubeapi
