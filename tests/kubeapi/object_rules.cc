// Conversions, defaults and validation per type.
#include "tests/kubeapi/object_rules.h"

#include <random>
#include <regex>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

// core v1 field <-> events.k8s.io/v1 field.
const std::vector<std::pair<const char*, const char*>> kEventFields = {
    {"involvedObject", "regarding"},
    {"related", "related"},
    {"message", "note"},
    {"reason", "reason"},
    {"type", "type"},
    {"eventTime", "eventTime"},
    {"series", "series"},
    {"action", "action"},
    {"reportingComponent", "reportingController"},
    {"reportingInstance", "reportingInstance"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
};

json Convert(const json& in, bool to_events_v1) {
  json out = json::object();
  out["metadata"] = in.value("metadata", json::object());
  for (const auto& [core, v1] : kEventFields) {
    const char* from = to_events_v1 ? core : v1;
    const char* to = to_events_v1 ? v1 : core;
    if (in.contains(from) && !in[from].is_null()) {
      out[to] = in[from];
    }
  }
  return out;
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

const std::regex kSubdomain("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
const std::regex kLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

}  // namespace

json ToServed(const ResourceType& type, const json& stored) {
  json out = type.storage == "events" && !type.group.empty() ? Convert(stored, true) : stored;
  out["kind"] = type.kind;
  out["apiVersion"] = type.ApiVersion();
  return out;
}

json ToStorage(const ResourceType& type, const json& served) {
  json out = type.storage == "events" && !type.group.empty() ? Convert(served, false) : served;
  out["kind"] = type.kind;
  out["apiVersion"] = type.storage == "events" ? "v1" : type.ApiVersion();
  return out;
}

void ApplyTypeDefaults(const ResourceType& type, json* obj) {
  if (type.kind == "Secret" && type.group.empty()) {
    if (obj->value("type", "").empty()) {
      (*obj)["type"] = "Opaque";
    }
    if (obj->contains("stringData") && (*obj)["stringData"].is_object()) {
      for (auto it = (*obj)["stringData"].begin(); it != (*obj)["stringData"].end(); ++it) {
        if (it.value().is_string()) {
          (*obj)["data"][it.key()] = absl::Base64Escape(it.value().get<std::string>());
        }
      }
      obj->erase("stringData");
    }
  } else if (type.kind == "Namespace") {
    (*obj)["spec"]["finalizers"] = json::array({"kubernetes"});
    if (!(*obj)["metadata"].contains("deletionTimestamp")) {
      (*obj)["status"]["phase"] = "Active";
    }
    (*obj)["metadata"]["labels"]["kubernetes.io/metadata.name"] =
        (*obj)["metadata"].value("name", "");
  }
}

std::vector<FieldError> ValidateObject(const ResourceType& type, const json& served, bool create) {
  std::vector<FieldError> errs;
  const json& meta = served.value("metadata", json::object());
  std::string name = meta.value("name", "");
  bool label = type.kind == "Namespace";
  if (name.empty()) {
    errs.push_back({"FieldValueRequired", "metadata.name",
                    "Required value: name or generateName is required"});
  } else if (!std::regex_match(name, label ? kLabel : kSubdomain) ||
             name.size() > (label ? 63u : 253u)) {
    errs.push_back(
        {"FieldValueInvalid", "metadata.name",
         label ? absl::StrCat("Invalid value: ", GoQuote(name),
                              ": a lowercase RFC 1123 label must consist of lower case "
                              "alphanumeric characters or '-', and must start and end with an "
                              "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
                              "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
               : absl::StrCat(
                     "Invalid value: ", GoQuote(name),
                     ": a lowercase RFC 1123 subdomain must consist of lower case "
                     "alphanumeric characters, '-' or '.', and must start and end with "
                     "an alphanumeric character (e.g. 'example.com', regex used for "
                     "validation is "
                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")});
  }
  if (type.group == "events.k8s.io" && create) {
    auto required = [&](const char* field, size_t max) {
      std::string v = served.value(field, "");
      if (v.empty()) {
        errs.push_back({"FieldValueRequired", field, "Required value"});
      } else if (v.size() > max) {
        errs.push_back({"FieldValueTooLong", field,
                        absl::StrCat("Too long: may not be more than ", max, " bytes")});
      }
    };
    if (!served.contains("eventTime") || served["eventTime"].is_null()) {
      errs.push_back({"FieldValueRequired", "eventTime", "Required value"});
    }
    required("reportingController", 253);
    required("reportingInstance", 128);
    required("action", 128);
    required("reason", 128);
    std::string t = served.value("type", "");
    if (t != "Normal" && t != "Warning") {
      errs.push_back({"FieldValueInvalid", "type",
                      absl::StrCat("Invalid value: ", GoQuote(t), ": has invalid value: ", t)});
    }
    if (served.value("note", "").size() > 1024) {
      errs.push_back({"FieldValueTooLong", "note", "Too long: may not be more than 1024 bytes"});
    }
    const json& regarding = served.value("regarding", json::object());
    std::string rns = regarding.value("namespace", "");
    if (!rns.empty() && rns != meta.value("namespace", "")) {
      errs.push_back(
          {"FieldValueInvalid", "regarding.namespace",
           absl::StrCat("Invalid value: ", GoQuote(rns), ": does not match event.namespace")});
    }
  }
  return errs;
}

std::string NewUid() {
  uint64_t a = Rng()();
  uint64_t b = Rng()();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF,
                         b >> 48, b & 0xFFFFFFFFFFFFULL);
}

std::string RandomSuffix() {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 5; ++i) {
    out += kAlphabet[Rng()() % (sizeof(kAlphabet) - 1)];
  }
  return out;
}

}  // namespace kustodian::kubeapi
