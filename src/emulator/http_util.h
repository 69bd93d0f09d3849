// Small HTTP helpers for the emulator: header and query lookup on ServerRequest (without
// depending on kus_http's out-of-line helpers), form decoding, base64url, RFC 1123 dates,
// ARM-style error responses and the absl::Status <-> HTTP status mapping the emulator uses.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "src/http/server.h"

namespace kustodian::emulator {

using OrderedJson = nlohmann::ordered_json;

// The first header named `name` (case-insensitive), or nullopt.
std::optional<std::string> GetHeader(const HttpHeaders& headers, std::string_view name);
// Replaces (or adds) header `name`.
void SetHeader(HttpHeaders& headers, std::string_view name, std::string_view value);

// The first value of query parameter `name` (exact name; ARM parameter names are fixed), taken
// from request.query, or parsed from raw_target when request.query is empty. nullopt if absent.
std::optional<std::string> GetQuery(const ServerRequest& request, std::string_view name);

// Decodes application/x-www-form-urlencoded text ('+' is a space). Later duplicates are ignored.
std::map<std::string, std::string> ParseForm(std::string_view body);

std::string Base64UrlEncode(std::string_view data);
// Decodes base64url (or standard base64), padding optional. nullopt on invalid input.
std::optional<std::string> Base64Decode(std::string_view data);

// "Tue, 01 May 2025 14:33:06 GMT".
std::string HttpDate(absl::Time t);

// True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost" (and "" = in-process caller).
bool IsLoopbackAddress(std::string_view addr);

// An error status carrying ARM's error code (via SetArmErrorCode). `code` picks the HTTP status:
// see HttpStatusFor.
absl::Status ArmStatus(absl::StatusCode code, std::string_view arm_code, std::string_view message);
// InvalidArgument 400, Unauthenticated 401, PermissionDenied 403, NotFound 404,
// Unimplemented 405, Aborted/AlreadyExists 409, ResourceExhausted 429, Unavailable 503,
// DeadlineExceeded 504, anything else 500.
int HttpStatusFor(const absl::Status& status);
// {"error":{"code":...,"message":...}} with the status mapped by HttpStatusFor. The code is the
// attached ARM code, or a generic one derived from the HTTP status.
ServerResponse ErrorResponse(const absl::Status& status);

// A compact JSON response.
ServerResponse JsonResponse(int status, const OrderedJson& body);
// A response with no body and no Content-Type.
ServerResponse EmptyResponse(int status);

// Parses `body` as JSON. InvalidArgument (ARM code InvalidRequestContent) with the parser's
// message otherwise.
absl::StatusOr<nlohmann::json> ParseJsonBody(std::string_view body);

}  // namespace kustodian::emulator
