# Every parser's fuzz target and its corpus replay test (tests/fuzz/fuzz.cmake, docs/fuzzing.md).
include(${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz.cmake)
