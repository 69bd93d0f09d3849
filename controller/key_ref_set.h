// A sorted set of keys held as pointers to strings owned elsewhere: the keys of the std::map
// whose entries it indexes (std::map never moves a node, so the pointers stay valid until the
// entry is erased, and the owner removes the pointer first). At 10,000 connections an index
// that copied each ~170-byte key cost about 2 MiB.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kustodian {

struct KeyRefLess {
  using is_transparent = void;
  bool operator()(const std::string* a, const std::string* b) const { return *a < *b; }
  bool operator()(const std::string* a, std::string_view b) const { return *a < b; }
  bool operator()(std::string_view a, const std::string* b) const { return a < *b; }
};

using KeyRefSet = std::set<const std::string*, KeyRefLess>;

// The keys of `set`, copied, in order.
inline std::vector<std::string> KeyRefCopies(const KeyRefSet& set) {
  std::vector<std::string> out;
  out.reserve(set.size());
  for (const std::string* key : set) {
    out.push_back(*key);
  }
  return out;
}

}  // namespace kustodian
