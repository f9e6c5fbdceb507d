# The bus's PUB stream beside a bare ZeroMQ PUB/SUB (bench/bench_bus.cpp).
add_executable(bench_bus ${CMAKE_CURRENT_LIST_DIR}/bench_bus.cpp)
target_link_libraries(bench_bus PRIVATE sortd_daemon)
target_compile_definitions(bench_bus PRIVATE SORTD_SOURCE_DIR="${SORTD_SOURCE_DIR}")
