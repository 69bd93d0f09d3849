// Entry points of the fuzz harnesses (tests/fuzz/*_fuzzer.cc). Each takes one input and returns
// 0; a bug shows as a crash, a sanitizer report or an escaping exception. Built two ways:
//  - with clang and -DKUSTODIAN_LIBFUZZER, one libFuzzer binary per harness (build-fuzz,
//    `make fuzz`), where KUSTODIAN_FUZZ_ENTRY defines LLVMFuzzerTestOneInput;
//  - with g++ into fuzz_replay_test, which feeds every committed corpus file
//    (tests/fuzz/corpus/<harness>/) through the same functions under `make test`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kustodian::fuzz {

// src/manifest: LoadManifestText on the bytes as one YAML file.
int FuzzManifest(const uint8_t* data, size_t size);
// src/model/arm_codec.h: DecodeConnection / DecodeList / DecodeValidationResult on the bytes as
// JSON, then SpecFromLive, EncodePutBody and Diff on what decodes.
int FuzzArmCodec(const uint8_t* data, size_t size);
// controller/eventgrid_payload.h: ParseEventGridPayload on the bytes as a webhook body, with the
// default limits and with small ones.
int FuzzEventGrid(const uint8_t* data, size_t size);
// src/kube/watch_parser.h: the bytes as a watch stream, fed in pieces whose sizes come from the
// first input byte, then Finish.
int FuzzWatch(const uint8_t* data, size_t size);

}  // namespace kustodian::fuzz

#ifdef KUSTODIAN_LIBFUZZER
#define KUSTODIAN_FUZZ_ENTRY(fn) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return fn(data, size); }
#else
#define KUSTODIAN_FUZZ_ENTRY(fn)
#endif
