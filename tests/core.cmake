# The station core: lifecycle, pairing, recovery, determinism; and the replay regression logs.
sortd_add_test(test_core SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_core.cpp
  LIBS sortd_core LABELS core)
# Bags, manifests and handover in the core, with the store (docs/bags.md).
sortd_add_test(test_bags SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_bags.cpp
  LIBS sortd_core PkgConfig::SQLITE3 LABELS core bags)

# Recorded event logs replayed through the real daemon binary and compared with their expected
# decisions (like gpsd's test/daemon/*.log + .chk). Regenerate: scripts/regen-replay.sh
file(GLOB _replays CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/replay/*.events)
foreach(_r IN LISTS _replays)
  get_filename_component(_n ${_r} NAME_WE)
  string(REGEX REPLACE "\\.events$" ".expected" _e ${_r})
  add_test(NAME replay_${_n} COMMAND sortd --replay ${_r} --expect ${_e})
  set_tests_properties(replay_${_n} PROPERTIES LABELS "core;replay" TIMEOUT 300)
endforeach()

# The daemon end to end on the demo station (in-process simulated devices).
sortd_add_test(test_daemon SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_daemon.cpp
  LIBS sortd_daemon PkgConfig::SQLITE3 LABELS core daemon)
# A full disk and an I/O error under a running station (a fault-injecting SQLite VFS).
sortd_add_test(test_store_faults SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store_faults.cpp
  LIBS sortd_daemon PkgConfig::SQLITE3 LABELS core daemon store)
