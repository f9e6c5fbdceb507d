# bench_import: 1,000,000 demo orders: CSV parse, OrderBook insert, store upsert (prints figures).
add_executable(bench_import ${CMAKE_CURRENT_LIST_DIR}/bench_import.cpp)
target_link_libraries(bench_import PRIVATE sortd_orders sortd_store)
