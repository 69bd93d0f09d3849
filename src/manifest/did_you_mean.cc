#include "src/manifest/did_you_mean.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/arm_id.h"
#include "src/core/strings.h"

namespace kustodian {
namespace {

// Edit distance over ASCII-lowered bytes where swapping two adjacent letters counts as one edit
// (optimal string alignment), so "nmae" is one edit from "name".
size_t EditDistance(std::string_view a, std::string_view b) {
  const std::string la = AsciiLower(a);
  const std::string lb = AsciiLower(b);
  std::vector<size_t> before(lb.size() + 1);  // row i - 2
  std::vector<size_t> prev(lb.size() + 1);    // row i - 1
  std::vector<size_t> cur(lb.size() + 1);
  for (size_t j = 0; j <= lb.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= la.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= lb.size(); ++j) {
      const size_t substitute = prev[j - 1] + (la[i - 1] == lb[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
      if (i > 1 && j > 1 && la[i - 1] == lb[j - 2] && la[i - 2] == lb[j - 1]) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[lb.size()];
}

}  // namespace

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  // Words are short in practice; a long hostile key is not worth a quadratic comparison.
  if (word.size() > 256) {
    return "";
  }
  const size_t limit = word.size() <= 4 ? 1 : 2;
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (!best.empty()) {
    return best;
  }
  // One name extends the other: clusterName -> cluster, subscription -> subscriptionId.
  const std::string lword = AsciiLower(word);
  for (const std::string& c : candidates) {
    const std::string lc = AsciiLower(c);
    const std::string& shorter = lc.size() < lword.size() ? lc : lword;
    const std::string& longer = lc.size() < lword.size() ? lword : lc;
    if (shorter.size() >= 4 && longer.compare(0, shorter.size(), shorter) == 0 &&
        c.size() > best.size()) {
      best = c;
    }
  }
  return best;
}

std::string UnknownNameMessage(std::string_view what, std::string_view word,
                               const std::vector<std::string>& candidates) {
  std::string message = absl::StrCat("unknown ", Av(what), " \"", Av(word), "\"");
  const std::string closest = ClosestMatch(word, candidates);
  if (!closest.empty()) {
    absl::StrAppend(&message, " (did you mean \"", closest, "\"?)");
  }
  absl::StrAppend(&message, "; valid: ", absl::StrJoin(candidates, ", "));
  return message;
}

}  // namespace kustodian
