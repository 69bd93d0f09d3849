// URL and header helpers of the HTTP seam: FindHeader, ParseUrl, IsLoopbackHost, UrlEncode.
// Pure functions, no I/O (besides the default HttpTransport::SendStreaming, which delegates to
// Send); the transport and the server build on them.
#include "src/http/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Rejects bytes that must never reach a request line: controls, space, DEL and non-ASCII.
bool HasForbiddenUrlByte(std::string_view url) {
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) {
      return true;
    }
  }
  return false;
}

bool IsRegNameChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

bool IsIpv6LiteralChar(unsigned char c) { return absl::ascii_isxdigit(c) || c == ':' || c == '.'; }

// Parses "host[:port]" or "[v6]:port" into `out` (host without brackets).
absl::Status ParseAuthority(std::string_view authority, ParsedUrl& out) {
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError("URL must not carry user info (user@host)");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("URL has an unterminated IPv6 literal");
    }
    std::string_view host = authority.substr(1, close - 1);
    for (unsigned char c : host) {
      if (!IsIpv6LiteralChar(c)) {
        return absl::InvalidArgumentError("URL has an invalid IPv6 literal");
      }
    }
    out.host = std::string(host);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return absl::InvalidArgumentError("URL has junk after the IPv6 literal");
      }
      port_text = rest.substr(1);
      if (port_text.empty()) {
        return absl::InvalidArgumentError("URL has an empty port");
      }
    }
  } else {
    size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    for (unsigned char c : host) {
      if (!IsRegNameChar(c)) {
        return absl::InvalidArgumentError("URL host has an invalid character");
      }
    }
    out.host = absl::AsciiStrToLower(Av(host));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        return absl::InvalidArgumentError("URL has an empty port");
      }
    }
  }
  if (out.host.empty()) {
    return absl::InvalidArgumentError("URL has an empty host");
  }
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError("URL port is not a number");
      }
    }
    if (port_text.size() > 5 || !absl::SimpleAtoi(Av(port_text), &port) || port < 1 ||
        port > 65535) {
      return absl::InvalidArgumentError("URL port is out of range 1..65535");
    }
    out.port = port;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status HttpTransport::SendStreaming(
    const HttpRequest& request,
    const std::function<bool(int status, const HttpHeaders&)>& on_headers,
    const std::function<bool(std::string_view chunk)>& on_data, const std::atomic<bool>* cancel) {
  if (cancel != nullptr && cancel->load()) {
    return absl::OkStatus();
  }
  absl::StatusOr<HttpResponse> response = Send(request);
  if (!response.ok()) {
    return response.status();
  }
  if (!on_headers(response->status, response->headers)) {
    return absl::OkStatus();
  }
  if (!response->body.empty() && (cancel == nullptr || !cancel->load())) {
    on_data(response->body);
  }
  return absl::OkStatus();
}

std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, Av(name))) {
      return value;
    }
  }
  return std::nullopt;
}

absl::StatusOr<ParsedUrl> ParseUrl(std::string_view url) {
  if (HasForbiddenUrlByte(url)) {
    return absl::InvalidArgumentError(
        "URL contains a space, control or non-ASCII byte (it must be percent-encoded)");
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return absl::InvalidArgumentError("URL is not absolute (expected scheme://host/...)");
  }
  ParsedUrl out;
  out.scheme = absl::AsciiStrToLower(Av(url.substr(0, sep)));
  if (out.scheme == "http") {
    out.port = 80;
  } else if (out.scheme == "https") {
    out.port = 443;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("URL scheme \"", out.scheme, "\" is not http or https"));
  }
  std::string_view rest = url.substr(sep + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (absl::Status s = ParseAuthority(authority, out); !s.ok()) {
    return s;
  }
  std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  size_t fragment = path_and_query.find('#');
  if (fragment != std::string_view::npos) {
    path_and_query = path_and_query.substr(0, fragment);
  }
  if (path_and_query.empty() || path_and_query.front() != '/') {
    out.path_and_query = absl::StrCat("/", Av(path_and_query));
  } else {
    out.path_and_query = std::string(path_and_query);
  }
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  if (absl::EqualsIgnoreCase(Av(host), "localhost") ||
      absl::EqualsIgnoreCase(Av(host), "localhost.")) {
    return true;
  }
  std::string text(host);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0) {
      return true;
    }
    // IPv4-mapped ::ffff:127.x.y.z
    static constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0,    0,
                                                                    0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(v6.s6_addr, kMappedPrefix.data(), kMappedPrefix.size()) == 0 &&
           v6.s6_addr[12] == 127;
  }
  return false;
}

std::string UrlEncode(std::string_view s) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace kustodian
