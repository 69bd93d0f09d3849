// Debian's Abseil is built with its own absl::string_view and absl::optional (not the std
// types), so std::string_view does not convert to absl::string_view implicitly. Use Av() at
// the boundary when handing a std::string_view to an Abseil string function.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace kustodian {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace kustodian
