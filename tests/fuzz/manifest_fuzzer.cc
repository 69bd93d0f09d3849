// Fuzz harness: the manifest loader (src/manifest) on arbitrary bytes. It must never throw nor
// crash, and every result must be self-consistent.
#include <cstdlib>
#include <string>
#include <string_view>

#include "src/manifest/manifest.h"
#include "tests/fuzz/fuzz_entry.h"

namespace kustodian::fuzz {

int FuzzManifest(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  LoadOptions opts;
  // Smaller bounds than the daemon's keep each run fast; the checks are the same code.
  opts.max_nodes_per_document = 20000;
  FileLoadResult result = LoadManifestText(text, "fuzz.yaml", opts);
  if (result.file != "fuzz.yaml") std::abort();
  if (result.parse_failed && (!result.manifests.empty() || result.errors.empty())) std::abort();
  for (const ManifestError& e : result.errors) {
    if (e.file != "fuzz.yaml" || e.message.empty() || e.line < 0 || e.column < 0) std::abort();
    (void)e.ToString();
  }
  for (const LoadedManifest& m : result.manifests) {
    if (m.spec.source.file != "fuzz.yaml") std::abort();
  }
  return 0;
}

}  // namespace kustodian::fuzz

KUSTODIAN_FUZZ_ENTRY(kustodian::fuzz::FuzzManifest)
