// Minimal protobuf wire-format reader for the kubectl request bodies listed in the header.
#include "tests/kubeapi/protobuf_body.h"

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

struct Field {
  int number = 0;
  int wire = 0;
  uint64_t varint = 0;
  std::string bytes;
};

// Splits a message into fields; false on malformed input.
bool Parse(const std::string& msg, std::vector<Field>* out) {
  size_t i = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && i < msg.size(); shift += 7) {
      uint8_t b = static_cast<uint8_t>(msg[i++]);
      *v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  while (i < msg.size()) {
    uint64_t key = 0;
    if (!varint(&key)) return false;
    Field f;
    f.number = static_cast<int>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.wire == 0) {
      if (!varint(&f.varint)) return false;
    } else if (f.wire == 2) {
      uint64_t len = 0;
      if (!varint(&len) || i + len > msg.size()) return false;
      f.bytes = msg.substr(i, len);
      i += len;
    } else if (f.wire == 1 || f.wire == 5) {
      i += f.wire == 1 ? 8 : 4;
    } else {
      return false;
    }
    out->push_back(std::move(f));
  }
  return i == msg.size();
}

// map<string, string|bytes> entry: key = 1, value = 2.
std::pair<std::string, std::string> MapEntry(const std::string& entry) {
  std::vector<Field> fields;
  std::pair<std::string, std::string> kv;
  if (Parse(entry, &fields)) {
    for (const Field& f : fields) {
      if (f.number == 1) kv.first = f.bytes;
      if (f.number == 2) kv.second = f.bytes;
    }
  }
  return kv;
}

json ObjectMeta(const std::string& msg) {
  std::vector<Field> fields;
  json meta = json::object();
  if (!Parse(msg, &fields)) return meta;
  for (const Field& f : fields) {
    switch (f.number) {
      case 1:
        meta["name"] = f.bytes;
        break;
      case 2:
        meta["generateName"] = f.bytes;
        break;
      case 3:
        meta["namespace"] = f.bytes;
        break;
      case 11: {
        auto [k, v] = MapEntry(f.bytes);
        meta["labels"][k] = v;
        break;
      }
      case 12: {
        auto [k, v] = MapEntry(f.bytes);
        meta["annotations"][k] = v;
        break;
      }
      case 14:
        meta["finalizers"].push_back(f.bytes);
        break;
      default:
        break;
    }
  }
  return meta;
}

}  // namespace

absl::StatusOr<json> DecodeProtobufBody(const std::string& body) {
  static const std::string kMagic("k8s\0", 4);
  if (body.compare(0, 4, kMagic) != 0) {
    return absl::InvalidArgumentError("not a Kubernetes protobuf envelope");
  }
  std::vector<Field> envelope;
  if (!Parse(body.substr(4), &envelope)) {
    return absl::InvalidArgumentError("malformed protobuf envelope");
  }
  std::string api_version, kind, raw;
  for (const Field& f : envelope) {
    if (f.number == 1) {
      std::vector<Field> tm;
      if (Parse(f.bytes, &tm)) {
        for (const Field& t : tm) {
          if (t.number == 1) api_version = t.bytes;
          if (t.number == 2) kind = t.bytes;
        }
      }
    } else if (f.number == 2) {
      raw = f.bytes;
    }
  }
  if (kind != "Namespace" && kind != "Secret" && kind != "ConfigMap") {
    return absl::InvalidArgumentError(
        absl::StrCat("protobuf bodies of kind ", kind, " are not supported; send JSON"));
  }
  std::vector<Field> fields;
  if (!Parse(raw, &fields)) {
    return absl::InvalidArgumentError("malformed protobuf object");
  }
  json obj = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", json::object()}};
  for (const Field& f : fields) {
    if (f.number == 1) {
      obj["metadata"] = ObjectMeta(f.bytes);
      continue;
    }
    if (kind == "Secret") {
      if (f.number == 2) {
        auto [k, v] = MapEntry(f.bytes);
        obj["data"][k] = absl::Base64Escape(v);
      } else if (f.number == 3) {
        obj["type"] = f.bytes;
      } else if (f.number == 4) {
        auto [k, v] = MapEntry(f.bytes);
        obj["stringData"][k] = v;
      } else if (f.number == 5) {
        obj["immutable"] = f.varint != 0;
      }
    } else if (kind == "ConfigMap") {
      if (f.number == 2) {
        auto [k, v] = MapEntry(f.bytes);
        obj["data"][k] = v;
      } else if (f.number == 3) {
        auto [k, v] = MapEntry(f.bytes);
        obj["binaryData"][k] = absl::Base64Escape(v);
      } else if (f.number == 4) {
        obj["immutable"] = f.varint != 0;
      }
    }
  }
  return obj;
}

}  // namespace kustodian::kubeapi
