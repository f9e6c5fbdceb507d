# Scanner tests: parser/decoder/GS1/keyboard units, TCP and serial drivers on real sockets and
# ptys, the USB HID driver under umockdev, and the libFuzzer target of the framing parser.
#
# The scanner sources are compiled into their own small library here so that these tests build
# on their own (sortd_devices also compiles them, with every other driver family).
set(_scn ${SORTD_SOURCE_DIR}/devices/scanner)
add_library(sortd_scanner_test_lib STATIC
  ${_scn}/framing.cpp ${_scn}/gs1.cpp ${_scn}/decode.cpp ${_scn}/hid_keyboard.cpp ${_scn}/hid_pos.cpp
  ${_scn}/common.cpp ${_scn}/stream.cpp ${_scn}/tcp.cpp ${_scn}/serial.cpp ${_scn}/usb_hid.cpp
  ${_scn}/sim_reader.cpp ${SORTD_SOURCE_DIR}/devices/common/sim_net.cpp)
target_include_directories(sortd_scanner_test_lib PUBLIC ${SORTD_SOURCE_DIR}/devices
  ${SORTD_SOURCE_DIR}/devices/common ${SORTD_SOURCE_DIR}/controller)
target_link_libraries(sortd_scanner_test_lib PUBLIC nlohmann_json::nlohmann_json spdlog::spdlog
  PkgConfig::LIBUSB PkgConfig::ZMQ Threads::Threads)

sortd_add_test(test_scanner_parse SOURCES test_scanner_parse.cpp LIBS sortd_scanner_test_lib
  LABELS scanner)
sortd_add_test(test_scanner_hidpos SOURCES test_scanner_hidpos.cpp LIBS sortd_scanner_test_lib
  LABELS scanner)

# GS1 cross-check against independent peers: zint encodes, zxing-cpp decodes.
pkg_check_modules(ZXING IMPORTED_TARGET zxing)
find_library(ZINT_LIB zint)
if(ZXING_FOUND AND ZINT_LIB)
  sortd_add_test(test_scanner_gs1_peer SOURCES test_scanner_gs1_peer.cpp
    LIBS sortd_scanner_test_lib PkgConfig::ZXING ${ZINT_LIB} LABELS scanner)
endif()

sortd_add_test(test_scanner_tcp SOURCES test_scanner_tcp.cpp LIBS sortd_scanner_test_lib
  LABELS scanner)

find_program(SOCAT socat)
if(SOCAT)
  sortd_add_test(test_scanner_serial SOURCES test_scanner_serial.cpp
    LIBS sortd_scanner_test_lib LABELS scanner)
  set_tests_properties(test_scanner_serial PROPERTIES ENVIRONMENT "SOCAT=${SOCAT}")
endif()

# USB: the real libusb driver against a fake HID scanner, run under umockdev's preload library.
pkg_check_modules(UMOCKDEV IMPORTED_TARGET umockdev-1.0)
find_program(UMOCKDEV_WRAPPER umockdev-wrapper)
if(UMOCKDEV_FOUND AND UMOCKDEV_WRAPPER)
  sortd_add_test(test_scanner_usb SOURCES test_scanner_usb.cpp
    LIBS sortd_scanner_test_lib PkgConfig::UMOCKDEV LABELS scanner)
  # The test re-executes itself under umockdev-wrapper (umockdev's LD_PRELOAD library).
  target_compile_definitions(test_scanner_usb PRIVATE UMOCKDEV_WRAPPER="${UMOCKDEV_WRAPPER}")
  set_tests_properties(test_scanner_usb PROPERTIES TIMEOUT 300)
  sortd_add_test(test_scanner_usb_pos SOURCES test_scanner_usb_pos.cpp
    LIBS sortd_scanner_test_lib PkgConfig::UMOCKDEV LABELS scanner)
  target_compile_definitions(test_scanner_usb_pos PRIVATE UMOCKDEV_WRAPPER="${UMOCKDEV_WRAPPER}")
  set_tests_properties(test_scanner_usb_pos PROPERTIES TIMEOUT 300)
endif()

# The drivers as the daemon runs them (registry, DriverIo over ZeroMQ inproc, the codec), and the
# sort-sim scanner tool as a separate process.
if(TARGET sortd_devices AND TARGET sort-sim)
  sortd_add_test(test_scanner_driver SOURCES test_scanner_driver.cpp LIBS sortd_devices
    LABELS scanner)
  target_compile_definitions(test_scanner_driver PRIVATE SORT_SIM="$<TARGET_FILE:sort-sim>")
  add_dependencies(test_scanner_driver sort-sim)
endif()
