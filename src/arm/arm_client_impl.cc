#include "src/arm/arm_client_impl.h"

#include <functional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/arm/arm_response.h"
#include "src/core/status.h"
#include "src/core/strings.h"
#include "src/model/arm_codec.h"

namespace kustodian {
namespace {

// A nextLink chain longer than this is treated as a server bug (or a loop).
constexpr int kMaxListPages = 1000;

ArmClientOptions Normalized(ArmClientOptions options) {
  while (!options.endpoint.empty() && options.endpoint.back() == '/') {
    options.endpoint.pop_back();
  }
  return options;
}

std::string DumpJson(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status UnexpectedStatus(std::string_view what, int status) {
  return absl::InternalError(
      absl::StrCat(Av(what), " answered with unexpected HTTP status ", status));
}

}  // namespace

ArmClientImpl::ArmClientImpl(ArmClientOptions options, HttpTransport& transport,
                             TokenSource& tokens, Clock& clock, Logger& logger,
                             ArmClientHooks hooks)
    : options_(Normalized(std::move(options))),
      transport_(transport),
      tokens_(tokens),
      clock_(clock),
      logger_(logger),
      hooks_(std::move(hooks)),
      limiter_(options_.rate_limit, clock) {}

absl::StatusOr<LiveConnection> ArmClientImpl::Get(const DataConnectionId& id) {
  absl::Duration budget = options_.max_inline_wait;
  return GetVersioned(id, options_.api_version, &budget);
}

absl::StatusOr<LiveConnection> ArmClientImpl::GetVersioned(const DataConnectionId& id,
                                                           const std::string& api_version,
                                                           absl::Duration* budget) {
  Call call;
  call.method = "GET";
  call.url = Url(id.RequestPath(), api_version);
  call.op_type = ArmOpType::kRead;
  call.subscription = id.subscription_id;
  KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, budget));
  std::string what = absl::StrCat("ARM GET ", id.RequestPath());
  if (answer.response.status != 200) {
    return UnexpectedStatus(what, answer.response.status);
  }
  return DecodeConnectionBody(what, answer.response);
}

absl::StatusOr<std::vector<LiveConnection>> ArmClientImpl::List(const DatabaseId& db) {
  KUS_ASSIGN_OR_RETURN(ListAnswer answer, ListIfChanged(db, nullptr));
  return std::move(answer.items);
}

absl::StatusOr<ListAnswer> ArmClientImpl::ListIfChanged(const DatabaseId& db,
                                                        const ListFingerprint* previous) {
  absl::Duration budget = options_.max_inline_wait;
  Call call;
  call.method = "GET";
  call.url = Url(absl::StrCat(db.RequestPath(), "/dataConnections"), options_.api_version);
  call.op_type = ArmOpType::kRead;
  call.subscription = db.subscription_id;
  std::string what = absl::StrCat("ARM LIST ", db.RequestPath(), "/dataConnections");
  ListAnswer out;
  // Pages identical to `previous` so far, not decoded yet: decoded only if a later page differs.
  std::vector<HttpResponse> undecoded;
  bool same = previous != nullptr && !previous->pages.empty();
  auto decode = [&](const HttpResponse& response) -> absl::StatusOr<std::string> {
    KUS_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(what, response));
    absl::StatusOr<ConnectionPage> decoded = DecodeList(body);
    if (!decoded.ok()) {
      return absl::InternalError(absl::StrCat(
          what, " returned a page that does not decode: ", decoded.status().message()));
    }
    for (LiveConnection& item : decoded->items) {
      out.items.push_back(std::move(item));
    }
    return std::move(decoded->next_link);
  };
  auto decode_undecoded = [&]() -> absl::Status {
    for (const HttpResponse& response : undecoded) {
      KUS_RETURN_IF_ERROR(decode(response).status());
    }
    undecoded.clear();
    return absl::OkStatus();
  };
  for (size_t page = 0; page < static_cast<size_t>(kMaxListPages); ++page) {
    KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, &budget));
    if (answer.response.status != 200) {
      return UnexpectedStatus(what, answer.response.status);
    }
    ListFingerprint::Page fp;
    fp.hash = std::hash<std::string_view>{}(answer.response.body);
    fp.size = answer.response.body.size();
    same = same && page < previous->pages.size() && previous->pages[page].hash == fp.hash &&
           previous->pages[page].size == fp.size;
    if (same) {
      fp.next_link = previous->pages[page].next_link;  // the same bytes hold the same nextLink
      undecoded.push_back(std::move(answer.response));
    } else {
      KUS_RETURN_IF_ERROR(decode_undecoded());
      KUS_ASSIGN_OR_RETURN(fp.next_link, decode(answer.response));
    }
    out.fingerprint.pages.push_back(fp);
    if (fp.next_link.empty()) {
      if (same && page + 1 == previous->pages.size()) {
        out.unchanged = true;
        return out;
      }
      KUS_RETURN_IF_ERROR(decode_undecoded());
      return out;
    }
    call.url = fp.next_link;  // absolute, used as is
  }
  return absl::InternalError(
      absl::StrCat(what, ": nextLink chain longer than ", kMaxListPages, " pages"));
}

absl::StatusOr<WriteResult> ArmClientImpl::Put(const DataConnectionSpec& spec) {
  std::string api_version =
      KindNeedsApi2025(spec.kind) ? options_.api_version_2025 : options_.api_version;
  Call call;
  call.method = "PUT";
  call.url = Url(spec.id.RequestPath(), api_version);
  call.body = DumpJson(EncodePutBody(spec));
  call.op_type = ArmOpType::kWrite;
  call.subscription = spec.id.subscription_id;
  call.correlation_id = NewRequestId();
  absl::Duration budget = options_.max_inline_wait;
  KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, &budget));
  const HttpResponse& response = answer.response;
  std::string what = absl::StrCat("ARM PUT ", spec.id.RequestPath());
  WriteResult result;
  result.client_request_id = answer.client_request_id;
  result.correlation_id = call.correlation_id;
  if (response.status == 200 || response.status == 201) {
    if (!response.body.empty()) {
      KUS_ASSIGN_OR_RETURN(result.resource, DecodeConnectionBody(what, response));
    }
  } else if (response.status == 202) {
    if (!response.body.empty()) {
      // Kusto may describe the resource on 202 too; the operation is what matters.
      absl::StatusOr<LiveConnection> live = DecodeConnectionBody(what, response);
      if (live.ok()) {
        result.resource = *std::move(live);
      }
    }
  } else {
    return UnexpectedStatus(what, response.status);
  }
  bool pending = result.resource.has_value() &&
                 !IsTerminalProvisioningState(result.resource->provisioning_state);
  if (response.status == 202 || HasOperationHeaders(response) || pending) {
    result.operation = OperationFromResponse(ArmOperation::Verb::kPut, spec.id, response,
                                             api_version, call.correlation_id, clock_.Now());
  }
  logger_.Debug("ARM PUT answered", {{"id", spec.id.Key()},
                                     {"status", std::to_string(response.status)},
                                     {"async", result.operation ? "true" : "false"},
                                     {"client_request_id", result.client_request_id},
                                     {"correlation_id", result.correlation_id}});
  return result;
}

absl::StatusOr<WriteResult> ArmClientImpl::Delete(const DataConnectionId& id) {
  Call call;
  call.method = "DELETE";
  call.url = Url(id.RequestPath(), options_.api_version);
  call.op_type = ArmOpType::kDelete;
  call.subscription = id.subscription_id;
  call.correlation_id = NewRequestId();
  call.pass_through = {404};
  absl::Duration budget = options_.max_inline_wait;
  KUS_ASSIGN_OR_RETURN(Answer answer, Send(call, &budget));
  const HttpResponse& response = answer.response;
  WriteResult result;
  result.client_request_id = answer.client_request_id;
  result.correlation_id = call.correlation_id;
  switch (response.status) {
    case 200:
      break;
    case 204:
    case 404:
      result.existed = false;
      break;
    case 201:
    case 202:
      result.operation =
          OperationFromResponse(ArmOperation::Verb::kDelete, id, response, options_.api_version,
                                call.correlation_id, clock_.Now());
      break;
    default:
      return UnexpectedStatus(absl::StrCat("ARM DELETE ", id.RequestPath()), response.status);
  }
  logger_.Debug("ARM DELETE answered", {{"id", id.Key()},
                                        {"status", std::to_string(response.status)},
                                        {"client_request_id", result.client_request_id},
                                        {"correlation_id", result.correlation_id}});
  return result;
}

}  // namespace kustodian
