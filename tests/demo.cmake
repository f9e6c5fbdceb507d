# The demo station end to end over real protocols on loopback (scripts/run-demo.sh).
add_test(NAME demo_loopback COMMAND ${CMAKE_CURRENT_LIST_DIR}/demo/loopback_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(demo_loopback PROPERTIES LABELS "demo;integration" TIMEOUT 300
  RESOURCE_LOCK demo)
