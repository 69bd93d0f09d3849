// A ConnectionStatus as one compact byte string, the form StatusStore keeps in memory. At
// 10,000 connections the structs (a dozen strings, three conditions of four strings each,
// mostly repeating one reason and message) took about 17 MiB; packed they take about a third.
// Not packed: key and last_sync_time, which the store keeps apart (the key is its map's, and
// lastSyncTime moves at every resync without anything else changing).
#pragma once

#include <string>
#include <string_view>

#include "controller/connection_status.h"

namespace kustodian {

// Every field of `status` but key and last_sync_time. Never fails.
std::string PackStatus(const ConnectionStatus& status);

// The status PackStatus packed, with key "" and no last_sync_time. Only PackStatus's output is
// ever unpacked; bytes that end early leave the remaining fields at their defaults.
ConnectionStatus UnpackStatus(std::string_view packed);

}  // namespace kustodian
