// Watch: a chunked application/json stream of {"type","object"} events, one per line, from the
// store's event log; synthetic ADDED events for resourceVersion "" / "0"; bookmarks; 410 Gone as
// an ERROR event when the requested version is older than the log.
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/kubeapi/api.h"
#include "tests/kubeapi/api_server.h"
#include "tests/kubeapi/object_rules.h"
#include "tests/kubeapi/selectors.h"
#include "tests/kubeapi/table.h"

namespace kustodian::kubeapi {
namespace {

struct WatchState {
  const ResourceType* type;
  std::string ns;
  LabelSelector labels;
  FieldSelector fields;
  bool table = false;
  std::string include_object;
  bool bookmarks = false;
  bool initial = false;
  bool initial_end_bookmark = false;
  int64_t cursor = 0;
  uint64_t epoch = 0;
  absl::Time deadline;
  absl::Duration bookmark_interval;
  std::vector<json> initial_objects;  // served form

  bool Matches(const json& served) const {
    const json& meta = served.value("metadata", json::object());
    if (!ns.empty() && meta.value("namespace", "") != ns) return false;
    return labels.Matches(meta.value("labels", json::object())) && fields.Matches(served);
  }
  std::string Line(const std::string& type_name, const json& served) const {
    json object = served;
    if (table && type_name != "BOOKMARK" && type_name != "ERROR") {
      object = BuildTable(*type, {served}, include_object, "", absl::Now());
    }
    return json{{"type", type_name}, {"object", object}}.dump() + "\n";
  }
  std::string Bookmark(bool initial_end) const {
    json meta = {{"resourceVersion", std::to_string(cursor)}, {"creationTimestamp", nullptr}};
    if (initial_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    return Line("BOOKMARK",
                {{"kind", type->kind}, {"apiVersion", type->ApiVersion()}, {"metadata", meta}});
  }
};

std::string ExpiredLine(int64_t requested, int64_t oldest) {
  ApiError err = Expired(absl::StrCat("too old resource version: ", requested, " (", oldest, ")"));
  return json{{"type", "ERROR"}, {"object", err.ToStatus()}}.dump() + "\n";
}

}  // namespace

ServerResponse Api::Watch(const ServerRequest& req, const RequestInfo& info) {
  auto state = std::make_shared<WatchState>();
  state->type = info.type;
  state->ns = info.ns;
  auto labels = LabelSelector::Parse(req.Query("labelSelector").value_or(""));
  if (!labels.ok()) return ErrorResponse(BadRequest(std::string(labels.status().message())));
  auto fields = FieldSelector::Parse(req.Query("fieldSelector").value_or(""));
  if (!fields.ok()) return ErrorResponse(BadRequest(std::string(fields.status().message())));
  state->labels = *labels;
  state->fields = *fields;
  state->table = WantsTable(req.Header("Accept").value_or(""));
  state->include_object = req.Query("includeObject").value_or("Metadata");
  std::string bm = req.Query("allowWatchBookmarks").value_or("");
  state->bookmarks = bm == "true" || bm == "1";
  std::string sie = req.Query("sendInitialEvents").value_or("");
  std::string rv = req.Query("resourceVersion").value_or("");
  state->initial = rv.empty() || rv == "0" || sie == "true";
  state->initial_end_bookmark = sie == "true" && state->bookmarks;
  int64_t timeout = 0;
  state->deadline = absl::Now() + options_.default_watch_timeout;
  if (absl::SimpleAtoi(req.Query("timeoutSeconds").value_or(""), &timeout) && timeout > 0) {
    state->deadline = absl::Now() + absl::Seconds(timeout);
  }
  state->bookmark_interval = options_.bookmark_interval;
  state->epoch = store_.Epoch();
  int64_t requested = 0;
  if (!rv.empty() && !absl::SimpleAtoi(rv, &requested)) {
    return ErrorResponse(BadRequest(absl::StrCat("invalid resource version \"", rv, "\"")));
  }
  {
    ObjectStore::Txn txn(&store_);
    if (state->initial) {
      for (const json* o : txn.List(info.type->storage, info.ns)) {
        json served = ToServed(*info.type, *o);
        if (state->Matches(served)) state->initial_objects.push_back(std::move(served));
      }
      state->cursor = txn.CurrentRv();
    } else {
      state->cursor = requested;
    }
  }
  ObjectStore* store = &store_;
  ServerResponse r;
  // Not plain "application/json": cpp-httplib would gzip that for clients that accept gzip (as
  // client-go does) and hold events back in the compressor. client-go ignores the parameter.
  r.content_type = "application/json;stream=watch";
  r.stream = [state, store](const ChunkWriter& write) -> bool {
    store->AddWatcher(1);
    struct Done {
      ObjectStore* s;
      ~Done() { s->AddWatcher(-1); }
    } done{store};
    if (!state->initial && store->TooOld(state->cursor)) {
      return write(ExpiredLine(state->cursor, store->OldestWatchable()));
    }
    for (const json& o : state->initial_objects) {
      if (!write(state->Line("ADDED", o))) return false;
    }
    state->initial_objects.clear();
    if (state->initial_end_bookmark && !write(state->Bookmark(true))) return false;
    absl::Time next_bookmark = absl::Now() + state->bookmark_interval;
    for (;;) {
      std::vector<StoredEvent> events;
      int64_t before = state->cursor;
      absl::Time until =
          state->bookmarks ? std::min(state->deadline, next_bookmark) : state->deadline;
      switch (
          store->WaitEvents(state->type->storage, &state->cursor, state->epoch, until, &events)) {
        case ObjectStore::Wait::kStopped:
        case ObjectStore::Wait::kBroken:
          return true;
        case ObjectStore::Wait::kExpired:
          return write(ExpiredLine(before, store->OldestWatchable()));
        case ObjectStore::Wait::kTimeout:
          if (absl::Now() >= state->deadline) return true;
          if (!write(state->Bookmark(false))) return false;
          next_bookmark = absl::Now() + state->bookmark_interval;
          break;
        case ObjectStore::Wait::kEvents:
          for (const StoredEvent& e : events) {
            json now = ToServed(*state->type, e.object);
            bool now_match = state->Matches(now);
            bool old_match = !e.old.is_null() && state->Matches(ToServed(*state->type, e.old));
            std::string type = e.type;
            if (e.type == "MODIFIED") {
              if (now_match && !old_match) type = "ADDED";
              if (!now_match && old_match) type = "DELETED";
              if (!now_match && !old_match) continue;
            } else if (!now_match) {
              continue;
            }
            if (!write(state->Line(type, now))) return false;
          }
          break;
      }
    }
  };
  return r;
}

}  // namespace kustodian::kubeapi
