# The fuzz targets: tests/fuzz/fuzz_<name>.cpp, one per parser, each with its seed corpus in
# tests/fuzz/corpus/<name>/ and optionally a libFuzzer dictionary tests/fuzz/dict/<name>.dict
# (docs/fuzzing.md).
#  - SORTD_FUZZ=ON (clang; the whole build has ASan + UBSan + fuzzer-no-link, see the top-level
#    CMakeLists.txt): fuzz_<name> is a libFuzzer binary in ${CMAKE_BINARY_DIR}/fuzz/;
#    tests/fuzz/run-all.sh BUILD_DIR SECONDS runs them all for a bounded time.
#  - otherwise (gcc, or clang without SORTD_FUZZ): fuzz_<name> is a corpus replay executable
#    (replay_main.cpp runs LLVMFuzzerTestOneInput over every file of the corpus).
# Either way CTest runs every corpus input once (fuzz_<name>_corpus): each regression input is
# checked in the normal suite.
set(SORTD_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
add_custom_target(fuzz)  # cmake --build BUILD --target fuzz: every fuzz target

function(sortd_fuzz_target name)
  cmake_parse_arguments(F "" "" "LIBS;LABELS" ${ARGN})
  set(target fuzz_${name})
  set(corpus ${SORTD_FUZZ_DIR}/corpus/${name})
  if(SORTD_FUZZ)
    add_executable(${target} ${SORTD_FUZZ_DIR}/${target}.cpp)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    # Every input once (no mutation), leaks not checked (the targets keep static state).
    add_test(NAME ${target}_corpus COMMAND ${target} -runs=0 ${corpus})
    set_tests_properties(${target}_corpus PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
  else()
    add_executable(${target} ${SORTD_FUZZ_DIR}/${target}.cpp ${SORTD_FUZZ_DIR}/replay_main.cpp)
    add_test(NAME ${target}_corpus COMMAND ${target} ${corpus})
  endif()
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  target_compile_definitions(${target} PRIVATE SORTD_SOURCE_DIR="${SORTD_SOURCE_DIR}")
  target_include_directories(${target} PRIVATE ${SORTD_SOURCE_DIR}/devices
    ${SORTD_SOURCE_DIR}/controller)
  target_link_libraries(${target} PRIVATE ${F_LIBS})
  set_tests_properties(${target}_corpus PROPERTIES TIMEOUT 300 LABELS "fuzz;${F_LABELS}")
  add_dependencies(fuzz ${target})
endfunction()

sortd_fuzz_target(scanner LIBS sortd_devices LABELS scanner)
sortd_fuzz_target(gs1 LIBS sortd_devices LABELS scanner)
sortd_fuzz_target(hidpos LIBS sortd_devices LABELS scanner)
sortd_fuzz_target(printer_status LIBS sortd_devices LABELS printer)
sortd_fuzz_target(orders_csv LIBS sortd_orders LABELS orders)
sortd_fuzz_target(orders_json LIBS sortd_orders LABELS orders)
sortd_fuzz_target(config LIBS sortd_config sortd_devices LABELS config)
sortd_fuzz_target(label_template LIBS sortd_labels LABELS labels)
sortd_fuzz_target(label_zpl LIBS sortd_labels LABELS labels)
sortd_fuzz_target(request LIBS sortd_daemon LABELS bus)
