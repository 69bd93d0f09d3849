// Reads the fields of one DataConnection YAML document into a DataConnectionSpec, collecting
// every problem with its field path and position, and remembering where each field was written
// so that later (validation) errors can be pointed at the right line. Internal to src/manifest.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/manifest/manifest.h"
#include "src/model/data_connection.h"
#include "src/model/schema.h"
#include "yaml-cpp/yaml.h"

namespace kustodian {

// Not thread-safe; one reader per document. May throw YAML::Exception on inputs it did not
// foresee: the caller (manifest.cc) catches at the module boundary.
class SpecReader {
 public:
  // `doc` must be a map that passed CheckDocumentShape.
  SpecReader(std::string file, const YAML::Node& doc);

  // Reads metadata and spec (status is ignored). Fields that fail keep their defaults; the
  // problems are in Errors(). Also records the position of every field it saw.
  DataConnectionSpec Read();

  // Adds an error at `mark` (0-based yaml-cpp mark; a null mark means the document start).
  void AddError(const std::string& field, const YAML::Mark& mark, std::string message);
  // The position recorded for `field`, else for its nearest recorded ancestor
  // ("spec.properties.x[2]" -> "spec.properties.x" -> "spec.properties" -> "spec"), else the
  // document start.
  YAML::Mark MarkFor(std::string_view field) const;

  const std::vector<ManifestError>& Errors() const { return errors_; }

 private:
  struct Field {
    YAML::Node key;
    YAML::Node value;
  };
  // The entry `name` of `map`, remembering its position under `path`; nullopt when absent.
  std::optional<Field> Lookup(const YAML::Node& map, std::string_view name,
                              const std::string& path);
  // Errors for every key of `map` not in `allowed`, with a "did you mean".
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 const std::vector<std::string>& allowed);
  // Reads a scalar string field. Absent or null leaves `out` unchanged and returns false (with a
  // "required" error when `required`). A map or list is an error.
  bool ReadString(const YAML::Node& map, const std::string& prefix, std::string_view name,
                  bool required, std::string* out);
  // `value` must be a map: error naming `path` otherwise.
  bool ExpectMap(const YAML::Node& value, const std::string& path);

  void ReadMetadata(DataConnectionSpec* spec);
  void ReadTarget(const YAML::Node& target, DataConnectionSpec* spec);
  void ReadKind(const YAML::Node& spec_node, DataConnectionSpec* spec, bool* kind_known);
  void ReadProperties(const YAML::Node& properties, bool kind_known, DataConnectionSpec* spec);
  nlohmann::json ConvertProperty(const YAML::Node& value, const std::string& path,
                                 const PropertySchema* schema, bool* ok);
  void ReadPolicy(const YAML::Node& policy, Policy* out);
  // Index of `value` in `choices` (case-insensitive), or -1 after adding an error.
  int ReadChoice(const YAML::Node& value, const std::string& path,
                 const std::vector<std::string>& choices);

  const std::string file_;
  const YAML::Node doc_;
  std::vector<ManifestError> errors_;
  std::map<std::string, YAML::Mark, std::less<>> marks_;
  YAML::Mark metadata_name_mark_ = YAML::Mark::null_mark();
};

}  // namespace kustodian
