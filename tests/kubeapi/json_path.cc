// A recursive-descent reader of the JSONPath subset, and its evaluator.
#include "tests/kubeapi/json_path.h"

#include <cctype>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

const json* Walk(const json& v, const std::vector<std::string>& path) {
  const json* cur = &v;
  for (const std::string& p : path) {
    if (!cur->is_object() || !cur->contains(p)) {
      return nullptr;
    }
    cur = &(*cur)[p];
  }
  return cur;
}

}  // namespace

absl::StatusOr<JsonPath> JsonPath::Parse(const std::string& input) {
  std::string expr = input;
  if (expr.size() >= 2 && expr.front() == '{' && expr.back() == '}') {
    expr = expr.substr(1, expr.size() - 2);
  }
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported JSONPath \"", input, "\": ", why));
  };
  JsonPath path;
  size_t i = 0;
  if (i < expr.size() && expr[i] == '$') {
    ++i;
  }
  while (i < expr.size()) {
    if (expr[i] == '.') {
      ++i;
      size_t start = i;
      while (i < expr.size() && IsIdentChar(expr[i])) {
        ++i;
      }
      if (start == i) {
        return bad(absl::StrCat("expected a field name at offset ", start));
      }
      path.steps_.push_back(Step{Step::kField, expr.substr(start, i - start)});
    } else if (expr[i] == '[') {
      size_t close = expr.find(']', i);
      if (close == std::string::npos) {
        return bad("missing ]");
      }
      std::string inner = expr.substr(i + 1, close - i - 1);
      i = close + 1;
      if (inner == "*") {
        path.steps_.push_back(Step{Step::kWildcard});
      } else if (!inner.empty() && (inner[0] == '\'' || inner[0] == '"')) {
        path.steps_.push_back(Step{Step::kField, inner.substr(1, inner.size() - 2)});
      } else if (inner.rfind("?(@.", 0) == 0 && inner.back() == ')') {
        std::string cond = inner.substr(4, inner.size() - 5);
        Step step{Step::kFilter};
        size_t op = cond.find("==");
        if (op == std::string::npos) {
          op = cond.find("!=");
          step.negate = true;
        }
        if (op == std::string::npos) {
          return bad("filters must compare with == or !=");
        }
        std::string lhs = cond.substr(0, op);
        std::string rhs = cond.substr(op + 2);
        while (!lhs.empty() && lhs.back() == ' ') {
          lhs.pop_back();
        }
        while (!rhs.empty() && rhs.front() == ' ') {
          rhs.erase(rhs.begin());
        }
        step.filter_path = absl::StrSplit(lhs, '.');
        if (rhs.size() >= 2 && (rhs[0] == '"' || rhs[0] == '\'')) {
          step.literal = rhs.substr(1, rhs.size() - 2);
        } else {
          json lit = json::parse(rhs, nullptr, false);
          if (lit.is_discarded()) {
            return bad(absl::StrCat("unsupported filter literal ", rhs));
          }
          step.literal = lit;
        }
        path.steps_.push_back(step);
      } else {
        int index = 0;
        if (!absl::SimpleAtoi(inner, &index)) {
          return bad(absl::StrCat("unsupported subscript [", inner, "]"));
        }
        Step step{Step::kIndex};
        step.index = index;
        path.steps_.push_back(step);
      }
    } else {
      return bad(absl::StrCat("unexpected '", std::string(1, expr[i]), "' at offset ", i));
    }
  }
  return path;
}

std::vector<json> JsonPath::Find(const json& doc) const {
  std::vector<json> current = {doc};
  for (const Step& step : steps_) {
    std::vector<json> next;
    for (const json& v : current) {
      switch (step.kind) {
        case Step::kField:
          if (v.is_object() && v.contains(step.field)) {
            next.push_back(v[step.field]);
          }
          break;
        case Step::kIndex:
          if (v.is_array()) {
            int n = static_cast<int>(v.size());
            int idx = step.index < 0 ? n + step.index : step.index;
            if (idx >= 0 && idx < n) {
              next.push_back(v[idx]);
            }
          }
          break;
        case Step::kWildcard:
          if (v.is_array() || v.is_object()) {
            for (const json& item : v) {
              next.push_back(item);
            }
          }
          break;
        case Step::kFilter:
          if (v.is_array()) {
            for (const json& item : v) {
              const json* got = Walk(item, step.filter_path);
              bool equal = got != nullptr && *got == step.literal;
              if (got != nullptr && equal != step.negate) {
                next.push_back(item);
              }
            }
          }
          break;
      }
    }
    current = std::move(next);
  }
  return current;
}

}  // namespace kustodian::kubeapi
