// Selector parsing and matching.
#include "tests/kubeapi/selectors.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kustodian::kubeapi {
namespace {

using json = nlohmann::json;

std::string Trim(std::string_view s) {
  return std::string(absl::StripAsciiWhitespace(absl::string_view(s.data(), s.size())));
}

// Splits on commas outside parentheses.
std::vector<std::string> SplitTerms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!Trim(cur).empty()) out.push_back(Trim(cur));
  return out;
}

std::string FieldValue(const json& obj, const std::string& key) {
  std::string path = key;
  if (key == "source" && obj.contains("source")) {
    path = "source.component";
  }
  const json* cur = &obj;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    std::string p(part);
    if (!cur->is_object() || !cur->contains(p)) {
      return "";
    }
    cur = &(*cur)[p];
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

}  // namespace

absl::StatusOr<LabelSelector> LabelSelector::Parse(const std::string& text) {
  LabelSelector sel;
  for (const std::string& term : SplitTerms(text)) {
    if (term.empty()) continue;
    SelectorRequirement r;
    size_t sp = term.find(' ');
    std::string lower = absl::AsciiStrToLower(term);
    if (term.find('(') != std::string::npos && sp != std::string::npos) {
      r.key = term.substr(0, sp);
      std::string rest = Trim(term.substr(sp));
      if (rest.rfind("notin", 0) == 0) {
        r.op = "notin";
      } else if (rest.rfind("in", 0) == 0) {
        r.op = "in";
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unable to parse requirement: ", term));
      }
      size_t open = rest.find('(');
      size_t close = rest.rfind(')');
      if (close == std::string::npos || close < open) {
        return absl::InvalidArgumentError(absl::StrCat("unable to parse requirement: ", term));
      }
      for (absl::string_view v : absl::StrSplit(rest.substr(open + 1, close - open - 1), ',')) {
        r.values.push_back(Trim(std::string_view(v.data(), v.size())));
      }
    } else if (size_t ne = term.find("!="); ne != std::string::npos) {
      r = {Trim(term.substr(0, ne)), "!=", {Trim(term.substr(ne + 2))}};
    } else if (size_t eq2 = term.find("=="); eq2 != std::string::npos) {
      r = {Trim(term.substr(0, eq2)), "=", {Trim(term.substr(eq2 + 2))}};
    } else if (size_t eq = term.find('='); eq != std::string::npos) {
      r = {Trim(term.substr(0, eq)), "=", {Trim(term.substr(eq + 1))}};
    } else if (term[0] == '!') {
      r = {Trim(term.substr(1)), "!exists", {}};
    } else {
      r = {term, "exists", {}};
    }
    sel.reqs_.push_back(r);
  }
  return sel;
}

bool LabelSelector::Matches(const json& labels) const {
  for (const SelectorRequirement& r : reqs_) {
    bool has = labels.is_object() && labels.contains(r.key);
    std::string value = has && labels[r.key].is_string() ? labels[r.key].get<std::string>() : "";
    bool in = false;
    for (const std::string& v : r.values) in = in || (has && v == value);
    if (r.op == "=" && !(has && value == r.values[0])) return false;
    if (r.op == "!=" && has && value == r.values[0]) return false;
    if (r.op == "in" && !in) return false;
    if (r.op == "notin" && in) return false;
    if (r.op == "exists" && !has) return false;
    if (r.op == "!exists" && has) return false;
  }
  return true;
}

absl::StatusOr<FieldSelector> FieldSelector::Parse(const std::string& text) {
  FieldSelector sel;
  for (const std::string& term : SplitTerms(text)) {
    if (term.empty()) continue;
    SelectorRequirement r;
    if (size_t ne = term.find("!="); ne != std::string::npos) {
      r = {Trim(term.substr(0, ne)), "!=", {Trim(term.substr(ne + 2))}};
    } else if (size_t eq2 = term.find("=="); eq2 != std::string::npos) {
      r = {Trim(term.substr(0, eq2)), "=", {Trim(term.substr(eq2 + 2))}};
    } else if (size_t eq = term.find('='); eq != std::string::npos) {
      r = {Trim(term.substr(0, eq)), "=", {Trim(term.substr(eq + 1))}};
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid selector: '", term, "'; can't understand '", term, "'"));
    }
    sel.reqs_.push_back(r);
  }
  return sel;
}

bool FieldSelector::Matches(const json& obj) const {
  for (const SelectorRequirement& r : reqs_) {
    bool equal = FieldValue(obj, r.key) == r.values[0];
    if ((r.op == "=") != equal) return false;
  }
  return true;
}

}  // namespace kustodian::kubeapi
