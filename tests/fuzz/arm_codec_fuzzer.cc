// Fuzz harness: the ARM JSON codec (src/model/arm_codec.h) on arbitrary bytes taken as a
// response body. Decoding must return a status, never throw or crash; what decodes must survive
// SpecFromLive, EncodePutBody and Diff.
#include <string>

#include "nlohmann/json.hpp"
#include "src/model/arm_codec.h"
#include "src/model/diff.h"
#include "src/model/validation.h"
#include "tests/fuzz/fuzz_entry.h"

namespace kustodian::fuzz {
namespace {

void Exercise(const LiveConnection& live) {
  DataConnectionSpec spec = SpecFromLive(live);
  (void)EncodePutBody(spec).dump();
  (void)EncodeValidationRequest(spec).dump();
  (void)ValidateSpec(spec);
  (void)Diff(&spec, &live);
  (void)Diff(nullptr, &live);
}

}  // namespace

int FuzzArmCodec(const uint8_t* data, size_t size) {
  const char* begin = reinterpret_cast<const char*>(data);
  nlohmann::json body =
      nlohmann::json::parse(begin, begin + size, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  absl::StatusOr<LiveConnection> one = DecodeConnection(body);
  if (one.ok()) Exercise(*one);
  absl::StatusOr<ConnectionPage> page = DecodeList(body);
  if (page.ok()) {
    for (const LiveConnection& live : page->items) Exercise(live);
  }
  (void)DecodeValidationResult(body);
  return 0;
}

}  // namespace kustodian::fuzz

KUSTODIAN_FUZZ_ENTRY(kustodian::fuzz::FuzzArmCodec)
