// Patch application over nlohmann::json.
#include "tests/kubeapi/patch.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/kubeapi/yaml_json.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

void Strategic(json* target, const json& patch, const std::string& path) {
  if (!patch.is_object()) {
    *target = patch;
    return;
  }
  if (patch.value("$patch", "") == "replace") {
    json copy = patch;
    copy.erase("$patch");
    *target = copy;
    return;
  }
  if (!target->is_object()) {
    *target = json::object();
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& key = it.key();
    if (absl::StartsWith(key, "$deleteFromPrimitiveList/")) {
      std::string field = key.substr(std::string("$deleteFromPrimitiveList/").size());
      if (target->contains(field) && (*target)[field].is_array() && it.value().is_array()) {
        json kept = json::array();
        for (const json& v : (*target)[field]) {
          bool drop = false;
          for (const json& d : it.value()) {
            drop = drop || d == v;
          }
          if (!drop) {
            kept.push_back(v);
          }
        }
        (*target)[field] = kept;
      }
      continue;
    }
    if (absl::StartsWith(key, "$")) {
      continue;  // $setElementOrder, $retainKeys: ordering/retention hints, ignored
    }
    if (it.value().is_null()) {
      target->erase(key);
    } else if (it.value().is_object() && it.value().value("$patch", "") == "delete") {
      target->erase(key);
    } else if (path == "metadata" && key == "finalizers" && it.value().is_array() &&
               target->contains(key) && (*target)[key].is_array()) {
      json merged = (*target)[key];
      for (const json& v : it.value()) {
        if (std::find(merged.begin(), merged.end(), v) == merged.end()) {
          merged.push_back(v);
        }
      }
      (*target)[key] = merged;
    } else if (it.value().is_object()) {
      Strategic(&(*target)[key], it.value(), path.empty() ? key : path + "." + key);
    } else {
      (*target)[key] = it.value();
    }
  }
}

}  // namespace

PatchType PatchTypeFromContentType(const std::string& content_type) {
  std::string ct = content_type.substr(0, content_type.find(';'));
  if (ct == "application/merge-patch+json") return PatchType::kMerge;
  if (ct == "application/json-patch+json") return PatchType::kJson;
  if (ct == "application/strategic-merge-patch+json") return PatchType::kStrategic;
  if (ct == "application/apply-patch+yaml" || ct == "application/apply-patch+cbor") {
    return PatchType::kApply;
  }
  return PatchType::kUnknown;
}

absl::StatusOr<json> ApplyPatch(const json& target, const std::string& patch, PatchType type) {
  json parsed;
  if (type == PatchType::kApply) {
    auto body = ParseBody(patch);
    if (!body.ok()) {
      return body.status();
    }
    parsed = *body;
  } else {
    parsed = json::parse(patch, nullptr, false);
    if (parsed.is_discarded()) {
      return absl::InvalidArgumentError("the patch is not valid JSON");
    }
  }
  json out = target;
  switch (type) {
    case PatchType::kMerge:
    case PatchType::kApply:
      if (!parsed.is_object()) {
        return absl::InvalidArgumentError("a merge patch must be a JSON object");
      }
      out.merge_patch(parsed);
      return out;
    case PatchType::kJson:
      if (!parsed.is_array()) {
        return absl::InvalidArgumentError("a JSON patch must be an array of operations");
      }
      try {
        return target.patch(parsed);
      } catch (const json::exception& e) {
        return absl::InvalidArgumentError(absl::StrCat("the JSON patch failed: ", e.what()));
      }
    case PatchType::kStrategic:
      if (!parsed.is_object()) {
        return absl::InvalidArgumentError("a strategic merge patch must be a JSON object");
      }
      Strategic(&out, parsed, "");
      return out;
    case PatchType::kUnknown:
      break;
  }
  return absl::InvalidArgumentError("unsupported patch type");
}

}  // namespace kustodian::kubeapi
