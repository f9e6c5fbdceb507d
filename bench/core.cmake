# bench_core: a parcel through the core with its durable commit; group commit; daemon RSS.
add_executable(bench_core ${CMAKE_CURRENT_LIST_DIR}/bench_core.cpp)
target_link_libraries(bench_core PRIVATE sortd_core PkgConfig::SQLITE3)
target_include_directories(bench_core PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(bench_core PRIVATE SORTD_SOURCE_DIR="${SORTD_SOURCE_DIR}"
  SORTD_BINARY_DIR="${CMAKE_BINARY_DIR}")
