#include "src/core/arm_id.h"

#include <cctype>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Splits "/a/b/c" into {"a","b","c"}; rejects empty segments other than a trailing slash, and
// segments that are not UTF-8 once percent-decoded (such a name could not be written to JSON).
absl::StatusOr<std::vector<std::string>> Segments(std::string_view id) {
  absl::string_view s = absl::StripAsciiWhitespace(Av(id));
  if (!absl::ConsumePrefix(&s, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource id '", Av(id), "' must start with '/subscriptions/'"));
  }
  absl::ConsumeSuffix(&s, "/");
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(s, '/')) {
    if (part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource id '", Av(id), "' has an empty path segment"));
    }
    out.push_back(PercentDecode(Sv(part)));
    if (!IsValidUtf8(out.back())) {
      return absl::InvalidArgumentError(absl::StrCat("resource id '", Av(id), "': segment '", part,
                                                     "' is not UTF-8 once percent-decoded"));
    }
  }
  return out;
}

absl::Status Expect(const std::vector<std::string>& seg, size_t i, std::string_view want,
                    std::string_view id) {
  if (i >= seg.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource id '", Av(id), "' is missing the '", Av(want), "' segment"));
  }
  if (!absl::EqualsIgnoreCase(seg[i], Av(want))) {
    return absl::InvalidArgumentError(absl::StrCat("resource id '", Av(id), "': expected '",
                                                   Av(want), "' but found '", seg[i], "'"));
  }
  if (i + 1 >= seg.size() || seg[i + 1].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource id '", Av(id), "' has no value after '", Av(want), "'"));
  }
  return absl::OkStatus();
}

absl::Status ParseDatabasePrefix(const std::vector<std::string>& seg, std::string_view id,
                                 DatabaseId* out) {
  static constexpr std::string_view kWant[] = {"subscriptions", "resourceGroups", "providers"};
  for (size_t i = 0; i < 3; ++i) {
    absl::Status st = Expect(seg, i * 2, kWant[i], id);
    if (!st.ok()) {
      return st;
    }
  }
  if (!absl::EqualsIgnoreCase(seg[5], "Microsoft.Kusto")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resource id '", Av(id), "': provider must be 'Microsoft.Kusto', found '", seg[5], "'"));
  }
  absl::Status st = Expect(seg, 6, "clusters", id);
  if (st.ok()) {
    st = Expect(seg, 8, "databases", id);
  }
  if (!st.ok()) {
    return st;
  }
  out->subscription_id = seg[1];
  out->resource_group = seg[3];
  out->cluster = seg[7];
  out->database = seg[9];
  return absl::OkStatus();
}

int HexValue(char c) {
  return std::isdigit(static_cast<unsigned char>(c))
             ? c - '0'
             : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

std::string DbPath(const DatabaseId& d, bool response_casing) {
  return absl::StrCat(
      "/subscriptions/", PercentEncodeSegment(d.subscription_id), "/resourceGroups/",
      PercentEncodeSegment(d.resource_group), "/providers/Microsoft.Kusto/",
      response_casing ? "Clusters/" : "clusters/", PercentEncodeSegment(d.cluster),
      response_casing ? "/Databases/" : "/databases/", PercentEncodeSegment(d.database));
}

}  // namespace

absl::StatusOr<DatabaseId> DatabaseId::Parse(std::string_view id) {
  absl::StatusOr<std::vector<std::string>> seg = Segments(id);
  if (!seg.ok()) {
    return seg.status();
  }
  if (seg->size() != 10) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", Av(id), "' is not a Kusto database id (/subscriptions/{s}/resourceGroups/{g}/",
        "providers/Microsoft.Kusto/clusters/{c}/databases/{d})"));
  }
  DatabaseId out;
  absl::Status st = ParseDatabasePrefix(*seg, id, &out);
  if (!st.ok()) {
    return st;
  }
  return out;
}

std::string DatabaseId::Key() const { return AsciiLower(DbPath(*this, false)); }
std::string DatabaseId::RequestPath() const { return DbPath(*this, false); }
std::string DatabaseId::ResponseId() const { return DbPath(*this, true); }

absl::StatusOr<DataConnectionId> DataConnectionId::Parse(std::string_view id) {
  absl::StatusOr<std::vector<std::string>> seg = Segments(id);
  if (!seg.ok()) {
    return seg.status();
  }
  if (seg->size() != 12) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", Av(id), "' is not a Kusto data connection id (/subscriptions/{s}/resourceGroups/{g}/",
        "providers/Microsoft.Kusto/clusters/{c}/databases/{d}/dataConnections/{n})"));
  }
  DatabaseId db;
  absl::Status st = ParseDatabasePrefix(*seg, id, &db);
  if (st.ok()) {
    st = Expect(*seg, 10, "dataConnections", id);
  }
  if (!st.ok()) {
    return st;
  }
  return DataConnectionId{db.subscription_id, db.resource_group, db.cluster, db.database,
                          (*seg)[11]};
}

DatabaseId DataConnectionId::Database() const {
  return DatabaseId{subscription_id, resource_group, cluster, database};
}

std::string DataConnectionId::Key() const { return AsciiLower(RequestPath()); }

std::string DataConnectionId::RequestPath() const {
  return absl::StrCat(DbPath(Database(), false), "/dataConnections/", PercentEncodeSegment(name));
}

std::string DataConnectionId::ResponseId() const {
  return absl::StrCat(DbPath(Database(), true), "/DataConnections/", PercentEncodeSegment(name));
}

std::string DataConnectionId::ArmName() const {
  return absl::StrCat(cluster, "/", database, "/", name);
}

absl::StatusOr<ResourceId> ResourceId::Parse(std::string_view id) {
  absl::StatusOr<std::vector<std::string>> seg = Segments(id);
  if (!seg.ok()) {
    return seg.status();
  }
  const std::vector<std::string>& s = *seg;
  ResourceId out;
  absl::Status st = Expect(s, 0, "subscriptions", id);
  if (!st.ok()) {
    return st;
  }
  out.subscription_id = s[1];
  if (s.size() == 2) {
    return out;
  }
  st = Expect(s, 2, "resourceGroups", id);
  if (!st.ok()) {
    return st;
  }
  out.resource_group = s[3];
  if (s.size() == 4) {
    return out;
  }
  st = Expect(s, 4, "providers", id);
  if (!st.ok()) {
    return st;
  }
  out.provider_namespace = s[5];
  size_t i = 6;
  if (i >= s.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource id '", Av(id), "' names a provider but no resource type"));
  }
  for (; i < s.size(); i += 2) {
    if (absl::EqualsIgnoreCase(s[i], "providers") && i + 1 < s.size()) {
      // Extension resource: /providers/{ns} again; keep it as a type/name pair.
      out.types_and_names.emplace_back(s[i], s[i + 1]);
      continue;
    }
    if (i + 1 >= s.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource id '", Av(id), "' has type '", s[i], "' without a name"));
    }
    out.types_and_names.emplace_back(s[i], s[i + 1]);
  }
  return out;
}

std::string ResourceId::FullType() const {
  std::string out = provider_namespace;
  for (const auto& [type, name] : types_and_names) {
    absl::StrAppend(&out, "/", type);
  }
  return out;
}

bool ArmIdsEqual(std::string_view a, std::string_view b) {
  absl::string_view x = Av(a);
  absl::string_view y = Av(b);
  absl::ConsumeSuffix(&x, "/");
  absl::ConsumeSuffix(&y, "/");
  return absl::EqualsIgnoreCase(PercentDecode(Sv(x)), PercentDecode(Sv(y)));
}

std::string AsciiLower(std::string_view s) { return absl::AsciiStrToLower(Av(s)); }

std::string PercentEncodeSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '$' || c == '(' ||
        c == ')') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string EncodeSpacesInUrl(std::string_view url) {
  std::string out;
  out.reserve(url.size());
  for (char c : url) {
    if (c == ' ') {
      out += "%20";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace kustodian
