# The crash harness (tests/crash/crash_harness.py): the demo station over real protocols on
# loopback, sortd killed with SIGKILL at random moments and restarted, then the store checked
# against the PLC's journal. SORTD_CRASH_KILLS sets the number of kills (200 by default; more in
# a long run by hand), SORTD_CRASH_SEED repeats a run.
add_test(NAME crash_harness
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/crash/crash_harness.py ${CMAKE_BINARY_DIR})
set_tests_properties(crash_harness PROPERTIES LABELS "crash;integration" TIMEOUT 1200)
