# Reports per hour / day (controller/reports.h, docs/reports.md): arguments, periods across local
# midnight and time zones, the demo run replayed into a store and checked against COUNT(*).
sortd_add_test(test_reports SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_reports.cpp
  LIBS sortd_core sortd_reports PkgConfig::SQLITE3 LABELS reports)
# The `report` query and `sortctl report` against a real daemon.
sortd_add_test(test_reports_bus SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_reports_bus.cpp
  LIBS sortd_daemon PkgConfig::SQLITE3 LABELS reports bus)
add_dependencies(test_reports_bus sortctl)
