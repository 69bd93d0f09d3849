#include "src/manifest/input_checks.h"

#include <array>
#include <cstdint>
#include <sstream>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/eventhandler.h"

namespace kustodian {

namespace {

// Ignores every event: only the parser's document loop is of interest.
class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Looks at every scalar the parser reports: one that starts with a quote in the text must have
// its closing quote there too. Each quoted scalar is scanned once, from its opening quote to its
// closing one, so the cost is linear in the text.
class QuoteChecker : public IgnoreEvents {
 public:
  QuoteChecker(std::string_view text, YamlScan* scan) : text_(text), scan_(scan) {
    // yaml-cpp counts positions after a UTF-8 byte order mark.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
      offset_ = 3;
    }
  }

  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    if (scan_->unterminated_quote || mark.is_null() || mark.pos < 0) {
      return;
    }
    const size_t at = static_cast<size_t>(mark.pos) + offset_;
    if (at >= text_.size() || (text_[at] != '"' && text_[at] != '\'')) {
      return;  // a plain or block scalar (or a position this check cannot map: skip it)
    }
    const char quote = text_[at];
    if (!IsClosed(at, quote)) {
      scan_->unterminated_quote = TextPosition{mark.line + 1, mark.column + 1};
      scan_->quote = quote;
    }
  }

 private:
  // True when the quoted scalar opening at `open` has its closing quote. In a double-quoted
  // scalar a backslash escapes the next character; in a single-quoted one '' is a quote.
  bool IsClosed(size_t open, char quote) const {
    for (size_t i = open + 1; i < text_.size(); ++i) {
      const char c = text_[i];
      if (quote == '"' && c == '\\') {
        ++i;
      } else if (c == quote) {
        if (quote == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;
          continue;
        }
        return true;
      }
    }
    return false;
  }

  const std::string_view text_;
  YamlScan* const scan_;
  size_t offset_ = 0;
};

}  // namespace

int CountYamlDocuments(const std::string& text, int limit) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  IgnoreEvents ignore;
  int count = 0;
  while (count <= limit && parser.HandleNextDocument(ignore)) {
    ++count;
  }
  return count;
}

YamlScan ScanYaml(const std::string& text, int limit) {
  YamlScan scan;
  std::istringstream in(text);
  YAML::Parser parser(in);
  QuoteChecker checker(text, &scan);
  while (scan.documents <= limit && parser.HandleNextDocument(checker)) {
    ++scan.documents;
  }
  return scan;
}

std::optional<TextPosition> FindInvalidUtf8(std::string_view text) {
  int line = 1;
  size_t line_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b0 < 0x80) {
      if (b0 == '\n') {
        ++line;
        line_start = i + 1;
      }
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
    }
    bool ok = len != 0 && i + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (ok) {
      static constexpr std::array<uint32_t, 5> kMinForLength = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMinForLength[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {
      return TextPosition{line, static_cast<int>(i - line_start) + 1};
    }
    i += len;
  }
  return std::nullopt;
}

int CountDocumentMarkers(std::string_view text) {
  int count = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, 3, "---") == 0 &&
        (pos + 3 == text.size() || text[pos + 3] == ' ' || text[pos + 3] == '\t' ||
         text[pos + 3] == '\n' || text[pos + 3] == '\r')) {
      ++count;
    }
    const size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      break;
    }
    pos = eol + 1;
  }
  return count;
}

namespace {

class ShapeWalker {
 public:
  ShapeWalker(int max_depth, int max_nodes) : max_depth_(max_depth), max_nodes_(max_nodes) {}

  std::optional<ShapeProblem> Walk(const YAML::Node& node, int depth) {
    if (++visited_ > max_nodes_) {
      return Problem(node, absl::StrCat("document has more than ", max_nodes_,
                                        " nodes once YAML aliases are expanded (alias bomb?)"));
    }
    if (depth > max_depth_) {
      return Problem(node, absl::StrCat("document is nested deeper than ", max_depth_, " levels"));
    }
    if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) {
        path_.push_back(absl::StrCat("[", i, "]"));
        if (auto p = Walk(node[i], depth + 1)) {
          return p;
        }
        path_.pop_back();
      }
    } else if (node.IsMap()) {
      std::unordered_set<std::string> keys;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return Problem(kv.first, "map keys must be plain strings");
        }
        const std::string& key = kv.first.Scalar();
        if (!keys.insert(key).second) {
          path_.push_back(key);
          return Problem(kv.first, absl::StrCat("duplicate key \"", key, "\""));
        }
        path_.push_back(key);
        if (auto p = Walk(kv.second, depth + 1)) {
          return p;
        }
        path_.pop_back();
      }
    }
    return std::nullopt;
  }

 private:
  ShapeProblem Problem(const YAML::Node& node, std::string message) const {
    std::string field;
    for (const std::string& part : path_) {
      if (!field.empty() && (part.empty() || part[0] != '[')) {
        field += '.';
      }
      field += part;
    }
    return ShapeProblem{std::move(field), node.Mark(), std::move(message)};
  }

  const int max_depth_;
  const int max_nodes_;
  int visited_ = 0;
  std::vector<std::string> path_;
};

}  // namespace

std::optional<ShapeProblem> CheckDocumentShape(const YAML::Node& root, int max_depth,
                                               int max_nodes) {
  return ShapeWalker(max_depth, max_nodes).Walk(root, 1);
}

}  // namespace kustodian
