#include "controller/directory_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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

// A file modified this close to the pass may be modified again within the same timestamp tick
// (file times are coarse, a few ms) without its stamp changing: such a file is loaded again at
// the next pass instead of being reused (git's "racily clean" rule).
constexpr absl::Duration kRacyWindow = absl::Seconds(2);

size_t KeyHash(const std::string& key) { return std::hash<std::string>{}(key); }

size_t ContentHash(std::string_view text) { return std::hash<std::string_view>{}(text); }

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

// The packed specs of `f` that RejectDuplicateTargets left in f.manifests (it only removes:
// when nothing was removed they are all of them, in order).
std::vector<DesiredStore::PackedSpec> TakeSurvivors(const FileLoadResult& f,
                                                    DirectorySource::PackedFiles& packed) {
  auto it = packed.find(f.file);
  if (it == packed.end()) {
    return {};
  }
  std::vector<DesiredStore::PackedSpec> all = std::move(it->second);
  packed.erase(it);
  if (all.size() == f.manifests.size()) {
    return all;
  }
  std::set<std::string> kept;
  for (const LoadedManifest& m : f.manifests) {
    kept.insert(m.spec.id.Key());
  }
  std::vector<DesiredStore::PackedSpec> out;
  for (DesiredStore::PackedSpec& p : all) {
    if (kept.count(p.spec().id.Key()) > 0) {
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace

bool DirectorySource::Unchanged(const std::string& file, absl::Time pass_start,
                                bool check_content) {
  struct stat st;
  if (stat(file.c_str(), &st) != 0) {
    cache_.erase(file);
    return false;  // the load reports the error
  }
  FileStamp stamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                  static_cast<uint64_t>(st.st_size),
                  static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                  static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
  CachedFile& c = cache_[file];
  if (c.reusable && c.stamp == stamp) {
    return true;
  }
  const absl::Time newest =
      std::max(absl::FromUnixNanos(stamp.mtime_ns), absl::FromUnixNanos(stamp.ctime_ns));
  const bool reusable = newest < pass_start - kRacyWindow;
  // Read after the stat above: a write after the stat changes the next stamp, or (within the
  // same timestamp tick) leaves this one too recent to trust, so the next pass reads it again.
  std::string text;
  if (check_content && c.has_content && c.content_size == stamp.size &&
      ReadManifestBytes(file, load_options_.max_file_bytes, &text).ok() &&
      text.size() == c.content_size && ContentHash(text) == c.content_hash) {
    c.stamp = stamp;  // the same bytes: what the last load made of them still holds
    c.reusable = reusable;
    return true;
  }
  c = CachedFile{};
  c.stamp = stamp;
  c.reusable = reusable;
  return false;
}

FileLoadResult DirectorySource::Load(const std::string& file, PackedFiles* packed) {
  std::string text;
  const bool read = ReadManifestBytes(file, load_options_.max_file_bytes, &text).ok();
  FileLoadResult f = read ? LoadManifestText(text, file, load_options_)
                          : LoadManifestFile(file, load_options_);  // says why it cannot
  Remember(f);
  if (auto it = cache_.find(file); read && it != cache_.end()) {
    it->second.has_content = true;
    it->second.content_size = text.size();
    it->second.content_hash = ContentHash(text);
  }
  std::vector<DesiredStore::PackedSpec>& out = (*packed)[f.file];
  out.clear();
  for (LoadedManifest& m : f.manifests) {
    out.push_back(DesiredStore::Pack(m.spec, f.file));
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++files_parsed_;
  return f;
}

void DirectorySource::Remember(const FileLoadResult& f) {
  auto it = cache_.find(f.file);
  if (it == cache_.end()) {
    return;
  }
  CachedFile& c = it->second;
  c.key_hashes.clear();
  for (const LoadedManifest& m : f.manifests) {
    c.key_hashes.push_back(KeyHash(m.spec.id.Key()));
  }
  c.load_rejected = f.rejected_keys;
  c.load_errors = ToStrings(f.errors);
  c.applied = false;
}

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

  // A file is parsed again only when its stat() changed; the others are known by their keys
  // (a pass over 10,000 unchanged files then costs stat calls, not YAML parsing). The specs
  // themselves live in the DesiredStore only, so the cache keeps no second copy of them.
  const absl::Time pass_start = absl::Now();  // file times are real time, not the Clock's
  ScanResult scan = ScanDirectory(dir_, scan_options_);
  const size_t n = scan.files.size();
  std::vector<bool> load(n, false);
  for (size_t i = 0; i < n; ++i) {
    load[i] = !Unchanged(scan.files[i], pass_start);
  }
  // Every path the scan found, as views into scan.files (which outlive the pass): a set of
  // string copies, made twice, cost about 4 MiB at every pass over 10,000 files.
  const std::unordered_set<std::string_view> scanned(scan.files.begin(), scan.files.end());
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = scanned.count(it->first) == 0 ? cache_.erase(it) : std::next(it);
  }
  std::vector<FileLoadResult> files;
  PackedFiles packed;
  std::vector<size_t> file_index;  // files[j] is scan.files[file_index[j]]
  auto load_file = [&](size_t i) {
    files.push_back(Load(scan.files[i], &packed));
    file_index.push_back(i);
    load[i] = true;
  };
  for (size_t i = 0; i < n; ++i) {
    if (load[i]) {
      load_file(i);
    }
  }
  // Keys declared more than once (in one file or across files): every unchanged file holding
  // one is loaded too, so RejectDuplicateTargets sees every definition. So is an unchanged file
  // whose last application differs from what it would get now (it was a duplicate before).
  // (By key hash: two keys sharing a hash only make their files load again, which is safe.)
  std::unordered_map<size_t, int> key_uses;
  for (size_t i = 0; i < n; ++i) {
    if (load[i]) {
      continue;
    }
    for (size_t hash : cache_[scan.files[i]].key_hashes) {
      ++key_uses[hash];
    }
  }
  for (const FileLoadResult& f : files) {
    for (const LoadedManifest& m : f.manifests) {
      ++key_uses[KeyHash(m.spec.id.Key())];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (load[i]) {
      continue;
    }
    const CachedFile& c = cache_[scan.files[i]];
    bool reload =
        !c.applied || c.applied_rejected != c.load_rejected || c.applied_errors != c.load_errors;
    for (size_t hash : c.key_hashes) {
      reload = reload || key_uses[hash] > 1;
    }
    if (reload) {
      load_file(i);
    }
  }
  {
    // Back to scan order (RejectDuplicateTargets names the other definitions in load order).
    std::vector<size_t> order(files.size());
    for (size_t j = 0; j < order.size(); ++j) {
      order[j] = j;
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return file_index[a] < file_index[b]; });
    std::vector<FileLoadResult> sorted;
    sorted.reserve(files.size());
    for (size_t j : order) {
      sorted.push_back(std::move(files[j]));
    }
    files = std::move(sorted);
  }
  std::vector<ManifestError> duplicates;
  RejectDuplicateTargets(files, &duplicates);

  std::set<std::string> changed;
  for (size_t i = 0; i < n; ++i) {
    if (load[i]) {
      continue;
    }
    // Unchanged, no duplicate, applied exactly so last time: the DesiredStore holds it already.
    ++result.files;
    result.manifests += static_cast<int>(cache_[scan.files[i]].key_hashes.size());
  }
  ApplyLoaded(files, packed, std::move(duplicates), &changed, &result);

  result.complete = scan.errors.empty();
  // Every loaded file is a scanned one, so `scanned` is every file this pass saw.
  const std::vector<std::string> gone = deps_.desired.FilesExcept(
      [&scanned](const std::string& file) { return scanned.count(file) > 0; });
  for (const std::string& known : gone) {
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

  scan_errors_ = std::move(scan.errors);
  Finish(std::move(changed), &result, /*files_pass=*/false, pass_start);
  return result;
}

void DirectorySource::ApplyLoaded(std::vector<FileLoadResult>& files, PackedFiles& packed,
                                  std::vector<ManifestError> duplicates,
                                  std::set<std::string>* changed, DirectoryPassResult* result) {
  std::map<std::string, std::vector<ManifestError>> duplicates_by_file;
  for (ManifestError& e : duplicates) {
    duplicates_by_file[e.file].push_back(std::move(e));
  }
  for (FileLoadResult& f : files) {
    ++result->files;
    std::vector<std::string> errors = ToStrings(f.errors);
    for (const std::string& e : ToStrings(duplicates_by_file[f.file])) {
      errors.push_back(e);
    }
    // Only files with warnings have an entry: Finish() walks logged_ at every pass.
    const std::string warning_key = absl::StrCat("warning:", f.file);
    auto logged = logged_.find(warning_key);
    if (logged == logged_.end() || logged->second != f.warnings) {
      for (const std::string& w : f.warnings) {
        deps_.logger.Info(absl::StrCat("manifest note: ", w));
      }
    }
    if (!f.warnings.empty()) {
      logged_[warning_key] = f.warnings;
    } else if (logged != logged_.end()) {
      logged_.erase(logged);
    }
    if (auto cached = cache_.find(f.file); cached != cache_.end()) {
      cached->second.applied = true;
      cached->second.applied_rejected = f.rejected_keys;
      cached->second.applied_errors = errors;
    }
    if (f.parse_failed) {
      deps_.desired.KeepFile(f.file, std::move(errors));
      continue;
    }
    std::vector<DesiredStore::PackedSpec> specs = TakeSurvivors(f, packed);
    result->manifests += static_cast<int>(specs.size());
    for (std::string& key :
         deps_.desired.ApplyFile(f.file, std::move(specs), f.rejected_keys, std::move(errors))) {
      changed->insert(std::move(key));
    }
  }
}

void DirectorySource::Finish(std::set<std::string> changed, DirectoryPassResult* result,
                             bool files_pass, absl::Time started) {
  std::map<std::string, std::vector<std::string>> all_errors = deps_.desired.FileErrors();
  for (const ManifestError& e : scan_errors_) {
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
  result->files_with_errors = static_cast<int>(all_errors.size());
  bool errors_changed = true;
  if (files_pass) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_changed = all_errors != errors_;
  }
  if (deps_.status != nullptr && errors_changed) {
    deps_.status->SetFileErrors(all_errors);
  }
  if (deps_.metrics != nullptr) {
    deps_.metrics->manifest_errors.Set(result->files_with_errors);
  }

  // Moved out of the set, not copied: after a first pass it holds every key.
  result->changed_keys.reserve(changed.size());
  while (!changed.empty()) {
    result->changed_keys.push_back(std::move(changed.extract(changed.begin()).value()));
  }
  for (const std::string& key : result->changed_keys) {
    if (deps_.enqueue) {
      deps_.enqueue(key);
    }
  }
  deps_.logger.Debug(files_pass ? "files pass done" : "directory pass done",
                     {{"files", std::to_string(result->files)},
                      {"connections", std::to_string(result->manifests)},
                      {"files_with_errors", std::to_string(result->files_with_errors)},
                      {"changed", std::to_string(result->changed_keys.size())},
                      {"took", absl::FormatDuration(absl::Now() - started)}});
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++passes_;
    errors_ = std::move(all_errors);
  }
}

DirectoryPassResult DirectorySource::PassFiles(const std::vector<std::string>& paths) {
  const absl::Time started = absl::Now();  // for the log (a wait for a full pass included)
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  DirectoryPassResult result;
  auto is_file = [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  };
  std::set<std::string> given;
  for (const std::string& path : paths) {
    if (Classify(path) != PathKind::kFile) {
      continue;
    }
    if (!is_file(path) ||
        (cache_.count(path) == 0 &&
         cache_.size() + given.size() >= static_cast<size_t>(scan_options_.max_files))) {
      result.deferred = true;  // gone again (a removal), or past the scan's file limit
      return result;
    }
    given.insert(path);
  }
  if (given.empty()) {
    return result;
  }

  // What the cache said of every file loaded here, to undo a deferred pass.
  std::map<std::string, std::optional<CachedFile>> saved;
  // Hashes of the keys each loaded file claimed before (loaded, or rejected and kept).
  std::map<std::string, std::vector<size_t>> before_by_file;
  std::unordered_set<size_t> before;
  auto save = [&](const std::string& file) {
    auto it = cache_.find(file);
    if (it == cache_.end()) {
      saved.emplace(file, std::nullopt);
      return;
    }
    saved.emplace(file, it->second);
    std::vector<size_t>& hashes = before_by_file[file];
    hashes = it->second.key_hashes;
    for (const std::string& key : it->second.load_rejected) {
      hashes.push_back(KeyHash(key));
    }
    for (const std::string& key : it->second.applied_rejected) {
      hashes.push_back(KeyHash(key));
    }
    before.insert(hashes.begin(), hashes.end());
  };
  const absl::Time now = absl::Now();  // file times are real time, not the Clock's
  std::vector<FileLoadResult> files;
  PackedFiles packed;
  auto load = [&](const std::string& file) {
    save(file);
    // Records the new stamp (the file is loaded whatever it says).
    Unchanged(file, now, /*check_content=*/false);
    files.push_back(Load(file, &packed));
  };
  for (const std::string& file : given) {
    load(file);
  }
  // Every other file holding a key that the loaded files claim now or claimed before is loaded
  // too, so RejectDuplicateTargets sees every definition and a file that was a duplicate takes
  // its key back. (By key hash: a shared hash only loads a file more, which is safe.)
  std::unordered_set<size_t> involved = before;
  for (const FileLoadResult& f : files) {
    for (const LoadedManifest& m : f.manifests) {
      involved.insert(KeyHash(m.spec.id.Key()));
    }
  }
  std::vector<std::string> extra;
  for (const auto& [file, c] : cache_) {
    if (given.count(file) > 0) {
      continue;
    }
    for (size_t h : c.key_hashes) {
      if (involved.count(h) > 0) {
        extra.push_back(file);
        break;
      }
    }
  }
  bool defer = false;
  for (const std::string& file : extra) {
    if (!is_file(file)) {
      defer = true;  // gone: the full pass after the debounce removes it
      break;
    }
    load(file);
  }
  std::vector<ManifestError> duplicates;
  if (!defer) {
    std::sort(files.begin(), files.end(),
              [](const FileLoadResult& a, const FileLoadResult& b) { return a.file < b.file; });
    RejectDuplicateTargets(files, &duplicates);
    // A connection leaves the desired state when a loaded file claimed its key before and no
    // file claims it now: that is a removal, for a full pass (and the prune guard) to make.
    std::unordered_set<size_t> after;
    for (const FileLoadResult& f : files) {
      if (f.parse_failed) {
        const std::vector<size_t>& kept = before_by_file[f.file];
        after.insert(kept.begin(), kept.end());  // kept as it was (never a deletion)
        continue;
      }
      for (const LoadedManifest& m : f.manifests) {
        after.insert(KeyHash(m.spec.id.Key()));
      }
      for (const std::string& key : f.rejected_keys) {
        after.insert(KeyHash(key));
      }
    }
    std::unordered_set<size_t> lost;
    for (size_t h : before) {
      if (after.count(h) == 0) {
        lost.insert(h);
      }
    }
    for (auto it = cache_.begin(); !lost.empty() && it != cache_.end(); ++it) {
      if (saved.count(it->first) == 0) {
        for (size_t h : it->second.key_hashes) {
          lost.erase(h);
        }
      }
    }
    defer = !lost.empty();
  }
  if (defer) {
    for (auto& [file, entry] : saved) {
      if (entry) {
        cache_[file] = std::move(*entry);
      } else {
        cache_.erase(file);
      }
    }
    result.deferred = true;
    return result;
  }
  std::set<std::string> changed;
  ApplyLoaded(files, packed, std::move(duplicates), &changed, &result);
  Finish(std::move(changed), &result, /*files_pass=*/true, started);
  return result;
}

PathKind DirectorySource::Classify(const std::string& path) const {
  const std::string prefix = !dir_.empty() && dir_.back() == '/' ? dir_ : dir_ + "/";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) {
    return PathKind::kRescan;
  }
  const std::string ext = AsciiLower(std::filesystem::path(path).extension().string());
  if (std::none_of(scan_options_.extensions.begin(), scan_options_.extensions.end(),
                   [&](const std::string& e) { return AsciiLower(e) == ext; })) {
    return PathKind::kIgnore;  // never loaded (an editor's swap file, `x.yaml.tmp`)
  }
  const std::string_view rel = std::string_view(path).substr(prefix.size());
  for (size_t start = 0; start < rel.size();) {
    if (rel[start] == '.') {
      return PathKind::kRescan;  // hidden: the scan reads it only through a visible symlink
    }
    const size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) {
      break;
    }
    if (!scan_options_.follow_symlinks) {
      return PathKind::kRescan;  // the scan may not enter this directory
    }
    start = slash + 1;
  }
  return PathKind::kFile;
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

int64_t DirectorySource::files_parsed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_parsed_;
}

std::map<std::string, std::vector<std::string>> DirectorySource::Errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

}  // namespace kustodian
