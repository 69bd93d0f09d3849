// "Did you mean" suggestions for misspelt field and enum names in manifests. Internal to
// src/manifest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kustodian {

// The candidate closest to `word` when it is a near miss (same letters ignoring case, an edit
// distance of at most 2 (1 for words of up to 4 letters), or one name extending the other, as
// clusterName/cluster), else "".
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// `unknown <what> "word"` + ` (did you mean "x"?)` when there is a near miss + `; valid: a, b, c`.
std::string UnknownNameMessage(std::string_view what, std::string_view word,
                               const std::vector<std::string>& candidates);

}  // namespace kustodian
