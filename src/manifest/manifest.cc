#include "src/manifest/manifest.h"

#include <array>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/core/strings.h"
#include "src/manifest/did_you_mean.h"
#include "src/manifest/input_checks.h"
#include "src/manifest/spec_reader.h"
#include "src/model/validation.h"
#include "yaml-cpp/yaml.h"

namespace kustodian {
namespace {

constexpr std::string_view kOwnGroupPrefix = "kustodian.io/";

// Marks the whole file as unreadable with one error.
void FailFile(FileLoadResult* result, int line, int column, std::string message) {
  result->parse_failed = true;
  result->manifests.clear();
  result->errors.push_back(ManifestError{result->file, line, column, "", std::move(message)});
}

ManifestError ErrorAt(const std::string& file, const YAML::Mark& mark, std::string field,
                      std::string message) {
  const bool known = !mark.is_null();
  return ManifestError{file, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0,
                       std::move(field), std::move(message)};
}

// The scalar at top-level `key` of `doc`, or "" when absent or not a scalar.
std::string TopScalar(const YAML::Node& doc, std::string_view key) {
  for (const auto& kv : doc) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) {
      return kv.second.IsScalar() ? kv.second.Scalar() : "";
    }
  }
  return "";
}

bool HasFullTarget(const DataConnectionId& id) {
  return !id.subscription_id.empty() && !id.resource_group.empty() && !id.cluster.empty() &&
         !id.database.empty() && !id.name.empty();
}

// Reads one DataConnection document (already known to have kind DataConnection).
void LoadDataConnection(const YAML::Node& doc, const std::string& api_version,
                        const LoadOptions& opts, FileLoadResult* result) {
  const std::string& file = result->file;
  if (std::optional<ShapeProblem> p =
          CheckDocumentShape(doc, opts.max_depth, opts.max_nodes_per_document)) {
    result->errors.push_back(ErrorAt(file, p->mark, p->field, p->message));
    return;
  }
  SpecReader reader(file, doc);
  if (api_version != kManifestApiVersion) {
    reader.AddError("apiVersion", reader.MarkFor("apiVersion"),
                    absl::StrCat("unsupported apiVersion \"", api_version,
                                 "\" for DataConnection; supported: ", Av(kManifestApiVersion)));
  }
  DataConnectionSpec spec = reader.Read();
  if (reader.Errors().empty() && opts.validate) {
    // Azure's naming rules apply to what a manifest asks for (never to live state).
    for (const ValidationError& v : ValidateTargetNames(spec.id)) {
      reader.AddError(v.field, reader.MarkFor(v.field), v.message);
    }
    for (const ValidationError& v : ValidateSpec(spec)) {
      reader.AddError(v.field, reader.MarkFor(v.field), v.message);
    }
  }
  if (reader.Errors().empty()) {
    result->manifests.push_back(LoadedManifest{std::move(spec)});
    return;
  }
  result->errors.insert(result->errors.end(), reader.Errors().begin(), reader.Errors().end());
  if (HasFullTarget(spec.id)) {
    result->rejected_keys.push_back(spec.id.Key());
  }
}

// Classifies one document and loads it when it is ours.
void LoadDocument(const YAML::Node& doc, const LoadOptions& opts, FileLoadResult* result) {
  const std::string& file = result->file;
  if (doc.IsNull()) {
    return;  // empty document
  }
  if (!doc.IsMap()) {
    result->errors.push_back(
        ErrorAt(file, doc.Mark(), "", "expected a map with apiVersion, kind, metadata and spec"));
    return;
  }
  const std::string api_version = TopScalar(doc, "apiVersion");
  const std::string kind = TopScalar(doc, "kind");
  const int line = doc.Mark().is_null() ? 0 : doc.Mark().line + 1;
  if (kind == kManifestKind) {
    LoadDataConnection(doc, api_version, opts, result);
  } else if (absl::StartsWith(api_version, Av(kOwnGroupPrefix))) {
    // A misspelt kind in our own group must not silently drop the connection.
    result->errors.push_back(
        ErrorAt(file, doc.Mark(), "kind",
                kind.empty() ? std::string("required: DataConnection")
                             : UnknownNameMessage("kind", kind, {std::string(kManifestKind)})));
  } else {
    const std::string what = kind.empty() && api_version.empty()
                                 ? std::string("a document without apiVersion and kind")
                                 : absl::StrCat(kind, " ", api_version);
    result->warnings.push_back(absl::StrCat(file, ":", line, ": skipping ", what, " (not a ",
                                            Av(kManifestApiVersion), " ", Av(kManifestKind), ")"));
  }
}

}  // namespace

std::string ManifestError::ToString() const {
  std::string out = file;
  if (line > 0) {
    absl::StrAppend(&out, ":", line);
    if (column > 0) {
      absl::StrAppend(&out, ":", column);
    }
  }
  absl::StrAppend(&out, ": ");
  if (!field.empty()) {
    absl::StrAppend(&out, field, ": ");
  }
  absl::StrAppend(&out, message);
  return out;
}

FileLoadResult LoadManifestText(std::string_view text, const std::string& file_name,
                                const LoadOptions& opts) {
  FileLoadResult result;
  result.file = file_name;
  if (text.size() > opts.max_file_bytes) {
    FailFile(&result, 0, 0,
             absl::StrCat("file is ", text.size(), " bytes, more than the limit of ",
                          opts.max_file_bytes));
    return result;
  }
  if (std::optional<TextPosition> bad = FindInvalidUtf8(text)) {
    FailFile(&result, bad->line, bad->column, "invalid UTF-8 (manifests must be UTF-8 text)");
    return result;
  }
  // Refuse a flood of documents before yaml-cpp builds a node tree for each.
  if (const int markers = CountDocumentMarkers(text); markers > opts.max_documents) {
    FailFile(&result, 0, 0,
             absl::StrCat("file has at least ", markers, " documents, more than the limit of ",
                          opts.max_documents));
    return result;
  }
  std::vector<YAML::Node> docs;
  try {
    const std::string copy(text);
    // Bounds yaml-cpp's LoadAll, which loops forever on some malformed input (see
    // CountYamlDocuments).
    const YamlScan scan = ScanYaml(copy, opts.max_documents);
    if (scan.documents > opts.max_documents) {
      FailFile(&result, 0, 0,
               absl::StrCat("file has more than the limit of ", opts.max_documents,
                            " documents (if it should hold fewer, look for a YAML syntax error "
                            "such as a stray \",\" or \"]\" at the top level)"));
      return result;
    }
    if (scan.unterminated_quote) {
      const std::string q(1, scan.quote);
      FailFile(&result, scan.unterminated_quote->line, scan.unterminated_quote->column,
               absl::StrCat("YAML syntax error: the ", scan.quote == '"' ? "double" : "single",
                            "-quoted string (", q,
                            ") that starts here is never closed, so the rest of the file would "
                            "become its value; add the closing ",
                            q));
      return result;
    }
    docs = YAML::LoadAll(copy);
  } catch (const YAML::Exception& e) {
    const bool known = !e.mark.is_null();
    // yaml-cpp says only "illegal EOF in scalar" when a quoted string is still open at the end
    // of a file without a final line break.
    const bool open_quote = e.msg == YAML::ErrorMsg::EOF_IN_SCALAR;
    FailFile(&result, known ? e.mark.line + 1 : 0, known ? e.mark.column + 1 : 0,
             absl::StrCat(
                 "YAML syntax error: ", e.msg,
                 open_quote ? " (a quoted string is never closed: add its closing quote)" : ""));
    return result;
  } catch (const std::exception& e) {
    FailFile(&result, 0, 0, absl::StrCat("cannot parse YAML: ", e.what()));
    return result;
  }
  if (docs.size() > static_cast<size_t>(opts.max_documents)) {
    FailFile(&result, 0, 0,
             absl::StrCat("file has ", docs.size(), " documents, more than the limit of ",
                          opts.max_documents));
    return result;
  }
  for (const YAML::Node& doc : docs) {
    const size_t errors_before = result.errors.size();
    try {
      LoadDocument(doc, opts, &result);
    } catch (const std::exception& e) {  // YAML::Exception or nlohmann::json::exception
      // Defensive: nothing in LoadDocument should throw on a shape-checked document.
      result.errors.resize(errors_before);
      result.errors.push_back(
          ErrorAt(file_name, doc.Mark(), "", absl::StrCat("cannot read document: ", e.what())));
    }
  }
  return result;
}

absl::Status ReadManifestBytes(const std::string& path, size_t max_bytes, std::string* text) {
  text->clear();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError("cannot open file");
  }
  // Read in chunks and stop one byte past the limit, so an oversized file is never held whole.
  std::array<char, size_t{64} * 1024> chunk;
  while (text->size() <= max_bytes) {
    in.read(chunk.data(), chunk.size());
    text->append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (!in) {
      break;
    }
  }
  if (in.bad()) {
    return absl::DataLossError("cannot read file");
  }
  if (text->size() > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("file is larger than the limit of ", max_bytes, " bytes"));
  }
  return absl::OkStatus();
}

FileLoadResult LoadManifestFile(const std::string& path, const LoadOptions& opts) {
  std::string text;
  if (absl::Status read = ReadManifestBytes(path, opts.max_file_bytes, &text); !read.ok()) {
    FileLoadResult result;
    result.file = path;
    FailFile(&result, 0, 0, std::string(read.message()));
    return result;
  }
  return LoadManifestText(text, path, opts);
}

}  // namespace kustodian
