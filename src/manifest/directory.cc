#include "src/manifest/directory.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/core/arm_id.h"

namespace kustodian {
namespace fs = std::filesystem;
namespace {

// Deeper trees than this are almost certainly a mistake (or an attack on the stack).
constexpr int kMaxDirDepth = 128;

using DirId = std::pair<dev_t, ino_t>;

class Scanner {
 public:
  explicit Scanner(const ScanOptions& opts) : opts_(opts) {}

  ScanResult Run(const std::string& dir) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      Error(dir, absl::StrCat("cannot read directory: ", std::strerror(errno)));
    } else if (!S_ISDIR(st.st_mode)) {
      Error(dir, "not a directory");
    } else {
      Walk(fs::path(dir), DirId{st.st_dev, st.st_ino}, 0);
    }
    std::sort(result_.files.begin(), result_.files.end());
    return std::move(result_);
  }

 private:
  void Error(const std::string& path, std::string message) {
    result_.errors.push_back(ManifestError{path, 0, 0, "", std::move(message)});
  }

  bool WantFile(const fs::path& p) const {
    const std::string ext = AsciiLower(p.extension().string());
    return std::any_of(opts_.extensions.begin(), opts_.extensions.end(),
                       [&](const std::string& e) { return AsciiLower(e) == ext; });
  }

  void AddFile(const fs::path& p) {
    if (stopped_) {
      return;
    }
    if (result_.files.size() >= static_cast<size_t>(opts_.max_files)) {
      Error(p.string(), absl::StrCat("more than ", opts_.max_files,
                                     " manifest files; the rest "
                                     "of the directory is not scanned"));
      stopped_ = true;
      return;
    }
    result_.files.push_back(p.string());
  }

  // Scans directory `dir` whose (device, inode) is `id`.
  void Walk(const fs::path& dir, DirId id, int depth) {
    if (stopped_) {
      return;
    }
    if (depth > kMaxDirDepth) {
      Error(dir.string(), absl::StrCat("directory tree deeper than ", kMaxDirDepth, " levels"));
      return;
    }
    if (auto it = ancestors_.find(id); it != ancestors_.end()) {
      Error(dir.string(), absl::StrCat("symlink loop: leads back to ", it->second));
      return;
    }
    if (!visited_.insert(id).second) {
      return;  // the same directory under another name: scan it once
    }
    ancestors_.emplace(id, dir.string());
    std::vector<fs::path> entries;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    const fs::directory_iterator end;
    while (!ec && it != end) {
      const std::string name = it->path().filename().string();
      if (!name.empty() && name[0] != '.') {
        entries.push_back(it->path());
      }
      it.increment(ec);
    }
    if (ec) {
      Error(dir.string(), absl::StrCat("cannot read directory: ", ec.message()));
    }
    std::sort(entries.begin(), entries.end());
    for (const fs::path& p : entries) {
      Visit(p, depth);
    }
    ancestors_.erase(id);
  }

  void Visit(const fs::path& p, int depth) {
    std::error_code ec;
    const fs::file_status link = fs::symlink_status(p, ec);
    if (ec) {
      Error(p.string(), absl::StrCat("cannot stat: ", ec.message()));
      return;
    }
    const bool is_link = fs::is_symlink(link);
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) {  // follows symlinks
      const int err = errno;
      if (err == ELOOP) {
        Error(p.string(), "symlink loop: too many levels of symbolic links");
      } else if (WantFile(p)) {
        Error(p.string(),
              absl::StrCat(is_link ? "broken symlink: " : "cannot stat: ", std::strerror(err)));
      }
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      if (!is_link || opts_.follow_symlinks) {
        Walk(p, DirId{st.st_dev, st.st_ino}, depth + 1);
      }
    } else if (S_ISREG(st.st_mode) && WantFile(p)) {
      AddFile(p);
    }
  }

  const ScanOptions& opts_;
  ScanResult result_;
  std::set<DirId> visited_;
  std::map<DirId, std::string> ancestors_;  // directories on the current path
  bool stopped_ = false;
};

}  // namespace

ScanResult ScanDirectory(const std::string& dir, const ScanOptions& opts) {
  return Scanner(opts).Run(dir);
}

void RejectDuplicateTargets(std::vector<FileLoadResult>& files,
                            std::vector<ManifestError>* errors) {
  // key -> (file index, manifest index) of every definition, in load order.
  std::map<std::string, std::vector<std::pair<size_t, size_t>>> by_key;
  for (size_t f = 0; f < files.size(); ++f) {
    for (size_t m = 0; m < files[f].manifests.size(); ++m) {
      by_key[files[f].manifests[m].spec.id.Key()].emplace_back(f, m);
    }
  }
  std::vector<std::set<size_t>> drop(files.size());
  for (const auto& [key, defs] : by_key) {
    if (defs.size() < 2) {
      continue;
    }
    for (size_t i = 0; i < defs.size(); ++i) {
      const DataConnectionSpec& spec = files[defs[i].first].manifests[defs[i].second].spec;
      std::vector<std::string> others;
      for (size_t j = 0; j < defs.size(); ++j) {
        if (j != i) {
          const SourceRef& o = files[defs[j].first].manifests[defs[j].second].spec.source;
          others.push_back(absl::StrCat(o.file, ":", o.line));
        }
      }
      errors->push_back(ManifestError{
          spec.source.file, spec.source.line, 0, "spec.target",
          absl::StrCat("duplicate target ", spec.id.ArmName(), " (resource group ",
                       spec.id.resource_group, "): also defined at ", absl::StrJoin(others, ", "),
                       "; none of these definitions is applied")});
      drop[defs[i].first].insert(defs[i].second);
    }
    for (const auto& [f, m] : defs) {
      (void)m;
      std::vector<std::string>& rejected = files[f].rejected_keys;
      if (std::find(rejected.begin(), rejected.end(), key) == rejected.end()) {
        rejected.push_back(key);
      }
    }
  }
  for (size_t f = 0; f < files.size(); ++f) {
    if (drop[f].empty()) {
      continue;
    }
    std::vector<LoadedManifest> kept;
    for (size_t m = 0; m < files[f].manifests.size(); ++m) {
      if (drop[f].count(m) == 0) {
        kept.push_back(std::move(files[f].manifests[m]));
      }
    }
    files[f].manifests = std::move(kept);
  }
}

DirectoryLoadResult LoadDirectory(const std::string& dir, const LoadOptions& load_opts,
                                  const ScanOptions& scan_opts) {
  DirectoryLoadResult result;
  ScanResult scan = ScanDirectory(dir, scan_opts);
  result.errors = std::move(scan.errors);
  result.files.reserve(scan.files.size());
  for (const std::string& file : scan.files) {
    result.files.push_back(LoadManifestFile(file, load_opts));
  }
  RejectDuplicateTargets(result.files, &result.errors);
  return result;
}

}  // namespace kustodian
