# The scanner parser fuzz target runs as a CTest test (~60 s): tests/fuzz/run.sh compiles it with
# clang's libFuzzer, ASan and UBSan, whatever compiler builds the rest.
find_program(FUZZ_CLANGXX NAMES clang++ clang++-14)
if(FUZZ_CLANGXX)
  add_test(NAME fuzz_scanner_parser
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh 60)
  set_tests_properties(fuzz_scanner_parser PROPERTIES TIMEOUT 400 LABELS "scanner;fuzz"
    ENVIRONMENT "FUZZ_CXX=${FUZZ_CLANGXX}")
endif()
