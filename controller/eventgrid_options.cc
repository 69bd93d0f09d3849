#include "controller/eventgrid_options.h"

#include <cctype>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controller/options.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

constexpr size_t kMinSecretLength = 16;
constexpr size_t kMinBody = 1024;
constexpr absl::Duration kMaxCoalesce = absl::Seconds(1);
constexpr absl::Duration kMaxCoalesceMax = absl::Seconds(10);

}  // namespace

absl::StatusOr<size_t> ParseByteSize(std::string_view flag, std::string_view text) {
  std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(Av(text)));
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) {
    ++digits;
  }
  const std::string unit = s.substr(digits);
  uint64_t number = 0;
  uint64_t scale = 0;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1024;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = uint64_t{1} << 20;
  }
  if (digits == 0 || scale == 0 || !absl::SimpleAtoi(s.substr(0, digits), &number) ||
      number > (uint64_t{1} << 40) / scale) {
    return absl::InvalidArgumentError(
        absl::StrCat(Av(flag), ": \"", Av(text),
                     "\" is not a byte size; use a number of bytes or KiB/MiB, e.g. 1048576, "
                     "512KiB, 1MiB"));
  }
  return static_cast<size_t>(number * scale);
}

std::vector<std::string> EventGridOptionProblems(const EventGridOptions& o) {
  std::vector<std::string> problems;
  if (!o.enabled()) {
    return problems;
  }
  if (absl::StatusOr<HostPort> hp = ParseBindAddress("--eventgrid-bind-address", o.bind_address);
      !hp.ok()) {
    problems.emplace_back(hp.status().message());
  }
  if (o.secret.empty()) {
    problems.emplace_back(
        "--eventgrid-secret: required when --eventgrid-bind-address is set; give a random "
        "secret of at least 16 characters (better through KUSTODIAN_EVENTGRID_SECRET) and put "
        "the same value in the subscription's endpoint URL as ?code=<secret>");
  } else if (o.secret.size() < kMinSecretLength) {
    problems.emplace_back(absl::StrCat("--eventgrid-secret: ", o.secret.size(),
                                       " characters is too short; use at least ", kMinSecretLength,
                                       " random characters"));
  }
  if (o.max_body < kMinBody || o.max_body > kEventGridMaxBodyLimit) {
    problems.emplace_back(absl::StrCat("--eventgrid-max-body: ", o.max_body,
                                       " bytes is out of range; use 1KiB..8MiB (default 1MiB)"));
  }
  if (o.coalesce < absl::ZeroDuration() || o.coalesce > kMaxCoalesce) {
    problems.emplace_back(absl::StrCat("--eventgrid-coalesce: ", absl::FormatDuration(o.coalesce),
                                       " is out of range; use 0..1s (default 30ms)"));
  }
  if (o.coalesce_max < o.coalesce || o.coalesce_max > kMaxCoalesceMax) {
    problems.emplace_back(
        absl::StrCat("--eventgrid-coalesce-max: ", absl::FormatDuration(o.coalesce_max),
                     " must be at least --eventgrid-coalesce and at most 10s (default 300ms)"));
  }
  return problems;
}

bool SecretsEqual(std::string_view expected, std::string_view given) {
  // Compares every byte of `expected` against `given` (cycled), so the time does not depend on
  // where the first difference is; the lengths are compared in the same accumulator.
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char g = given.empty() ? 0 : static_cast<unsigned char>(given[i % given.size()]);
    diff |= static_cast<unsigned char>(expected[i]) ^ g;
  }
  return diff == 0 && !expected.empty();
}

}  // namespace kustodian
