// The `kustodian run` flags of the Event Grid receiver (--eventgrid-*), as typed and converted.
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "controller/eventgrid_options.h"

namespace kustodian {

struct EventGridFlagInputs {
  std::string bind_address;
  std::string secret;
  std::string max_body = "1MiB";
  std::string coalesce = "30ms";
  std::string coalesce_max = "300ms";
};

// Adds --eventgrid-bind-address, --eventgrid-secret (also KUSTODIAN_EVENTGRID_SECRET),
// --eventgrid-max-body, --eventgrid-coalesce and --eventgrid-coalesce-max to `run`.
void AddEventGridFlags(CLI::App* run, EventGridFlagInputs* in);

// Converts the typed flags into `*out` ("0" as the address means off); appends one
// "--flag: what to fix" per value that does not parse to `*problems`. The rest is checked by
// ValidateDaemonOptions (EventGridOptionProblems).
void ResolveEventGridFlags(const EventGridFlagInputs& in, EventGridOptions* out,
                           std::vector<std::string>* problems);

}  // namespace kustodian
