// WatchParser: turns a watch response body (newline-delimited JSON watch events, as the API
// server streams them) into WatchEvents, incrementally: bytes may arrive in any pieces, an event
// split across pieces or several events in one piece. Memory is bounded by the line limit.
// Not thread-safe; one parser per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/kube/kube_client.h"

namespace kustodian::kube {

class WatchParser {
 public:
  static constexpr size_t kDefaultMaxLineBytes = size_t{16} << 20;  // 16 MiB
  static constexpr int kMaxJsonDepth = 256;

  explicit WatchParser(size_t max_line_bytes = kDefaultMaxLineBytes)
      : max_line_bytes_(max_line_bytes) {}

  // Feeds the next bytes. Calls `on_event` for each complete event, in order. Returns OK; or,
  // for an ERROR event, its Status object mapped as kube_client.h says (OutOfRange for 410);
  // DataLoss for a line that is not a watch event (bad JSON, unknown type, no object, nesting
  // deeper than kMaxJsonDepth); ResourceExhausted for a line longer than the limit. When
  // `on_event` returns false the parser stops (stopped() true) and returns OK. After an error or
  // a stop every further call returns the same result without calling `on_event`.
  absl::Status Feed(std::string_view data, const std::function<bool(const WatchEvent&)>& on_event);

  // The stream ended: OK when nothing but whitespace is pending, DataLoss when the stream was
  // cut in the middle of an event (or the parser already failed: that error).
  absl::Status Finish() const;

  bool stopped() const { return stopped_; }
  // Bytes buffered for the event being assembled.
  size_t pending_bytes() const { return pending_.size(); }

 private:
  // Parses one complete line (without its '\n').
  absl::Status ParseLine(std::string_view line,
                         const std::function<bool(const WatchEvent&)>& on_event);

  const size_t max_line_bytes_;
  std::string pending_;  // the partial line so far
  absl::Status error_;
  bool stopped_ = false;
};

}  // namespace kustodian::kube
