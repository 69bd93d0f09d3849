// Fuzz harness: the Kubernetes watch-stream parser (src/kube/watch_parser.h). The input after
// its first byte is the stream; the first byte chooses how it is cut into pieces, so events
// split across pieces are exercised. The parser must never throw or crash, must keep its
// bounded buffer, and must repeat its first error.
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "src/kube/watch_parser.h"
#include "tests/fuzz/fuzz_entry.h"

namespace kustodian::fuzz {

int FuzzWatch(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // 1..64 bytes per Feed
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr size_t kMaxLine = 4096;
  kube::WatchParser parser(kMaxLine);
  size_t events = 0;
  auto on_event = [&](const kube::WatchEvent& event) {
    ++events;
    (void)event.object.dump();
    return events < 1000;
  };
  absl::Status first = absl::OkStatus();
  for (size_t at = 0; at < stream.size(); at += piece) {
    absl::Status status = parser.Feed(stream.substr(at, piece), on_event);
    if (parser.pending_bytes() > kMaxLine + piece) std::abort();
    if (!status.ok()) {
      if (first.ok()) {
        first = status;
      } else if (status != first) {
        std::abort();  // after an error every call returns the same result
      }
    } else if (!first.ok()) {
      std::abort();
    }
  }
  absl::Status end = parser.Finish();
  if (!first.ok() && end != first) std::abort();
  return 0;
}

}  // namespace kustodian::fuzz

KUSTODIAN_FUZZ_ENTRY(kustodian::fuzz::FuzzWatch)
