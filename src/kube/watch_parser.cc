#include "src/kube/watch_parser.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/core/json_depth.h"
#include "src/core/strings.h"
#include "src/kube/kube_errors.h"

namespace kustodian::kube {
namespace {

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      return false;
    }
  }
  return true;
}

std::string Preview(std::string_view line) {
  constexpr size_t kMax = 80;
  return line.size() <= kMax ? std::string(line) : absl::StrCat(Av(line.substr(0, kMax)), "...");
}

}  // namespace

absl::Status WatchParser::Feed(std::string_view data,
                               const std::function<bool(const WatchEvent&)>& on_event) {
  if (!error_.ok() || stopped_) {
    return error_;
  }
  while (!data.empty()) {
    size_t newline = data.find('\n');
    std::string_view piece = data.substr(0, newline);
    if (pending_.size() + piece.size() > max_line_bytes_) {
      pending_.clear();
      pending_.shrink_to_fit();
      error_ = absl::ResourceExhaustedError(
          absl::StrCat("watch event larger than ", max_line_bytes_, " bytes"));
      return error_;
    }
    if (newline == std::string_view::npos) {
      pending_.append(piece);
      return absl::OkStatus();
    }
    data.remove_prefix(newline + 1);
    absl::Status status;
    if (pending_.empty()) {
      status = ParseLine(piece, on_event);
    } else {
      pending_.append(piece);
      std::string line = std::move(pending_);
      pending_.clear();
      status = ParseLine(line, on_event);
    }
    if (!status.ok()) {
      pending_.clear();
      error_ = status;
      return error_;
    }
    if (stopped_) {
      pending_.clear();
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status WatchParser::Finish() const {
  if (!error_.ok()) {
    return error_;
  }
  if (!stopped_ && !IsBlank(pending_)) {
    return absl::DataLossError(absl::StrCat("watch stream ended in the middle of an event (",
                                            pending_.size(), " bytes pending)"));
  }
  return absl::OkStatus();
}

absl::Status WatchParser::ParseLine(std::string_view line,
                                    const std::function<bool(const WatchEvent&)>& on_event) {
  if (IsBlank(line)) {
    return absl::OkStatus();
  }
  if (const size_t limit = kMaxJsonDepth; JsonNestingDepth(line, limit) > limit) {
    return absl::DataLossError(
        absl::StrCat("watch event nests deeper than ", kMaxJsonDepth, " levels"));
  }
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::DataLossError(
        absl::StrCat("watch stream line is not a JSON object: ", Preview(line)));
  }
  auto type = parsed.find("type");
  auto object = parsed.find("object");
  if (type == parsed.end() || !type->is_string() || object == parsed.end() ||
      !object->is_object()) {
    return absl::DataLossError(
        absl::StrCat("watch event without a string \"type\" and an object: ", Preview(line)));
  }
  const std::string& type_name = type->get_ref<const std::string&>();
  WatchEvent event;
  if (type_name == "ADDED") {
    event.type = WatchEvent::Type::kAdded;
  } else if (type_name == "MODIFIED") {
    event.type = WatchEvent::Type::kModified;
  } else if (type_name == "DELETED") {
    event.type = WatchEvent::Type::kDeleted;
  } else if (type_name == "BOOKMARK") {
    event.type = WatchEvent::Type::kBookmark;
  } else if (type_name == "ERROR") {
    absl::Status status = StatusFromStatusObject(*object, 500, "watch");
    if (status.ok()) {
      status = absl::UnknownError("watch ERROR event");
    }
    return status;
  } else {
    return absl::DataLossError(
        absl::StrCat("watch event has unknown type \"", Preview(type_name), "\""));
  }
  event.object = std::move(*object);
  if (!on_event(event)) {
    stopped_ = true;
  }
  return absl::OkStatus();
}

}  // namespace kustodian::kube
