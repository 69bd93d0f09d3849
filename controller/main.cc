// Composition root of the `kustodian` binary: the real clock, standard streams and the real
// ARM stack factory (HTTP transport, token source, ArmClientImpl with metric hooks, built by
// the CLI once the flags are known), handed to the CLI. Nothing else constructs real
// implementations of the seams.
#include <csignal>
#include <iostream>

#include "controller/arm_stack.h"
#include "controller/cli.h"
#include "src/core/clock.h"

int main(int argc, char** argv) {
  // A peer hanging up on a TLS connection must not kill the daemon (OpenSSL uses write(2)).
  std::signal(SIGPIPE, SIG_IGN);
  kustodian::RealClock clock;
  kustodian::CliEnv env{clock, std::cout, std::cerr, kustodian::BuildArmStack};
  return kustodian::RunCli(argc, argv, env);
}
