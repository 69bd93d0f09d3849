#include "controller/kube_source.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/kube_shard.h"
#include "src/manifest/manifest.h"

namespace kustodian {
namespace {

using nlohmann::json;

// A resourceVersion as a number when it is one (etcd's are); -1 otherwise.
int64_t RvNumber(const std::string& rv) {
  int64_t n = -1;
  auto [ptr, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), n);
  if (ec != std::errc() || ptr != rv.data() + rv.size()) {
    return -1;
  }
  return n;
}

// spec.policy.deletion read from the raw object (for a spec that fails to load as a whole).
std::optional<DeletionPolicy> RawDeletionPolicy(const json& object) {
  const json* p = &object;
  for (const char* f : {"spec", "policy", "deletion"}) {
    if (!p->is_object() || !p->contains(f)) {
      return std::nullopt;
    }
    p = &(*p)[f];
  }
  if (!p->is_string()) {
    return std::nullopt;
  }
  std::string v = absl::AsciiStrToLower(p->get<std::string>());
  if (v == "orphan") return DeletionPolicy::kOrphan;
  if (v == "delete") return DeletionPolicy::kDelete;
  return std::nullopt;
}

bool HasAnyFinalizer(const json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return false;
  auto it = meta->find("finalizers");
  return it != meta->end() && it->is_array() && !it->empty();
}

// True when status.armId names `key` and the status is not a conflict (e.g. NotManaged).
bool StatusOwns(const json& object, const std::string& key) {
  auto st = object.find("status");
  if (st == object.end() || !st->is_object() || !st->contains("armId") ||
      !(*st)["armId"].is_string()) {
    return false;
  }
  if (st->value("phase", "") == "Conflict") {
    return false;
  }
  absl::StatusOr<DataConnectionId> id = DataConnectionId::Parse((*st)["armId"].get<std::string>());
  return id.ok() && id->Key() == key;
}

}  // namespace

DataConnectionSpec ReadKubeSpec(const json& object, const std::string& ref,
                                std::vector<std::string>* errors) {
  // Only what the manifest reader knows: server-managed metadata (uid, managedFields, ...) and
  // status are left out.
  json doc = json::object();
  doc["apiVersion"] = std::string(kManifestApiVersion);
  doc["kind"] = std::string(kManifestKind);
  json meta = json::object();
  if (auto m = object.find("metadata"); m != object.end() && m->is_object()) {
    for (const char* f : {"name", "namespace", "generation", "annotations"}) {
      if (m->contains(f)) {
        meta[f] = (*m)[f];
      }
    }
  }
  doc["metadata"] = meta;
  if (object.contains("spec")) {
    doc["spec"] = object["spec"];
  }
  std::string text = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  FileLoadResult loaded = LoadManifestText(text, ref, LoadOptions{});
  for (const ManifestError& e : loaded.errors) {
    errors->push_back(e.field.empty() ? e.message : absl::StrCat(e.field, ": ", e.message));
  }
  if (loaded.manifests.size() != 1) {
    if (errors->empty()) {
      errors->push_back("the resource could not be read as a DataConnection");
    }
    return DataConnectionSpec{};
  }
  DataConnectionSpec spec = loaded.manifests.front().spec;
  spec.source.line = 0;
  return spec;
}

KubeSource::KubeSource(KubeSourceDeps deps, KubeSourceOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

KubeSource::~KubeSource() { Stop(); }

std::string KubeSource::RefOf(const std::string& ns, const std::string& name) {
  return absl::StrCat(kKubeRefPrefix, ns, "/", name);
}

bool KubeSource::IsRef(const std::string& key) { return absl::StartsWith(key, kKubeRefPrefix); }

void KubeSource::Start() {
  std::vector<std::string> scopes = options_.namespaces;
  if (scopes.empty()) {
    scopes.push_back("");
  }
  for (const std::string& ns : scopes) {
    kube::ReflectorOptions ro;
    ro.gvr = kube::DataConnectionGvr();
    ro.ns = ns;
    ro.watch_timeout = options_.watch_timeout;
    ro.min_backoff = options_.min_backoff;
    ro.max_backoff = options_.max_backoff;
    kube::ReflectorHandler handler;
    handler.on_replace = [this, ns](const std::vector<json>& items) { OnReplace(ns, items); };
    handler.on_upsert = [this](const json& o) { OnUpsert(o); };
    handler.on_delete = [this](const json& o) { OnDelete(o); };
    reflectors_.push_back(std::make_unique<kube::Reflector>(deps_.client, deps_.clock, deps_.logger,
                                                            std::move(ro), std::move(handler)));
  }
  started_.store(true, std::memory_order_release);  // found by TSan: /readyz during Start()
  for (auto& r : reflectors_) {
    r->Start();
  }
  deps_.logger.Info(
      "watching DataConnections",
      {{"namespaces", options_.namespaces.empty() ? std::string("(all)")
                                                  : absl::StrJoin(options_.namespaces, ",")},
       {"shard", absl::StrCat(options_.shard_index, "/", options_.shard_count)}});
}

void KubeSource::Stop() {
  for (auto& r : reflectors_) {
    r->Stop();
  }
}

bool KubeSource::Synced() const {
  if (!started_.load(std::memory_order_acquire) || reflectors_.empty()) {
    return false;
  }
  return std::all_of(reflectors_.begin(), reflectors_.end(),
                     [](const auto& r) { return r->Synced(); });
}

int64_t KubeSource::lists() const {
  int64_t n = 0;
  if (!started_.load(std::memory_order_acquire)) {
    return 0;
  }
  for (const auto& r : reflectors_) {
    n += r->lists();
  }
  return n;
}

void KubeSource::Flush(std::vector<std::string> to_enqueue, bool desired_changed) {
  std::sort(to_enqueue.begin(), to_enqueue.end());
  to_enqueue.erase(std::unique(to_enqueue.begin(), to_enqueue.end()), to_enqueue.end());
  for (const std::string& k : to_enqueue) {
    deps_.enqueue(k);
  }
  if (desired_changed && deps_.on_desired_changed) {
    deps_.on_desired_changed();
  }
}

void KubeSource::OnReplace(const std::string& ns, const std::vector<json>& items) {
  std::vector<std::string> to_enqueue;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> present;
    for (const json& o : items) {
      present.insert(RefOf(kube::NamespaceOf(o), kube::NameOf(o)));
    }
    std::vector<std::string> gone;
    for (const auto& [ref, state] : objects_) {
      if ((ns.empty() || state.ns == ns) && present.count(ref) == 0) {
        gone.push_back(ref);
      }
    }
    for (const std::string& ref : gone) {
      GoneLocked(ref, &to_enqueue);
    }
    for (const json& o : items) {
      UpsertLocked(o, &to_enqueue);
    }
  }
  Flush(std::move(to_enqueue), true);
}

void KubeSource::OnUpsert(const json& object) {
  std::vector<std::string> to_enqueue;
  {
    std::lock_guard<std::mutex> lock(mu_);
    UpsertLocked(object, &to_enqueue);
  }
  Flush(std::move(to_enqueue), true);
}

void KubeSource::OnDelete(const json& object) {
  std::vector<std::string> to_enqueue;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string ref = RefOf(kube::NamespaceOf(object), kube::NameOf(object));
    auto it = objects_.find(ref);
    // A DELETED event of an older incarnation (other uid) does not remove a newer one.
    if (it != objects_.end() &&
        (kube::UidOf(object).empty() || it->second.uid == kube::UidOf(object))) {
      GoneLocked(ref, &to_enqueue);
    }
  }
  Flush(std::move(to_enqueue), true);
}

bool KubeSource::ClaimedByOtherLocked(const std::string& key, const std::string& ref) const {
  for (const auto& [other_ref, other] : objects_) {
    if (other_ref != ref && !other.deleting && other.key == key) {
      return true;
    }
  }
  return false;
}

void KubeSource::DropOwnershipLocked(const KubeObjectState& state) {
  for (const std::string& key : state.keys) {
    if (!ClaimedByOtherLocked(key, state.ref) && deps_.journal.Remove(key)) {
      deps_.logger.Info(
          "DataConnection went away without kustodian's finalizer; the connection is left in "
          "Azure",
          {{"resource", state.ref}, {"key", key}});
    }
  }
}

void KubeSource::GoneLocked(const std::string& ref, std::vector<std::string>* to_enqueue) {
  auto it = objects_.find(ref);
  if (it == objects_.end()) {
    return;
  }
  KubeObjectState state = std::move(it->second);
  objects_.erase(it);
  // Gone for good: with our finalizer it could not have gone before we let it go, so whatever
  // is still recorded as owned was released by someone else removing the finalizer.
  DropOwnershipLocked(state);
  for (std::string& k : deps_.desired.RemoveFile(ref)) {
    to_enqueue->push_back(std::move(k));
  }
  for (const std::string& k : state.keys) {
    to_enqueue->push_back(k);
  }
}

void KubeSource::UpsertLocked(const json& object, std::vector<std::string>* to_enqueue) {
  const std::string ns = kube::NamespaceOf(object);
  const std::string name = kube::NameOf(object);
  if (name.empty() || !InShard(ns, name, options_.shard_count, options_.shard_index)) {
    return;  // another shard's resource
  }
  const std::string ref = RefOf(ns, name);
  const std::string uid = kube::UidOf(object);
  auto it = objects_.find(ref);
  if (it != objects_.end() && !uid.empty() && it->second.uid != uid) {
    GoneLocked(ref, to_enqueue);  // deleted and created again under the same name
    it = objects_.end();
  }
  if (it != objects_.end()) {
    int64_t have = RvNumber(kube::ResourceVersionOf(it->second.object));
    int64_t got = RvNumber(kube::ResourceVersionOf(object));
    if (have >= 0 && got >= 0 && got < have) {
      return;  // older than what we already know (e.g. an event behind our own write)
    }
  }
  if (kube::IsBeingDeleted(object) && !HasAnyFinalizer(object)) {
    // The last finalizer is gone: the object no longer exists (this is its final state, e.g.
    // the answer to our own finalizer removal, possibly after its DELETED event).
    if (it != objects_.end()) {
      GoneLocked(ref, to_enqueue);
    }
    return;
  }
  const bool first_sight = it == objects_.end();
  const bool had_finalizer = !first_sight && it->second.has_finalizer;
  const bool was_deleting = !first_sight && it->second.deleting;
  KubeObjectState& state = objects_[ref];
  state.object = object;
  state.ref = ref;
  state.ns = ns;
  state.name = name;
  state.uid = uid;
  state.generation = kube::GenerationOf(object);
  state.deleting = kube::IsBeingDeleted(object);
  state.has_finalizer = kube::HasFinalizer(object, kube::kFinalizer);
  to_enqueue->push_back(ref);

  std::vector<std::string> errors;
  DataConnectionSpec spec = ReadKubeSpec(object, ref, &errors);
  const bool valid = errors.empty();
  if (valid) {
    state.key = spec.id.Key();
    state.credential_ref = spec.credential_ref;
  }
  // Earlier targets stay only while they are still owned (their deletion is pending).
  for (auto k = state.keys.begin(); k != state.keys.end();) {
    if (*k != state.key && !deps_.journal.Contains(*k)) {
      k = state.keys.erase(k);
    } else {
      ++k;
    }
  }
  if (!state.key.empty()) {
    state.keys.insert(state.key);
  }
  if (!valid && state.errors != errors) {
    deps_.logger.Warn("DataConnection has an invalid spec; keeping its last good state",
                      {{"resource", ref}, {"errors", absl::StrJoin(errors, "; ")}});
  }
  state.errors = errors;

  // A resource carrying our finalizer owns its target: seen so at (re)start, when the finalizer
  // appears (added by us or by the leader of the moment), or when the status (written by the
  // leader) reports the current target as managed. Not merely because the target changed, and
  // not from the status of a resource already known to be deleting: once its target is released
  // (orphaned or deleted), the status still reads "managed" until the object goes, and a later
  // version of it must not take the target back (the finalizer would then never be removed).
  if (state.has_finalizer && !state.key.empty() && !deps_.journal.Contains(state.key) &&
      (first_sight || !had_finalizer || (!was_deleting && StatusOwns(object, state.key)))) {
    OwnershipRecord rec;
    rec.id = valid ? spec.id.RequestPath() : state.key;
    rec.kind = valid ? std::string(KindName(spec.kind)) : "";
    rec.deletion = valid ? spec.policy.deletion : DeletionPolicy::kDelete;
    rec.file = ref;
    rec.origin = OwnershipRecord::Origin::kCreated;
    rec.since = deps_.clock.Now();
    deps_.journal.Add(state.key, std::move(rec));
  }

  if (state.deleting) {
    bool policy_changed = false;
    if (!state.has_finalizer) {
      DropOwnershipLocked(state);
    } else if (!state.key.empty()) {
      // The policy at deletion time decides, even when no reconcile saw it yet.
      std::optional<DeletionPolicy> policy =
          valid ? std::optional<DeletionPolicy>(spec.policy.deletion) : RawDeletionPolicy(object);
      std::optional<OwnershipRecord> rec = deps_.journal.Get(state.key);
      if (rec && policy && rec->deletion != *policy) {
        rec->deletion = *policy;
        deps_.journal.Add(state.key, *rec);
        policy_changed = true;
      }
    }
    for (std::string& k : deps_.desired.RemoveFile(ref)) {
      to_enqueue->push_back(std::move(k));
    }
    // The targets are woken when the deletion starts (or its policy changes), not on every
    // later version: our own status writes during the Azure delete come back here, and waking
    // the key for each of them would poll the operation at once instead of after its
    // Retry-After.
    if (!was_deleting || policy_changed) {
      for (const std::string& k : state.keys) {
        to_enqueue->push_back(k);
      }
    }
    return;
  }
  if (valid) {
    for (std::string& k : deps_.desired.ApplyFile(ref, {std::move(spec)})) {
      to_enqueue->push_back(std::move(k));
    }
  } else {
    deps_.desired.KeepFile(ref, errors);  // an invalid spec is never a deletion
  }
}

std::optional<KubeObjectState> KubeSource::Object(const std::string& ref) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(ref);
  if (it == objects_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<std::string> KubeSource::OwnerOf(const std::string& key) const {
  std::optional<DesiredEntry> entry = deps_.desired.Get(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (entry && objects_.count(entry->file) > 0) {
    return entry->file;
  }
  for (const auto& [ref, state] : objects_) {
    if (state.key == key) {
      return ref;
    }
  }
  for (const auto& [ref, state] : objects_) {
    if (state.keys.count(key) > 0) {
      return ref;
    }
  }
  return std::nullopt;
}

std::optional<SecretRef> KubeSource::CredentialRefOf(const std::string& key) const {
  std::optional<std::string> owner = OwnerOf(key);
  if (!owner) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(*owner);
  if (it == objects_.end() || it->second.credential_ref.empty()) {
    return std::nullopt;
  }
  return SecretRef{it->second.ns, it->second.credential_ref};
}

std::vector<std::string> KubeSource::RefsForKey(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [ref, state] : objects_) {
    if (state.keys.count(key) > 0) {
      out.push_back(ref);
    }
  }
  return out;
}

std::optional<DeletionPolicy> KubeSource::DeletionPolicyOfDeleted(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [ref, state] : objects_) {
    if (state.deleting && state.keys.count(key) > 0) {
      if (std::optional<DeletionPolicy> p = RawDeletionPolicy(state.object)) {
        return p;
      }
    }
  }
  return std::nullopt;
}

bool KubeSource::Claimed(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ClaimedByOtherLocked(key, "");
}

size_t KubeSource::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace kustodian
