// Loading DataConnection manifests from YAML text or files (directory mode). A file may hold
// many documents; each yields either a spec or errors that name file, line, column and field
// path. Hostile input (huge files, alias bombs, deep nesting, invalid UTF-8) is bounded.
// Nothing here throws: yaml-cpp exceptions are caught at this boundary.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "src/model/data_connection.h"

namespace kustodian {

inline constexpr std::string_view kManifestApiVersion = "kustodian.io/v1alpha1";
inline constexpr std::string_view kManifestKind = "DataConnection";
// The smallest spec.policy.resyncInterval a manifest may ask for.
inline constexpr absl::Duration kMinResyncInterval = absl::Seconds(10);

struct LoadOptions {
  size_t max_file_bytes = 4 << 20;  // larger files are rejected before parsing
  int max_documents = 1000;         // more documents in one file: the file is rejected
  int max_depth = 64;               // deeper documents are rejected
  // Bound on the nodes of one document as seen with aliases expanded (billion-laughs guard).
  int max_nodes_per_document = 100000;
  bool validate = true;  // run ValidateSpec on each DataConnection
};

struct ManifestError {
  std::string file;
  int line = 0;       // 1-based; 0 when unknown
  int column = 0;     // 1-based; 0 when unknown
  std::string field;  // path such as "spec.properties.consumerGroup"; "" for the whole document
  std::string message;

  // "file:line:col: field: message"; the line/column part is left out when the line is 0 and
  // the column when it is 0; "field: " is left out when the field is empty.
  std::string ToString() const;
};

struct LoadedManifest {
  DataConnectionSpec spec;  // spec.source holds file, line, name and namespace
};

struct FileLoadResult {
  std::string file;
  std::vector<LoadedManifest> manifests;  // the documents without errors, in file order
  std::vector<ManifestError> errors;
  std::vector<std::string> warnings;  // "file:line: skipping ..." for documents of other kinds
  // True when the file as a whole is unreadable (I/O error, too large, invalid UTF-8, YAML
  // syntax error, too many documents). Then `manifests` is empty and the caller must keep the
  // file's last good state.
  bool parse_failed = false;
  // DataConnectionId::Key() of documents that were NOT loaded because of errors but whose target
  // could still be read. A caller should keep their last good state rather than treat them as
  // deleted.
  std::vector<std::string> rejected_keys;
};

// Loads the YAML in `text` as if read from `file_name` (used in errors and SourceRef). Never
// fails as a whole: problems are reported in the result (see FileLoadResult). Empty documents are
// skipped; documents of another apiVersion/kind are skipped with a warning; a document with any
// error yields no manifest while the other documents still load.
FileLoadResult LoadManifestText(std::string_view text, const std::string& file_name,
                                const LoadOptions& opts);

// Reads `path` whole into *text when it holds at most `max_bytes` (an oversized file is never
// held whole). Otherwise an error whose message is what LoadManifestFile reports: "cannot open
// file", "cannot read file" or "file is larger than the limit of N bytes".
absl::Status ReadManifestBytes(const std::string& path, size_t max_bytes, std::string* text);

// Reads `path` (at most opts.max_file_bytes) and loads it as LoadManifestText does. A file that
// cannot be read or is too large gives parse_failed=true with one error.
FileLoadResult LoadManifestFile(const std::string& path, const LoadOptions& opts);

}  // namespace kustodian
