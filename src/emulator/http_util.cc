#include "src/emulator/http_util.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/core/arm_id.h"
#include "src/core/status.h"
#include "src/core/strings.h"

namespace kustodian::emulator {

std::optional<std::string> GetHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(Av(key), Av(name))) {
      return value;
    }
  }
  return std::nullopt;
}

void SetHeader(HttpHeaders& headers, std::string_view name, std::string_view value) {
  for (auto& [key, existing] : headers) {
    if (absl::EqualsIgnoreCase(Av(key), Av(name))) {
      existing = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::string(value));
}

namespace {

std::string FormDecode(std::string_view s) {
  std::string plus_as_space(s);
  for (char& c : plus_as_space) {
    if (c == '+') {
      c = ' ';
    }
  }
  return PercentDecode(plus_as_space);
}

}  // namespace

std::optional<std::string> GetQuery(const ServerRequest& request, std::string_view name) {
  if (!request.query.empty()) {
    auto it = request.query.find(std::string(name));
    if (it == request.query.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  size_t q = request.raw_target.find('?');
  if (q == std::string::npos) {
    return std::nullopt;
  }
  std::map<std::string, std::string> params =
      ParseForm(std::string_view(request.raw_target).substr(q + 1));
  auto it = params.find(std::string(name));
  if (it == params.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::map<std::string, std::string> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  for (absl::string_view pair : absl::StrSplit(Av(body), '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    std::string key = FormDecode(Sv(pair.substr(0, eq)));
    std::string value = eq == absl::string_view::npos ? "" : FormDecode(Sv(pair.substr(eq + 1)));
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

std::string Base64UrlEncode(std::string_view data) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view data) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : data) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

bool IsLoopbackAddress(std::string_view addr) {
  return addr.empty() || addr == "::1" || addr == "localhost" ||
         absl::StartsWith(Av(addr), "127.") || absl::StartsWith(Av(addr), "::ffff:127.");
}

absl::Status ArmStatus(absl::StatusCode code, std::string_view arm_code, std::string_view message) {
  absl::Status status(code, Av(message));
  SetArmErrorCode(status, arm_code);
  return status;
}

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnimplemented:
      return 405;
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

namespace {

std::string GenericCode(int http_status) {
  switch (http_status) {
    case 400:
      return "BadRequest";
    case 401:
      return "AuthenticationFailed";
    case 403:
      return "AuthorizationFailed";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "GatewayTimeout";
    default:
      return "InternalServerError";
  }
}

}  // namespace

ServerResponse ErrorResponse(const absl::Status& status) {
  int http_status = HttpStatusFor(status);
  std::string code = GetArmErrorCode(status);
  if (code.empty()) {
    code = GenericCode(http_status);
  }
  OrderedJson body;
  body["error"]["code"] = code;
  body["error"]["message"] = std::string(status.message());
  return JsonResponse(http_status, body);
}

ServerResponse JsonResponse(int status, const OrderedJson& body) {
  ServerResponse response;
  response.status = status;
  response.body = body.dump();
  response.content_type = "application/json; charset=utf-8";
  return response;
}

ServerResponse EmptyResponse(int status) {
  ServerResponse response;
  response.status = status;
  response.content_type.clear();
  return response;
}

absl::StatusOr<nlohmann::json> ParseJsonBody(std::string_view body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    return ArmStatus(absl::StatusCode::kInvalidArgument, "InvalidRequestContent",
                     absl::StrCat("The request content was invalid and could not be "
                                  "deserialized: '",
                                  e.what(), "'."));
  }
}

}  // namespace kustodian::emulator
