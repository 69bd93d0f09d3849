#include "controller/status_pack.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace kustodian {
namespace {

// Layout: fields in a fixed order; integers as LEB128 varints (signed ones zigzag-encoded);
// strings as varint length + bytes; times as signed Unix nanoseconds. A condition's reason and
// message are written as varint 0 when they equal the previous condition's (SetPhase gives all
// three the same), else as length + 1 and the bytes.

class Writer {
 public:
  void Unsigned(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Signed(int64_t v) {
    Unsigned((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void String(std::string_view s) {
    Unsigned(s.size());
    out_.append(s);
  }
  void Time(absl::Time t) { Signed(absl::ToUnixNanos(t)); }
  // `s`, or a reference to `previous` when it is the same text.
  void StringOrSame(std::string_view s, const std::string* previous) {
    if (previous != nullptr && *previous == s) {
      Unsigned(0);
      return;
    }
    Unsigned(s.size() + 1);
    out_.append(s);
  }
  std::string Take() && {
    out_.shrink_to_fit();
    return std::move(out_);
  }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  uint64_t Unsigned() {
    uint64_t v = 0;
    for (int shift = 0; pos_ < in_.size() && shift < 64; shift += 7) {
      const auto byte = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        return v;
      }
    }
    pos_ = in_.size();  // truncated: everything after reads as empty
    return v;
  }
  int64_t Signed() {
    const uint64_t v = Unsigned();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  std::string String() { return Bytes(Unsigned()); }
  absl::Time Time() { return absl::FromUnixNanos(Signed()); }
  std::string StringOrSame(const std::string* previous) {
    const uint64_t n = Unsigned();
    if (n == 0) {
      return previous != nullptr ? *previous : std::string();
    }
    return Bytes(n - 1);
  }

 private:
  std::string Bytes(uint64_t n) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, in_.size() - pos_));
    std::string out(in_.substr(pos_, take));
    pos_ += take;
    return out;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json JsonValue(const std::string& text) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? nlohmann::json() : value;
}

}  // namespace

std::string PackStatus(const ConnectionStatus& status) {
  Writer w;
  w.String(status.arm_id);
  w.String(status.name);
  w.String(status.file);
  w.String(status.kind);
  w.String(status.phase);
  w.Unsigned(status.conditions.size());
  const Condition* previous = nullptr;
  for (const Condition& c : status.conditions) {
    w.String(c.type);
    w.String(c.status);
    w.StringOrSame(c.reason, previous != nullptr ? &previous->reason : nullptr);
    w.StringOrSame(c.message, previous != nullptr ? &previous->message : nullptr);
    w.Time(c.last_transition_time);
    w.Signed(c.observed_generation);
    previous = &c;
  }
  w.String(status.provisioning_state);
  w.String(status.last_error);
  w.String(status.pending_operation);
  w.String(status.plan_action);
  w.Unsigned(status.plan_changes.size());
  for (const FieldChange& change : status.plan_changes) {
    w.String(change.path);
    w.String(JsonText(change.old_value));
    w.String(JsonText(change.new_value));
  }
  w.Signed(status.observed_generation);
  w.String(status.spec_hash);
  return std::move(w).Take();
}

ConnectionStatus UnpackStatus(std::string_view packed) {
  Reader r(packed);
  ConnectionStatus status;
  status.arm_id = r.String();
  status.name = r.String();
  status.file = r.String();
  status.kind = r.String();
  status.phase = r.String();
  // Counts are bounded by what is left, so damaged bytes cannot ask for a huge allocation.
  const uint64_t conditions = std::min<uint64_t>(r.Unsigned(), packed.size());
  status.conditions.reserve(conditions);
  for (uint64_t i = 0; i < conditions; ++i) {
    const Condition* previous = status.conditions.empty() ? nullptr : &status.conditions.back();
    Condition c;
    c.type = r.String();
    c.status = r.String();
    c.reason = r.StringOrSame(previous != nullptr ? &previous->reason : nullptr);
    c.message = r.StringOrSame(previous != nullptr ? &previous->message : nullptr);
    c.last_transition_time = r.Time();
    c.observed_generation = r.Signed();
    status.conditions.push_back(std::move(c));
  }
  status.provisioning_state = r.String();
  status.last_error = r.String();
  status.pending_operation = r.String();
  status.plan_action = r.String();
  const uint64_t changes = std::min<uint64_t>(r.Unsigned(), packed.size());
  status.plan_changes.reserve(changes);
  for (uint64_t i = 0; i < changes; ++i) {
    FieldChange change;
    change.path = r.String();
    change.old_value = JsonValue(r.String());
    change.new_value = JsonValue(r.String());
    status.plan_changes.push_back(std::move(change));
  }
  status.observed_generation = r.Signed();
  status.spec_hash = r.String();
  return status;
}

}  // namespace kustodian
