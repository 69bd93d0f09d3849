# Fuzz harnesses (tests/fuzz), included from the top CMakeLists.txt.
#  - Normal builds (g++): fuzz_replay_test, a GoogleTest binary that feeds every committed corpus
#    file (tests/fuzz/corpus/<harness>/) through its harness, so `make test` catches regressions.
#  - KUSTODIAN_FUZZ=ON (clang++, build-fuzz): one libFuzzer binary fuzz_<harness> per harness;
#    `make fuzz` builds only those (and the libraries they need) and runs tests/fuzz/run.sh.
# A harness is tests/fuzz/<harness>_fuzzer.cc. List it in KUSTODIAN_FUZZ_HARNESSES with the
# libraries the replay test needs, and in kus_fuzz_deps_<harness> what its libFuzzer binary links:
# libraries and/or source files (compiling the one source file under test directly keeps the
# clang build small: build-fuzz does not need the whole controller).
set(KUSTODIAN_FUZZ_HARNESSES manifest arm_codec eventgrid watch)
set(kus_replay_libs kus_manifest kus_model kus_controller kus_kube)
set(kus_fuzz_deps_manifest kus_manifest)
set(kus_fuzz_deps_arm_codec kus_model)
set(kus_fuzz_deps_eventgrid ${CMAKE_SOURCE_DIR}/controller/eventgrid_payload.cc kus_core)
set(kus_fuzz_deps_watch ${CMAKE_SOURCE_DIR}/src/kube/watch_parser.cc
    ${CMAKE_SOURCE_DIR}/src/kube/kube_errors.cc ${CMAKE_SOURCE_DIR}/src/kube/kube_client.cc
    ${CMAKE_SOURCE_DIR}/src/http/http.cc kus_core)

if(KUSTODIAN_FUZZ)
  foreach(harness IN LISTS KUSTODIAN_FUZZ_HARNESSES)
    set(srcs ${CMAKE_SOURCE_DIR}/tests/fuzz/${harness}_fuzzer.cc)
    set(libs "")
    foreach(dep IN LISTS kus_fuzz_deps_${harness})
      if(dep MATCHES "\\.cc$")
        list(APPEND srcs ${dep})
      else()
        list(APPEND libs ${dep})
      endif()
    endforeach()
    add_executable(fuzz_${harness} ${srcs})
    target_compile_definitions(fuzz_${harness} PRIVATE KUSTODIAN_LIBFUZZER)
    target_compile_options(fuzz_${harness} PRIVATE ${KUSTODIAN_WARNINGS})
    target_link_libraries(fuzz_${harness} PRIVATE ${libs})
    target_link_options(fuzz_${harness} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()
# `make fuzz` reads the list of harnesses from here.
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/fuzz_harnesses.txt
     CONTENT "${KUSTODIAN_FUZZ_HARNESSES}\n")

if(NOT KUSTODIAN_FUZZ)
  kustodian_test(fuzz_replay_test tests/fuzz ${kus_replay_libs})
endif()
