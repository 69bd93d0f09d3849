// Directory mode: finding manifest files under a directory (recursive, sorted, hidden entries
// skipped, Kubernetes ConfigMap mounts understood, symlink loops detected) and loading all of
// them with cross-file checks (one target defined twice is an error on every definition).
#pragma once

#include <string>
#include <vector>

#include "src/manifest/manifest.h"

namespace kustodian {

struct ScanOptions {
  std::vector<std::string> extensions = {".yaml", ".yml"};  // matched case-insensitively
  // Descend into symlinked directories. Symlinks to files are always read (a ConfigMap mount is
  // `file.yaml -> ..data/file.yaml`), whatever this says.
  bool follow_symlinks = true;
  int max_files = 100000;  // the scan stops with an error past this many files
};

struct ScanResult {
  std::vector<std::string> files;     // paths (dir + relative path), sorted
  std::vector<ManifestError> errors;  // unreadable dirs, symlink loops, broken links, limits
};

// Lists the manifest files under `dir`, recursively and sorted. Entries whose name starts with
// '.' are skipped (.git, a ConfigMap's ..data and ..2024_* dirs), but a visible symlink into a
// hidden directory is followed. A directory reached twice (by (device, inode)) is scanned once;
// one that leads back to its own ancestor is reported as a symlink loop. Never throws; problems
// are in `errors` and the rest of the tree is still scanned.
ScanResult ScanDirectory(const std::string& dir, const ScanOptions& opts);

struct DirectoryLoadResult {
  std::vector<FileLoadResult> files;  // one per scanned file, in scan order
  std::vector<ManifestError> errors;  // scan errors and cross-file errors (duplicate targets)
};

// Scans `dir` and loads every file with LoadManifestFile, then applies
// RejectDuplicateTargets. Never throws.
DirectoryLoadResult LoadDirectory(const std::string& dir, const LoadOptions& load_opts,
                                  const ScanOptions& scan_opts);

// Finds manifests (within or across `files`) with the same target (DataConnectionId::Key()).
// For each, appends to `errors` one error per definition naming the other file:line(s), removes
// every such manifest from its file (none of them applies) and adds the key to that file's
// rejected_keys.
void RejectDuplicateTargets(std::vector<FileLoadResult>& files, std::vector<ManifestError>* errors);

}  // namespace kustodian
