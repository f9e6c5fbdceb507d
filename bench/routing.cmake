# Routing throughput: a generated station with 50 couriers and 200 lanes (prints decisions/s).
add_executable(bench_routing ${CMAKE_CURRENT_LIST_DIR}/bench_routing.cpp)
target_link_libraries(bench_routing PRIVATE sortd_routing)
target_include_directories(bench_routing PRIVATE ${CMAKE_CURRENT_LIST_DIR})
