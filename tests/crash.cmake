# The crash harness (tests/crash/crash_harness.py): the demo station over real protocols on
# loopback, sortd killed with SIGKILL at random moments and restarted, then the store checked
# against the PLC's journal. SORTD_CRASH_KILLS sets the number of kills (200 by default; more in
# a long run by hand), SORTD_CRASH_SEED repeats a run.
add_test(NAME crash_harness
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/crash/crash_harness.py ${CMAKE_BINARY_DIR})
set_tests_properties(crash_harness PROPERTIES LABELS "crash;integration" TIMEOUT 1200)
# The same station under plant faults instead of kills: PLC disconnects, outages, a restart,
# late acks, a lost parcel, a frozen heartbeat; printer out of paper, head open, silent; the
# scanner unplugged and plugged back. Each is undone after a while; the station must recover by itself, its device alarms raise and clear,
# and the record of every parcel is complete (checked against the PLC's journal).
add_test(NAME fault_harness
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/crash/crash_harness.py ${CMAKE_BINARY_DIR}
    --faults 20)
set_tests_properties(fault_harness PROPERTIES LABELS "crash;integration" TIMEOUT 900)
