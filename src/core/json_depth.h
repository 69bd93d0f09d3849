// A bound on JSON nesting checked before parsing: nlohmann's parser recurses, so hostile input
// (thousands of '[') would otherwise exhaust the stack.
#pragma once

#include <cstddef>
#include <string_view>

namespace kustodian {

// The deepest nesting of arrays and objects in `text` (string contents skipped; stray closers
// ignored). Stops scanning once the depth passes `limit`, so the cost is linear and a result
// above `limit` means "too deep".
size_t JsonNestingDepth(std::string_view text, size_t limit);

}  // namespace kustodian
