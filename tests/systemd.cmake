# systemd integration: SIGHUP reload, the journal, the units, the install layout.
set(_sd_tests ${CMAKE_CURRENT_SOURCE_DIR}/systemd)

# In-process: SIGHUP reloads a running daemon's configuration (valid edits take effect,
# invalid ones are refused and the old configuration keeps sorting).
sortd_add_test(test_systemd_reload SOURCES ${_sd_tests}/test_reload.cpp
  LIBS sortd_daemon PkgConfig::SQLITE3 LABELS systemd)

# The real process with a fake journald and service manager: priorities in the journal,
# READY / WATCHDOG / RELOADING / STOPPING, SIGHUP valid and invalid, SIGTERM.
add_test(NAME systemd_sighup_journal
  COMMAND ${_sd_tests}/in_private_run.sh /usr/bin/python3 ${_sd_tests}/sighup_journal.py
    $<TARGET_FILE:sortd> ${SORTD_SOURCE_DIR}/config/demo-station.toml)
set_tests_properties(systemd_sighup_journal PROPERTIES TIMEOUT 600 LABELS systemd
  SKIP_RETURN_CODE 77)

# cmake --install into a staged root, then systemd's own tools on what was installed.
set(_sd_root ${CMAKE_BINARY_DIR}/systemd-test-root)
set(_sd_bins)
foreach(_t sortd sortctl sort-sim sortd-hmi)
  if(TARGET ${_t})
    list(APPEND _sd_bins ${_t})
  endif()
endforeach()
add_test(NAME systemd_install
  COMMAND ${_sd_tests}/install_root.sh ${CMAKE_BINARY_DIR} ${SORTD_SOURCE_DIR} ${_sd_root}
    ${_sd_bins})
set_tests_properties(systemd_install PROPERTIES TIMEOUT 600 LABELS systemd
  FIXTURES_SETUP systemd_root RESOURCE_LOCK systemd_root)
foreach(_m verify security sysusers)
  add_test(NAME systemd_${_m} COMMAND ${_sd_tests}/verify_units.sh ${_m} ${_sd_root})
  set_tests_properties(systemd_${_m} PROPERTIES TIMEOUT 300 LABELS systemd
    FIXTURES_REQUIRED systemd_root RESOURCE_LOCK systemd_root)
endforeach()

# udev's own rule engine (udevadm test) on simulated devices (umockdev): the rules give the
# service group its scanners and printers, tag them for systemd, and leave other devices alone.
add_test(NAME systemd_udev_rules
  COMMAND ${_sd_tests}/in_private_run.sh /usr/bin/python3 ${_sd_tests}/udev_rules.py
    ${SORTD_SOURCE_DIR}/systemd/99-sortd.rules ${CMAKE_BINARY_DIR}/systemd-udev-test)
set_tests_properties(systemd_udev_rules PROPERTIES TIMEOUT 300 LABELS systemd
  SKIP_RETURN_CODE 77)

# docs/operations.md's backup (sqlite3 .backup while the daemon writes) and restore, as written.
add_test(NAME systemd_backup_restore
  COMMAND ${_sd_tests}/backup_restore.sh $<TARGET_FILE:sortd>
    ${SORTD_SOURCE_DIR}/config/demo-station.toml)
set_tests_properties(systemd_backup_restore PROPERTIES TIMEOUT 600 LABELS systemd)
