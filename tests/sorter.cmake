# Sorter over Modbus: the PLC client against `sort-sim plc` and the pymodbus peer.
# The client is built on its own here so that these tests depend on nothing but its sources.
add_library(sortd_sorter_client STATIC
  ${SORTD_SOURCE_DIR}/devices/sorter/plc_client.cpp
  ${SORTD_SOURCE_DIR}/devices/sorter/register_map.cpp)
target_include_directories(sortd_sorter_client PUBLIC ${SORTD_SOURCE_DIR}/devices
  ${SORTD_SOURCE_DIR}/devices/sorter ${SORTD_SOURCE_DIR}/controller)
target_link_libraries(sortd_sorter_client PUBLIC PkgConfig::MODBUS spdlog::spdlog)
sortd_add_test(test_sorter SOURCES test_sorter.cpp LIBS sortd_sorter_client LABELS sorter)
sortd_add_test(test_sorter_faults SOURCES test_sorter_faults.cpp LIBS sortd_sorter_client
  LABELS sorter)
# The tests start `sort-sim plc` as a child process.
add_dependencies(test_sorter sort-sim)
add_dependencies(test_sorter_faults sort-sim)
# The Driver wrapper through the registry and inproc sockets (links the whole devices library).
sortd_add_test(test_sorter_driver SOURCES test_sorter_driver.cpp LIBS sortd_devices
  LABELS sorter)
add_dependencies(test_sorter_driver sort-sim)
