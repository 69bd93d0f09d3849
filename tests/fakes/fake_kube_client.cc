#include "tests/fakes/fake_kube_client.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kustodian {
namespace {

using kube::WatchEvent;
using nlohmann::json;

std::string Meta(const json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  if (it == meta->end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool HasDeletionTimestamp(const json& object) { return !Meta(object, "deletionTimestamp").empty(); }

bool HasFinalizers(const json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return false;
  auto it = meta->find("finalizers");
  return it != meta->end() && it->is_array() && !it->empty();
}

// Everything that moves metadata.generation: the object without metadata and status.
json SpecPart(const json& object) {
  json out = object;
  if (out.is_object()) {
    out.erase("metadata");
    out.erase("status");
    out.erase("apiVersion");
    out.erase("kind");
  }
  return out;
}

absl::Status ConflictError(const std::string& resource, const std::string& name) {
  return absl::AbortedError(
      absl::StrCat("Operation cannot be fulfilled on ", resource, " \"", name,
                   "\": the object has been modified; please apply your changes to the latest "
                   "version and try again"));
}

bool HasStatusSubresource(const kube::Gvr& gvr) { return gvr.resource == "dataconnections"; }

}  // namespace

FakeKubeClient::FakeKubeClient() = default;

FakeKubeClient::~FakeKubeClient() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

std::string FakeKubeClient::ResourceKey(const kube::Gvr& gvr) {
  return absl::StrCat(gvr.group, "/", gvr.resource);
}

std::string FakeKubeClient::ObjectKey(const kube::Gvr& gvr, const std::string& ns,
                                      const std::string& name) {
  return absl::StrCat(ResourceKey(gvr), "/", gvr.namespaced ? ns : "", "/", name);
}

std::string FakeKubeClient::NowString() const {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

void FakeKubeClient::FailNext(Verb verb, int n, absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < n; ++i) {
    failures_[verb].push_back(status);
  }
}

void FakeKubeClient::ConflictNextUpdateStatus(int n) {
  FailNext(Verb::kUpdateStatus, n, ConflictError("dataconnections", "injected"));
}

void FakeKubeClient::BreakWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  ++break_epoch_;
  cv_.notify_all();
}

void FakeKubeClient::Compact() {
  std::lock_guard<std::mutex> lock(mu_);
  compacted_rv_ = rv_;
  events_.clear();
  ++compact_epoch_;
  cv_.notify_all();
}

void FakeKubeClient::SetBookmarkInterval(absl::Duration interval) {
  std::lock_guard<std::mutex> lock(mu_);
  bookmark_interval_ = interval;
}

int FakeKubeClient::calls(Verb verb) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(verb);
  return it == calls_.end() ? 0 : it->second;
}

int FakeKubeClient::calls(Verb verb, const std::string& resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = resource_calls_.find({verb, resource});
  return it == resource_calls_.end() ? 0 : it->second;
}

std::vector<std::string> FakeKubeClient::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

std::optional<json> FakeKubeClient::Object(const kube::Gvr& gvr, const std::string& ns,
                                           const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(ObjectKey(gvr, ns, name));
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> FakeKubeClient::Objects(const kube::Gvr& gvr, const std::string& ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<json> out;
  const std::string prefix = ResourceKey(gvr) + "/";
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (!ns.empty() && Meta(it->second, "namespace") != ns) continue;
    out.push_back(it->second);
  }
  return out;
}

int FakeKubeClient::open_watches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_watches_;
}

int64_t FakeKubeClient::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

absl::Status FakeKubeClient::BeginLocked(Verb verb, const kube::Gvr& gvr) {
  ++calls_[verb];
  ++resource_calls_[{verb, gvr.resource}];
  auto it = failures_.find(verb);
  if (it != failures_.end() && !it->second.empty()) {
    absl::Status st = it->second.front();
    it->second.pop_front();
    return st;
  }
  return absl::OkStatus();
}

void FakeKubeClient::RecordLocked(const kube::Gvr& gvr, const std::string& ns,
                                  WatchEvent::Type type, const json& object) {
  Event e;
  e.rv = rv_;
  e.resource_key = ResourceKey(gvr);
  e.ns = ns;
  e.type = type;
  e.object = object;
  events_.push_back(std::move(e));
  cv_.notify_all();
}

absl::StatusOr<json> FakeKubeClient::Get(const kube::Gvr& gvr, const std::string& ns,
                                         const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kGet, gvr); !st.ok()) return st;
  auto it = objects_.find(ObjectKey(gvr, ns, name));
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat(gvr.resource, " \"", name, "\" not found"));
  }
  return it->second;
}

absl::StatusOr<kube::ObjectList> FakeKubeClient::List(const kube::Gvr& gvr, const std::string& ns,
                                                      const kube::ListOptions& /*options*/) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kList, gvr); !st.ok()) return st;
  kube::ObjectList out;
  const std::string prefix = ResourceKey(gvr) + "/";
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (!ns.empty() && Meta(it->second, "namespace") != ns) continue;
    out.items.push_back(it->second);
  }
  out.resource_version = std::to_string(rv_);
  return out;
}

absl::Status FakeKubeClient::Watch(const kube::Gvr& gvr, const std::string& ns,
                                   const kube::WatchOptions& options,
                                   const std::function<bool(const WatchEvent&)>& on_event,
                                   const std::atomic<bool>* cancel) {
  std::unique_lock<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kWatch, gvr); !st.ok()) return st;
  int64_t cursor = rv_;
  if (!options.resource_version.empty() && options.resource_version != "0") {
    try {
      cursor = std::stoll(options.resource_version);
    } catch (...) {
      return absl::InvalidArgumentError("invalid resourceVersion");
    }
    if (cursor < compacted_rv_) {
      return absl::OutOfRangeError(
          absl::StrCat("too old resource version: ", cursor, " (", compacted_rv_, ")"));
    }
  }
  const std::string resource_key = ResourceKey(gvr);
  const uint64_t break_epoch = break_epoch_;
  const uint64_t compact_epoch = compact_epoch_;
  const auto start = std::chrono::steady_clock::now();
  auto last_sent = start;
  ++open_watches_;
  struct Closer {
    int* open;
    ~Closer() { --*open; }
  } closer{&open_watches_};
  while (true) {
    if (shutting_down_ || (cancel != nullptr && cancel->load())) return absl::OkStatus();
    if (break_epoch_ != break_epoch) {
      return absl::UnavailableError("watch connection broken (injected)");
    }
    if (compact_epoch_ != compact_epoch) {
      return absl::OutOfRangeError("too old resource version (compacted)");
    }
    // Next event after the cursor.
    auto it = std::upper_bound(events_.begin(), events_.end(), cursor,
                               [](int64_t rv, const Event& e) { return rv < e.rv; });
    std::optional<WatchEvent> to_send;
    for (; it != events_.end(); ++it) {
      cursor = it->rv;
      if (it->resource_key == resource_key && (ns.empty() || it->ns == ns)) {
        to_send = WatchEvent{it->type, it->object};
        break;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (!to_send && options.allow_bookmarks && bookmark_interval_ > absl::ZeroDuration() &&
        now - last_sent >= absl::ToChronoMilliseconds(bookmark_interval_)) {
      cursor = std::max(cursor, rv_);
      json bookmark = {{"metadata", {{"resourceVersion", std::to_string(cursor)}}}};
      to_send = WatchEvent{WatchEvent::Type::kBookmark, bookmark};
    }
    if (to_send) {
      last_sent = now;
      lock.unlock();
      bool more = on_event(*to_send);
      lock.lock();
      if (!more) return absl::OkStatus();
      continue;
    }
    if (options.timeout > absl::ZeroDuration() &&
        now - start >= absl::ToChronoMilliseconds(options.timeout)) {
      return absl::OkStatus();
    }
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

absl::StatusOr<json> FakeKubeClient::Create(const kube::Gvr& gvr, const std::string& ns,
                                            const json& object) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kCreate, gvr); !st.ok()) return st;
  if (!object.is_object()) return absl::InvalidArgumentError("body: expected an object");
  json obj = object;
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  std::string name = meta.value("name", "");
  if (name.empty()) {
    std::string prefix = meta.value("generateName", "");
    if (prefix.empty()) {
      return absl::InvalidArgumentError("metadata.name: Required value: name or generateName");
    }
    name = absl::StrCat(prefix, "x", uid_counter_ + 1);
    meta["name"] = name;
  }
  if (gvr.namespaced) {
    if (ns.empty()) return absl::InvalidArgumentError("metadata.namespace: Required value");
    meta["namespace"] = ns;
  }
  const std::string key = ObjectKey(gvr, ns, name);
  if (objects_.count(key) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(gvr.resource, " \"", name, "\" already exists"));
  }
  ++rv_;
  meta["uid"] = absl::StrCat("uid-", ++uid_counter_);
  meta["resourceVersion"] = std::to_string(rv_);
  meta["generation"] = 1;
  meta["creationTimestamp"] = NowString();
  meta.erase("deletionTimestamp");
  if (HasStatusSubresource(gvr)) obj.erase("status");
  objects_[key] = obj;
  object_gvrs_[key] = gvr;
  writes_.push_back(absl::StrCat("CREATE ", gvr.resource, " ", ns, "/", name));
  RecordLocked(gvr, ns, WatchEvent::Type::kAdded, obj);
  return obj;
}

absl::StatusOr<json> FakeKubeClient::ReplaceLocked(const kube::Gvr& gvr, const std::string& key,
                                                   json next, WriteKind kind,
                                                   const std::string& verb_name) {
  const json& stored = objects_[key];
  json& meta = next["metadata"];
  if (!meta.is_object()) meta = json::object();
  const json& old_meta = stored["metadata"];
  // Server-owned fields.
  for (const char* f : {"uid", "name", "namespace", "creationTimestamp", "deletionTimestamp"}) {
    if (old_meta.contains(f)) {
      meta[f] = old_meta[f];
    } else {
      meta.erase(f);
    }
  }
  meta["generation"] = old_meta.value("generation", int64_t{1});
  meta["resourceVersion"] = old_meta.value("resourceVersion", "");
  if (kind == WriteKind::kMain && HasStatusSubresource(gvr)) {
    if (stored.contains("status")) {
      next["status"] = stored["status"];
    } else {
      next.erase("status");
    }
  }
  if (kind == WriteKind::kMain && SpecPart(next) != SpecPart(stored)) {
    meta["generation"] = old_meta.value("generation", int64_t{1}) + 1;
  }
  const std::string ns = Meta(stored, "namespace");
  const std::string name = Meta(stored, "name");
  if (next == stored) {
    return next;  // a no-op write changes nothing, not even the resourceVersion
  }
  ++rv_;
  meta["resourceVersion"] = std::to_string(rv_);
  writes_.push_back(absl::StrCat(verb_name, " ", gvr.resource, " ", ns, "/", name,
                                 kind == WriteKind::kStatus ? "/status" : ""));
  if (HasDeletionTimestamp(next) && !HasFinalizers(next)) {
    objects_.erase(key);
    object_gvrs_.erase(key);
    RecordLocked(gvr, ns, WatchEvent::Type::kDeleted, next);
    return next;
  }
  objects_[key] = next;
  RecordLocked(gvr, ns, WatchEvent::Type::kModified, next);
  return next;
}

absl::StatusOr<json> FakeKubeClient::Update(const kube::Gvr& gvr, const std::string& ns,
                                            const json& object) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kUpdate, gvr); !st.ok()) return st;
  const std::string name = Meta(object, "name");
  const std::string key = ObjectKey(gvr, ns, name);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat(gvr.resource, " \"", name, "\" not found"));
  }
  const std::string rv = Meta(object, "resourceVersion");
  if (!rv.empty() && rv != Meta(it->second, "resourceVersion"))
    return ConflictError(gvr.resource, name);
  return ReplaceLocked(gvr, key, object, WriteKind::kMain, "UPDATE");
}

absl::StatusOr<json> FakeKubeClient::UpdateStatus(const kube::Gvr& gvr, const std::string& ns,
                                                  const json& object) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kUpdateStatus, gvr); !st.ok()) return st;
  const std::string name = Meta(object, "name");
  const std::string key = ObjectKey(gvr, ns, name);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat(gvr.resource, " \"", name, "\" not found"));
  }
  const std::string rv = Meta(object, "resourceVersion");
  if (!rv.empty() && rv != Meta(it->second, "resourceVersion"))
    return ConflictError(gvr.resource, name);
  json next = it->second;
  if (object.contains("status")) {
    next["status"] = object["status"];
  } else {
    next.erase("status");
  }
  return ReplaceLocked(gvr, key, std::move(next), WriteKind::kStatus, "UPDATE");
}

absl::StatusOr<json> FakeKubeClient::Patch(const kube::Gvr& gvr, const std::string& ns,
                                           const std::string& name, kube::PatchType type,
                                           const std::string& body,
                                           const std::string& subresource) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kPatch, gvr); !st.ok()) return st;
  const std::string key = ObjectKey(gvr, ns, name);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat(gvr.resource, " \"", name, "\" not found"));
  }
  json patch = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (patch.is_discarded()) return absl::InvalidArgumentError("patch body is not JSON");
  json next = it->second;
  if (type == kube::PatchType::kJson) {
    if (!patch.is_array()) return absl::InvalidArgumentError("JSON patch must be an array");
    try {
      next = next.patch(patch);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("the JSON patch failed: ", e.what()));
    }
    if (Meta(next, "resourceVersion") != Meta(it->second, "resourceVersion")) {
      // A patch that replaces metadata.resourceVersion makes it a precondition.
      return ConflictError(gvr.resource, name);
    }
  } else {
    if (!patch.is_object()) return absl::InvalidArgumentError("merge patch must be an object");
    std::string rv;
    if (patch.contains("metadata") && patch["metadata"].is_object()) {
      rv = patch["metadata"].value("resourceVersion", "");
    }
    if (!rv.empty() && rv != Meta(it->second, "resourceVersion")) {
      return ConflictError(gvr.resource, name);
    }
    next.merge_patch(patch);
  }
  if (subresource == "status") {
    json only_status = it->second;
    if (next.contains("status")) {
      only_status["status"] = next["status"];
    } else {
      only_status.erase("status");
    }
    return ReplaceLocked(gvr, key, std::move(only_status), WriteKind::kStatus, "PATCH");
  }
  return ReplaceLocked(gvr, key, std::move(next), WriteKind::kMain, "PATCH");
}

absl::Status FakeKubeClient::Delete(const kube::Gvr& gvr, const std::string& ns,
                                    const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status st = BeginLocked(Verb::kDelete, gvr); !st.ok()) return st;
  const std::string key = ObjectKey(gvr, ns, name);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    return absl::NotFoundError(absl::StrCat(gvr.resource, " \"", name, "\" not found"));
  }
  ++rv_;
  json obj = it->second;
  obj["metadata"]["resourceVersion"] = std::to_string(rv_);
  writes_.push_back(absl::StrCat("DELETE ", gvr.resource, " ", ns, "/", name));
  if (HasFinalizers(obj)) {
    if (!HasDeletionTimestamp(obj)) {
      obj["metadata"]["deletionTimestamp"] = NowString();
      obj["metadata"]["generation"] = obj["metadata"].value("generation", int64_t{1}) + 1;
      it->second = obj;
      RecordLocked(gvr, ns, WatchEvent::Type::kModified, obj);
    }
    return absl::OkStatus();
  }
  objects_.erase(it);
  object_gvrs_.erase(key);
  RecordLocked(gvr, ns, WatchEvent::Type::kDeleted, obj);
  return absl::OkStatus();
}

}  // namespace kustodian
