// Shared pieces of the spec.credentialRef tests: Secret objects and a PrincipalClientFactory
// whose clients act on one FakeArmClient ("Azure") and record which principal made each call.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"
#include "src/arm/principal_clients.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "tests/fakes/fake_arm_client.h"

namespace kustodian::credtest {

using nlohmann::json;

inline constexpr char kSecretValue[] = "s3cr3t-V4lue~";

inline json SecretObject(const std::string& ns, const std::string& name,
                         const std::map<std::string, std::string>& values) {
  json data = json::object();
  for (const auto& [k, v] : values) {
    data[k] = absl::Base64Escape(Av(v));
  }
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"type", "Opaque"},
          {"data", data}};
}

inline std::map<std::string, std::string> GoodKeys(const std::string& secret = kSecretValue) {
  return {{"clientId", "app-1"}, {"tenantId", "tenant-1"}, {"clientSecret", secret}};
}

// Makes clients over one FakeArmClient ("Azure") that record which principal each call used,
// and can make a principal's calls fail.
class FakePrincipals : public PrincipalClientFactory {
 public:
  explicit FakePrincipals(FakeArmClient& azure) : azure_(azure) {}

  absl::StatusOr<std::unique_ptr<ArmClient>> ForPrincipal(const ServicePrincipal& p) override {
    return std::unique_ptr<ArmClient>(std::make_unique<Client>(*this, p));
  }
  std::vector<std::string> used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }
  // Calls as a principal whose secret is `secret` fail with `error`.
  void Refuse(const std::string& secret, absl::Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    refused_[secret] = std::move(error);
  }

 private:
  class Client final : public ArmClient {
   public:
    Client(FakePrincipals& f, ServicePrincipal p) : f_(f), p_(std::move(p)) {}
    absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override {
      KUS_RETURN_IF_ERROR(f_.Use(p_, "GET"));
      return f_.azure_.Get(id);
    }
    absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override {
      KUS_RETURN_IF_ERROR(f_.Use(p_, "LIST"));
      return f_.azure_.List(db);
    }
    absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override {
      KUS_RETURN_IF_ERROR(f_.Use(p_, "PUT"));
      return f_.azure_.Put(spec);
    }
    absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override {
      KUS_RETURN_IF_ERROR(f_.Use(p_, "DELETE"));
      return f_.azure_.Delete(id);
    }
    absl::StatusOr<PollResult> Poll(const ArmOperation& op) override {
      KUS_RETURN_IF_ERROR(f_.Use(p_, "POLL"));
      return f_.azure_.Poll(op);
    }
    absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override {
      KUS_RETURN_IF_ERROR(f_.Use(p_, "VALIDATE"));
      return f_.azure_.Validate(spec);
    }

   private:
    FakePrincipals& f_;
    const ServicePrincipal p_;
  };

  absl::Status Use(const ServicePrincipal& p, const std::string& verb) {
    std::lock_guard<std::mutex> lock(mu_);
    used_.push_back(verb + " as " + p.client_id + "/" + p.client_secret);
    auto it = refused_.find(p.client_secret);
    return it == refused_.end() ? absl::OkStatus() : it->second;
  }

  FakeArmClient& azure_;
  mutable std::mutex mu_;
  std::vector<std::string> used_;                // guarded by mu_
  std::map<std::string, absl::Status> refused_;  // guarded by mu_
};

// The daemon's ArmClient as the composition root builds it: its own calls go to "Azure" as the
// daemon, and it makes principal clients (FakePrincipals) over the same "Azure".
class FakeArmWithPrincipals final : public ArmClient, public FakePrincipals {
 public:
  explicit FakeArmWithPrincipals(FakeArmClient& azure) : FakePrincipals(azure), azure_(azure) {}
  absl::StatusOr<LiveConnection> Get(const DataConnectionId& id) override { return azure_.Get(id); }
  absl::StatusOr<std::vector<LiveConnection>> List(const DatabaseId& db) override {
    return azure_.List(db);
  }
  absl::StatusOr<WriteResult> Put(const DataConnectionSpec& spec) override {
    ++daemon_writes_;
    return azure_.Put(spec);
  }
  absl::StatusOr<WriteResult> Delete(const DataConnectionId& id) override {
    ++daemon_writes_;
    return azure_.Delete(id);
  }
  absl::StatusOr<PollResult> Poll(const ArmOperation& op) override { return azure_.Poll(op); }
  absl::StatusOr<std::vector<std::string>> Validate(const DataConnectionSpec& spec) override {
    return azure_.Validate(spec);
  }
  // PUTs and DELETEs made as the daemon's own identity.
  int daemon_writes() const { return daemon_writes_.load(); }

 private:
  FakeArmClient& azure_;
  std::atomic<int> daemon_writes_{0};
};

}  // namespace kustodian::credtest
