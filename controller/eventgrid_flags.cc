#include "controller/eventgrid_flags.h"

#include <tuple>

#include "controller/cli_internal.h"
#include "controller/options.h"

namespace kustodian {

void AddEventGridFlags(CLI::App* run, EventGridFlagInputs* in) {
  WithEnv(run->add_option("--eventgrid-bind-address", in->bind_address,
                          "HOST:PORT of the Event Grid webhook (path /eventgrid) that turns "
                          "Azure resource events into immediate reconciles; empty = off"));
  WithEnv(run->add_option("--eventgrid-secret", in->secret,
                          "Shared secret the webhook requires as ?code= or in the "
                          "X-Kustodian-Eventgrid-Secret header (required with "
                          "--eventgrid-bind-address; prefer the environment variable)"));
  WithEnv(run->add_option("--eventgrid-max-body", in->max_body,
                          "Largest Event Grid delivery accepted (bytes, KiB or MiB); larger "
                          "ones get 413")
              ->capture_default_str());
  WithEnv(run->add_option("--eventgrid-coalesce", in->coalesce,
                          "Quiet period gathering a burst of events for one connection into "
                          "one reconcile; 0 enqueues at once")
              ->capture_default_str());
  WithEnv(run->add_option("--eventgrid-coalesce-max", in->coalesce_max,
                          "Longest an event may wait in a continuing burst (a storm wakes a "
                          "connection at most once per this)")
              ->capture_default_str());
}

void ResolveEventGridFlags(const EventGridFlagInputs& in, EventGridOptions* out,
                           std::vector<std::string>* problems) {
  out->bind_address = in.bind_address;
  out->secret = in.secret;
  if (absl::StatusOr<size_t> size = ParseByteSize("--eventgrid-max-body", in.max_body); size.ok()) {
    out->max_body = *size;
  } else {
    problems->emplace_back(size.status().message());
  }
  for (auto [flag, text, field] :
       {std::make_tuple("--eventgrid-coalesce", &in.coalesce, &out->coalesce),
        std::make_tuple("--eventgrid-coalesce-max", &in.coalesce_max, &out->coalesce_max)}) {
    if (absl::StatusOr<absl::Duration> d = ParseDurationFlag(flag, *text); d.ok()) {
      *field = *d;
    } else {
      problems->emplace_back(d.status().message());
    }
  }
  if (in.bind_address == "0") {
    out->bind_address.clear();  // "0" reads as "off", like --metrics-bind-address
  }
}

}  // namespace kustodian
