// The per-request context shared by the Emulator's implementation files (emulator*.cc); not a
// public header: include it only from src/emulator.
#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "src/emulator/emulator.h"
#include "src/emulator/throttle.h"

namespace kustodian::emulator {

struct Emulator::Ctx {
  absl::Time now;
  std::string request_id;
  std::string correlation_id;
  std::string api_version;
  std::string route_template;
  std::string principal = "anonymous";
  std::string fault;  // the injected fault's kind, "" = none
  bool arm = false;   // an ARM call (gets the rate-limit headers)
  OpType op_type = OpType::kRead;
  std::optional<ThrottleDecision> throttle;
};

}  // namespace kustodian::emulator
