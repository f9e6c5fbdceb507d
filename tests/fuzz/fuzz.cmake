# The scanner parser fuzz targets run as CTest tests (~60 s each): tests/fuzz/run.sh compiles them
# with clang's libFuzzer, ASan and UBSan, whatever compiler builds the rest. fuzz_scanner_parser:
# framing, decoder, GS1, HID keyboard; fuzz_scanner_hidpos: HID report descriptors, HID POS reports.
find_program(FUZZ_CLANGXX NAMES clang++ clang++-14)
if(FUZZ_CLANGXX)
  add_test(NAME fuzz_scanner_parser
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh 60)
  set_tests_properties(fuzz_scanner_parser PROPERTIES TIMEOUT 400 LABELS "scanner;fuzz"
    ENVIRONMENT "FUZZ_CXX=${FUZZ_CLANGXX}")
  add_test(NAME fuzz_scanner_hidpos
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh 60)
  set_tests_properties(fuzz_scanner_hidpos PROPERTIES TIMEOUT 400 LABELS "scanner;fuzz"
    ENVIRONMENT "FUZZ_CXX=${FUZZ_CLANGXX};FUZZ_TARGET=hidpos")
endif()
