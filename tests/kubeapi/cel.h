// A small interpreter for the subset of CEL used in CRD x-kubernetes-validations rules:
// literals (string, int, double, bool, null, lists, maps), self / oldSelf, field selection,
// indexing, has(), size(), == != < <= > >= in, && || ! ?:, + - * / %, the string methods
// startsWith endsWith contains matches lowerAscii upperAscii trim, the conversions int()
// string() double(), and the macros all exists exists_one filter map. Anything else is refused
// at Compile() so a CRD that needs more fails at server startup, not silently at runtime.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kustodian::kubeapi::cel {

struct Node;

// Immutable after Compile; thread-safe to Eval concurrently.
class Program {
 public:
  // InvalidArgument naming the unsupported construct and its offset.
  static absl::StatusOr<Program> Compile(const std::string& expression);
  // True when the expression references oldSelf (a transition rule).
  bool UsesOldSelf() const { return uses_old_self_; }
  // Evaluates with `self` (and `old_self` when not null). Returns the value, or
  // InvalidArgument with the CEL runtime error text (e.g. "no such key: x").
  absl::StatusOr<nlohmann::json> Eval(const nlohmann::json& self,
                                      const nlohmann::json* old_self) const;

 private:
  std::shared_ptr<const Node> root_;
  bool uses_old_self_ = false;
};

}  // namespace kustodian::kubeapi::cel
