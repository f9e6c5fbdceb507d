# Sort command -> PLC acknowledgement latency against `sort-sim plc` (in process), beside a bare
# libmodbus FC16 write of the same size to the same server.
add_executable(bench_modbus bench_modbus.cpp ${SORTD_SOURCE_DIR}/devices/sort-sim/plc_sim.cpp)
target_include_directories(bench_modbus PRIVATE ${SORTD_SOURCE_DIR}/devices/sort-sim)
target_link_libraries(bench_modbus PRIVATE sortd_devices PkgConfig::MODBUS spdlog::spdlog)
