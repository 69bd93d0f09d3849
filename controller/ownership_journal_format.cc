// The ownership journal's file formats: the snapshot (managed.json, JSON as json::dump(2)
// writes it) and the log (managed.log, one compact JSON line per change), and how each is read
// back. The journal's state and its writes are in ownership_journal.cc.
#include <functional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/ownership_journal.h"
#include "nlohmann/json.hpp"

namespace kustodian {
namespace {

using nlohmann::json;

std::string JournalTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat("ownership journal is corrupt: ", what));
}

// Reads a required string member of `obj`.
absl::StatusOr<std::string> StringField(const json& obj, const char* name, const std::string& key) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) {
    return Corrupt(absl::StrCat("connection '", key, "': \"", name, "\" missing or not a string"));
  }
  return it->get<std::string>();
}

absl::StatusOr<OwnershipRecord> RecordFromJson(const std::string& key, const json& obj) {
  if (!obj.is_object()) {
    return Corrupt(absl::StrCat("connection '", key, "' is not an object"));
  }
  OwnershipRecord rec;
  absl::StatusOr<std::string> id = StringField(obj, "id", key);
  if (!id.ok()) {
    return id.status();
  }
  rec.id = *std::move(id);
  rec.kind = obj.value("kind", "");
  std::string deletion = obj.value("deletion", "Delete");
  if (deletion == "Delete") {
    rec.deletion = DeletionPolicy::kDelete;
  } else if (deletion == "Orphan") {
    rec.deletion = DeletionPolicy::kOrphan;
  } else {
    return Corrupt(absl::StrCat("connection '", key, "': deletion '", deletion,
                                "' is neither Delete nor Orphan"));
  }
  rec.file = obj.value("file", "");
  rec.last_applied_hash = obj.value("lastAppliedHash", "");
  const char* time_field = "createdAt";
  if (obj.contains("adoptedAt")) {
    rec.origin = OwnershipRecord::Origin::kAdopted;
    time_field = "adoptedAt";
  }
  if (obj.contains(time_field)) {
    absl::StatusOr<std::string> text = StringField(obj, time_field, key);
    if (!text.ok()) {
      return text.status();
    }
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *text, &rec.since, &err)) {
      return Corrupt(absl::StrCat("connection '", key, "': ", time_field, " '", *text,
                                  "' is not an RFC 3339 time: ", err));
    }
  }
  return rec;
}

json RecordToJson(const OwnershipRecord& rec) {
  json obj = {
      {"id", rec.id},
      {"kind", rec.kind},
      {"deletion", rec.deletion == DeletionPolicy::kOrphan ? "Orphan" : "Delete"},
      {"file", rec.file},
      {"lastAppliedHash", rec.last_applied_hash},
  };
  obj[rec.origin == OwnershipRecord::Origin::kAdopted ? "adoptedAt" : "createdAt"] =
      JournalTime(rec.since);
  return obj;
}

// Applies one log line (without its newline) to `records`; changes nothing when it is invalid.
absl::Status ApplyLogLine(std::string_view line, std::map<std::string, OwnershipRecord>* records) {
  json obj;
  try {
    obj = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    return Corrupt(absl::StrCat("invalid JSON: ", e.what()));
  }
  try {
    if (!obj.is_object()) {
      return Corrupt("the line is not a JSON object");
    }
    auto op = obj.find("op");
    auto key = obj.find("key");
    if (op == obj.end() || !op->is_string() || key == obj.end() || !key->is_string()) {
      return Corrupt("\"op\" or \"key\" missing or not a string");
    }
    const std::string k = key->get<std::string>();
    const std::string o = op->get<std::string>();
    if (o == "remove") {
      records->erase(k);
      return absl::OkStatus();
    }
    if (o != "put") {
      return Corrupt(absl::StrCat("unknown \"op\" '", o,
                                  "' (neither put nor remove; written by a newer kustodian?)"));
    }
    auto rec_json = obj.find("record");
    if (rec_json == obj.end()) {
      return Corrupt(absl::StrCat("connection '", k, "': \"record\" missing"));
    }
    absl::StatusOr<OwnershipRecord> rec = RecordFromJson(k, *rec_json);
    if (!rec.ok()) {
      return rec.status();
    }
    records->insert_or_assign(k, *std::move(rec));
  } catch (const json::exception& e) {  // a member of the wrong type
    return Corrupt(e.what());
  }
  return absl::OkStatus();
}

}  // namespace

std::string OwnershipJournal::SerializeRecord(const std::string& key, const OwnershipRecord& rec) {
  json obj = RecordToJson(rec);
  // Exactly what json::dump(2) writes for this member at depth 2 of the document: the object
  // dumped alone, every line indented by four more spaces.
  std::string body = obj.dump(2, ' ', false, json::error_handler_t::replace);
  std::string out =
      absl::StrCat("    ", json(key).dump(2, ' ', false, json::error_handler_t::replace), ": ");
  out.reserve(out.size() + body.size() + body.size() / 8);
  for (char c : body) {
    out.push_back(c);
    if (c == '\n') {
      out.append("    ");
    }
  }
  return out;
}

void OwnershipJournal::SerializeTo(const std::map<std::string, OwnershipRecord>& records,
                                   const std::function<void(std::string_view)>& sink) {
  // The document {"connections": {...}, "version": N} as json::dump(2) writes it (keys sorted),
  // one member at a time: at 10,000 records the whole text is about 6 MB.
  if (records.empty()) {
    sink(absl::StrCat("{\n  \"connections\": {},\n  \"version\": ", kJournalVersion, "\n}\n"));
    return;
  }
  sink("{\n  \"connections\": {\n");
  size_t i = 0;
  for (const auto& [key, rec] : records) {
    sink(SerializeRecord(key, rec));
    sink(++i < records.size() ? ",\n" : "\n");
  }
  sink(absl::StrCat("  },\n  \"version\": ", kJournalVersion, "\n}\n"));
}

std::string OwnershipJournal::Serialize(const std::map<std::string, OwnershipRecord>& records) {
  std::string out;
  SerializeTo(records, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

absl::StatusOr<std::map<std::string, OwnershipRecord>> OwnershipJournal::Parse(
    const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Corrupt(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (!doc.is_object()) {
    return Corrupt("the top level is not an object");
  }
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() ||
      version->get<int64_t>() != kJournalVersion) {
    return Corrupt(absl::StrCat("\"version\" is missing or not ", kJournalVersion,
                                " (written by a newer kustodian?)"));
  }
  auto connections = doc.find("connections");
  if (connections == doc.end() || !connections->is_object()) {
    return Corrupt("\"connections\" is missing or not an object");
  }
  std::map<std::string, OwnershipRecord> out;
  try {
    for (const auto& [key, obj] : connections->items()) {
      absl::StatusOr<OwnershipRecord> rec = RecordFromJson(key, obj);
      if (!rec.ok()) {
        return rec.status();
      }
      out.emplace(key, *std::move(rec));
    }
  } catch (const json::exception& e) {  // a member of the wrong type
    return Corrupt(e.what());
  }
  return out;
}

std::string OwnershipJournal::LogLine(const std::string& key,
                                      const std::optional<OwnershipRecord>& record) {
  json line = {{"op", record ? "put" : "remove"}, {"key", key}};
  if (record) {
    line["record"] = RecordToJson(*record);
  }
  // Compact JSON escapes control characters, so the line holds no newline of its own.
  std::string out = line.dump(-1, ' ', false, json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

absl::Status OwnershipJournal::ReplayLog(const std::string& log_path, const std::string& text,
                                         JournalContents* out) {
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    const size_t newline = text.find('\n', pos);
    const bool complete = newline != std::string::npos;
    const size_t next = complete ? newline + 1 : text.size();
    const std::string_view line(text.data() + pos, (complete ? newline : text.size()) - pos);
    absl::Status status =
        complete ? ApplyLogLine(line, &out->records)
                 : Corrupt(absl::StrCat("the line has no end (", line.size(), " bytes)"));
    if (!status.ok()) {
      if (next >= text.size()) {
        // Only the last line can be the victim of a crash in the middle of an append; that
        // append was never acknowledged (Flush returns after the fsync), so nothing is lost.
        out->warnings.push_back(
            absl::StrCat(log_path, " line ", line_no,
                         ": ignored an incomplete last line (a write interrupted by a crash, never "
                         "acknowledged): ",
                         status.message()));
        break;
      }
      return absl::DataLossError(absl::StrCat(
          log_path, " line ", line_no, ": ", status.message(),
          ". Refusing to start: skipping the line could lose ownership records. Restore the "
          "state directory from a backup, or delete this line and every line after it (the "
          "changes in them are lost: check the connections they name)."));
    }
    out->log_valid_bytes = next;
    pos = next;
  }
  return absl::OkStatus();
}

}  // namespace kustodian
