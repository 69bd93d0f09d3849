#include "controller/directory_source.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/metrics/kustodian_metrics.h"

namespace kustodian {
namespace {

std::vector<std::string> ToStrings(const std::vector<ManifestError>& errors) {
  std::vector<std::string> out;
  out.reserve(errors.size());
  for (const ManifestError& e : errors) {
    out.push_back(e.ToString());
  }
  return out;
}

}  // namespace

DirectorySource::DirectorySource(std::string dir, DirectorySourceDeps deps,
                                 LoadOptions load_options, ScanOptions scan_options)
    : dir_(std::move(dir)),
      deps_(std::move(deps)),
      load_options_(load_options),
      scan_options_(std::move(scan_options)) {}

DirectoryPassResult DirectorySource::Pass() {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  if (deps_.prune_guard != nullptr) {
    deps_.prune_guard->BeginPass();
  }
  DirectoryPassResult result;

  ScanResult scan = ScanDirectory(dir_, scan_options_);
  std::vector<FileLoadResult> files;
  files.reserve(scan.files.size());
  for (const std::string& file : scan.files) {
    files.push_back(LoadManifestFile(file, load_options_));
  }
  std::vector<ManifestError> duplicates;
  RejectDuplicateTargets(files, &duplicates);
  std::map<std::string, std::vector<ManifestError>> duplicates_by_file;
  for (ManifestError& e : duplicates) {
    duplicates_by_file[e.file].push_back(std::move(e));
  }

  std::set<std::string> changed;
  std::set<std::string> seen_files;
  for (FileLoadResult& f : files) {
    seen_files.insert(f.file);
    ++result.files;
    std::vector<std::string> errors = ToStrings(f.errors);
    for (const std::string& e : ToStrings(duplicates_by_file[f.file])) {
      errors.push_back(e);
    }
    for (const std::string& w : f.warnings) {
      if (logged_[absl::StrCat("warning:", f.file)] != f.warnings) {
        deps_.logger.Info(absl::StrCat("manifest note: ", w));
      }
    }
    logged_[absl::StrCat("warning:", f.file)] = f.warnings;
    if (f.parse_failed) {
      deps_.desired.KeepFile(f.file, std::move(errors));
      continue;
    }
    std::vector<DataConnectionSpec> specs;
    specs.reserve(f.manifests.size());
    for (LoadedManifest& m : f.manifests) {
      specs.push_back(std::move(m.spec));
    }
    result.manifests += static_cast<int>(specs.size());
    for (std::string& key :
         deps_.desired.ApplyFile(f.file, std::move(specs), f.rejected_keys, std::move(errors))) {
      changed.insert(std::move(key));
    }
  }

  result.complete = scan.errors.empty();
  for (const std::string& known : deps_.desired.Files()) {
    if (seen_files.count(known) > 0) {
      continue;
    }
    if (!result.complete) {
      deps_.logger.Warn("manifest file not found, but the scan was incomplete: keeping its state",
                        {{"file", known}});
      continue;
    }
    deps_.logger.Info("manifest file removed", {{"file", known}});
    for (std::string& key : deps_.desired.RemoveFile(known)) {
      changed.insert(std::move(key));
    }
  }

  std::map<std::string, std::vector<std::string>> all_errors = deps_.desired.FileErrors();
  for (const ManifestError& e : scan.errors) {
    all_errors[e.file].push_back(e.ToString());
  }
  for (const auto& [file, errors] : all_errors) {
    LogNewErrors(file, errors);
  }
  for (auto it = logged_.begin(); it != logged_.end();) {
    if (it->first.rfind("warning:", 0) != 0 && all_errors.count(it->first) == 0) {
      deps_.logger.Info("manifest file loads cleanly again", {{"file", it->first}});
      it = logged_.erase(it);
    } else {
      ++it;
    }
  }
  result.files_with_errors = static_cast<int>(all_errors.size());
  if (deps_.status != nullptr) {
    deps_.status->SetFileErrors(all_errors);
  }
  if (deps_.metrics != nullptr) {
    deps_.metrics->manifest_errors.Set(result.files_with_errors);
  }

  result.changed_keys.assign(changed.begin(), changed.end());
  for (const std::string& key : result.changed_keys) {
    if (deps_.enqueue) {
      deps_.enqueue(key);
    }
  }
  deps_.logger.Debug("directory pass done",
                     {{"files", std::to_string(result.files)},
                      {"connections", std::to_string(result.manifests)},
                      {"files_with_errors", std::to_string(result.files_with_errors)},
                      {"changed", std::to_string(result.changed_keys.size())}});
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++passes_;
    errors_ = std::move(all_errors);
  }
  return result;
}

void DirectorySource::LogNewErrors(const std::string& file,
                                   const std::vector<std::string>& errors) {
  std::vector<std::string>& before = logged_[file];
  for (const std::string& e : errors) {
    if (std::find(before.begin(), before.end(), e) == before.end()) {
      deps_.logger.Warn(absl::StrCat("manifest error: ", e));
    }
  }
  before = errors;
}

int DirectorySource::passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

std::map<std::string, std::vector<std::string>> DirectorySource::Errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

}  // namespace kustodian
