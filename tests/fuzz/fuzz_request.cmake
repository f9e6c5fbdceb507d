# The bus request parser/dispatcher fuzz target (tests/fuzz/fuzz_request.cpp).
# - fuzz_request_corpus: replays the seed corpus through a real daemon's bus (any compiler).
# - fuzz_request: the libFuzzer binary, built when the compiler is clang and SORTD_FUZZ is on;
#   tests/fuzz/fuzz_request.sh makes such a build and runs it ~60 s (CTest fuzz_request_60s).
option(SORTD_FUZZ "Build the libFuzzer targets (clang)" OFF)
set(_fr ${CMAKE_CURRENT_LIST_DIR})
add_executable(fuzz_request_replay ${_fr}/fuzz_request.cpp)
target_compile_definitions(fuzz_request_replay PRIVATE SORTD_FUZZ_STANDALONE
  SORTD_SOURCE_DIR="${SORTD_SOURCE_DIR}")
target_link_libraries(fuzz_request_replay PRIVATE sortd_daemon)
add_test(NAME fuzz_request_corpus COMMAND fuzz_request_replay ${_fr}/fuzz_request_corpus)
set_tests_properties(fuzz_request_corpus PROPERTIES TIMEOUT 300 LABELS "bus;fuzz")

if(SORTD_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_request ${_fr}/fuzz_request.cpp)
  target_compile_definitions(fuzz_request PRIVATE SORTD_SOURCE_DIR="${SORTD_SOURCE_DIR}")
  target_compile_options(fuzz_request PRIVATE -fsanitize=fuzzer,address)
  target_link_options(fuzz_request PRIVATE -fsanitize=fuzzer,address)
  target_link_libraries(fuzz_request PRIVATE sortd_daemon)
endif()

# The 60 s libFuzzer run needs a second, clang + ASan build of the whole daemon: too long for the
# CI budget on 2 cores, so it is opt-in (-DSORTD_FUZZ_REQUEST_RUN=ON, or run
# tests/fuzz/fuzz_request.sh BUILD_DIR SECONDS by hand). The corpus replay above always runs.
option(SORTD_FUZZ_REQUEST_RUN "Register the 60 s request fuzzing run with CTest" OFF)
find_program(FUZZ_REQUEST_CLANGXX NAMES clang++ clang++-14)
if(FUZZ_REQUEST_CLANGXX AND NOT SORTD_FUZZ AND SORTD_FUZZ_REQUEST_RUN)
  # The first run builds the instrumented daemon libraries: allow for it.
  add_test(NAME fuzz_request_60s
    COMMAND ${_fr}/fuzz_request.sh ${CMAKE_BINARY_DIR}/fuzz-request-clang 60)
  set_tests_properties(fuzz_request_60s PROPERTIES TIMEOUT 3600 LABELS "bus;fuzz")
endif()
