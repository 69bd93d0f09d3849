#include "src/emulator/ids.h"

#include "absl/strings/str_format.h"

namespace kustodian::emulator {

namespace {

std::string FormatGuid(uint64_t hi, uint64_t lo) {
  // Set the version (4) and variant (10xx) bits so the text looks like a real v4 GUID.
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                         lo >> 48, lo & 0xFFFFFFFFFFFFull);
}

uint64_t Fnv1a(std::string_view s, uint64_t basis) {
  uint64_t h = basis;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 'A' && u <= 'Z') {
      u = static_cast<unsigned char>(u - 'A' + 'a');
    }
    h ^= u;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

std::string RandomSource::NewGuid() {
  uint64_t hi = engine_();
  uint64_t lo = engine_();
  return FormatGuid(hi, lo);
}

double RandomSource::Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

std::string StableGuid(std::string_view key) {
  return FormatGuid(Fnv1a(key, 0xcbf29ce484222325ull), Fnv1a(key, 0x84222325cbf29ce4ull));
}

}  // namespace kustodian::emulator
