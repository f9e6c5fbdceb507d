# Tests of label-templates/ (templates, filling, ZPL/TSPL, previews) and devices/printer/.
find_package(ZXing REQUIRED)

sortd_add_test(test_labels SOURCES test_labels.cpp LIBS sortd_labels LABELS labels)
sortd_add_test(test_labels_render SOURCES test_labels_render.cpp
  LIBS sortd_labels ZXing::ZXing PkgConfig::CAIRO LABELS labels)

# Printer drivers: the TCP driver against `sort-sim printer` (a child process), the status
# parsers, and the USB driver against a fake USB printer under umockdev.
sortd_add_test(test_printer_tcp SOURCES test_printer_tcp.cpp LIBS sortd_devices LABELS printers)
add_dependencies(test_printer_tcp sort-sim)
target_compile_definitions(test_printer_tcp PRIVATE SORT_SIM="$<TARGET_FILE:sort-sim>")

pkg_check_modules(UMOCKDEV IMPORTED_TARGET umockdev-1.0)
if(UMOCKDEV_FOUND)
  sortd_add_test(test_printer_usb SOURCES test_printer_usb.cpp
    LIBS sortd_devices PkgConfig::UMOCKDEV LABELS printers)
endif()
