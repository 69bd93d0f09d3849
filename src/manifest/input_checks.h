// Guards against hostile manifest input, run before any field is interpreted: invalid UTF-8
// (checked on the raw bytes) and documents that are too deep or too large once YAML aliases
// are expanded (a "billion laughs" document is tiny as parsed, since yaml-cpp shares aliased
// nodes, but any conversion that copies it would explode). Internal to src/manifest.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "yaml-cpp/yaml.h"

namespace kustodian {

struct TextPosition {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

// The position of the first byte that is not part of valid UTF-8 (overlong forms, surrogates
// and code points past U+10FFFF are invalid), or nullopt when `text` is valid UTF-8.
std::optional<TextPosition> FindInvalidUtf8(std::string_view text);

// The number of document start markers ("---" at the start of a line, then a space, tab or line
// end). YAML forbids that sequence inside any scalar, so this bounds the document count cheaply
// before parsing.
int CountDocumentMarkers(std::string_view text);

// The number of documents yaml-cpp's parser yields for `text`, counting at most `limit` + 1 (so
// the result is > `limit` when there are more). yaml-cpp 0.7's YAML::LoadAll never returns on
// some malformed streams (a stray token such as a lone "," at the top level is never consumed:
// it yields one null document after another, memory growing; fixed upstream in
// jbeder/yaml-cpp#1319, not in Debian 12). Counting first, with a cap, bounds that. Throws what
// the parser throws (YAML::Exception) on a syntax error.
int CountYamlDocuments(const std::string& text, int limit);

struct YamlScan {
  int documents = 0;  // as CountYamlDocuments
  // Where the first quoted scalar that is never closed starts, and its quote character.
  // yaml-cpp 0.7 accepts a quoted scalar that runs to the end of the input (the rest of the file
  // becomes its value, so later fields silently vanish); YAML requires the closing quote.
  std::optional<TextPosition> unterminated_quote;
  char quote = 0;
};

// One pass of yaml-cpp's parser over `text`: CountYamlDocuments plus the unterminated-quote
// check. Throws what the parser throws (YAML::Exception) on a syntax error.
YamlScan ScanYaml(const std::string& text, int limit);

struct ShapeProblem {
  std::string field;  // dotted path to the offending node ("" for the root)
  YAML::Mark mark;    // where it is (0-based, as yaml-cpp reports it)
  std::string message;
};

// Walks `root` with aliases expanded and checks that no node is nested deeper than `max_depth`
// (the root is depth 1), that at most `max_nodes` nodes are visited, that map keys are scalars
// and that no map repeats a key. Stops at the first problem and returns it; nullopt when the
// document is fine. Cost is O(max_nodes) whatever the input.
std::optional<ShapeProblem> CheckDocumentShape(const YAML::Node& root, int max_depth,
                                               int max_nodes);

}  // namespace kustodian
