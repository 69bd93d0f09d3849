// Identifiers the emulator hands out: random-looking GUIDs from a seeded generator (request ids,
// operation ids) and stable GUIDs derived from a string (fake managed-identity object ids).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace kustodian::emulator {

// A seeded source of GUIDs and uniform numbers. Not thread-safe (the Emulator guards it).
class RandomSource {
 public:
  explicit RandomSource(uint64_t seed) : engine_(seed) {}
  // A version-4 style GUID, lower-case, no braces.
  std::string NewGuid();
  // Uniform in [0, 1).
  double Uniform();

 private:
  std::mt19937_64 engine_;
};

// A GUID that depends only on `key` (case-insensitive): the same input always yields the same id.
std::string StableGuid(std::string_view key);

}  // namespace kustodian::emulator
