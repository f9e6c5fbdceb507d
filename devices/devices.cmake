# sortd_devices: the driver interface, the registry, and every driver. Each driver family lives
# in its own subfolder (common/, sorter/, scanner/, printer/) and its sources are globbed here.
file(GLOB _dev_src CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/common/*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/sim/*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/sorter/*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/scanner/*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/printer/*.cpp)
add_library(sortd_devices STATIC ${_dev_src})
target_include_directories(sortd_devices PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}
  ${CMAKE_CURRENT_SOURCE_DIR}/common ${CMAKE_CURRENT_SOURCE_DIR}/sim)
target_link_libraries(sortd_devices PUBLIC sortd_core sortd_labels PkgConfig::ZMQ
  PkgConfig::MODBUS PkgConfig::LIBUSB spdlog::spdlog Threads::Threads)
