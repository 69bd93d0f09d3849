// The `kustodian` command line (CLI11): run, plan, validate, export and version. Every flag can
// also come from the environment as KUSTODIAN_<FLAG_IN_UPPER_SNAKE_CASE> (e.g.
// KUSTODIAN_CONFIG_DIR); ARM credentials come from --token or the AZURE_* variables. The
// environment outside of flags (clock, output streams, how the ArmClient is built) is injected
// so tests can run subcommands against a FakeArmClient.
#pragma once

#include <ostream>
#include <string>

#include "controller/arm_stack.h"
#include "controller/kube_client_factory.h"
#include "src/core/clock.h"
#include "src/core/logging.h"

namespace kustodian {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // bad options, manifest errors, ARM failures
inline constexpr int kExitChanges = 2;  // `plan`: something is not in sync

struct CliEnv {
  Clock& clock;
  std::ostream& out;  // results (plan, validate, version)
  std::ostream& err;  // usage errors
  ArmStackFactory make_arm = BuildArmStack;
  Logger::Sink log_sink = nullptr;                // nullptr = stderr
  KubeClientFactory make_kube = BuildKubeClient;  // `run --source=kubernetes`
};

// Parses `argv` and runs the chosen subcommand. Returns the process exit code: kExitOk;
// kExitError for bad options (with a message saying what to fix) or a failed command;
// kExitChanges from `plan` when something would change. --help anywhere prints usage and
// returns kExitOk.
int RunCli(int argc, const char* const* argv, CliEnv& env);

// "KUSTODIAN_" + the flag without dashes, upper-cased, '-' -> '_' ("--config-dir" ->
// "KUSTODIAN_CONFIG_DIR").
std::string FlagEnvName(std::string_view flag);

// The version string compiled in (CMake's project version), e.g. "0.1.0".
std::string KustodianVersion();

}  // namespace kustodian
