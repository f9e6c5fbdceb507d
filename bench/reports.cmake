# Reports on a store of 1,000,000 parcels over 30 days (prints the time of each report).
add_executable(bench_reports ${CMAKE_CURRENT_LIST_DIR}/bench_reports.cpp)
target_link_libraries(bench_reports PRIVATE sortd_reports sortd_store PkgConfig::SQLITE3)
