# The HMI: the gateway's parts (Boost.Test), and the browser tests: Debian's headless Chromium
# driven by playwright-core against the demo station (sortd --demo), sortctl and the gateway.
sortd_add_test(test_hmi_gateway
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_hmi_gateway.cpp
  LIBS sortd_hmi_gateway
  LABELS hmi)

# The gateway against a real daemon that wants a login for viewing (--bus-view-login).
sortd_add_test(test_hmi_view_login
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_hmi_view_login.cpp
  LIBS sortd_hmi_gateway sortd_daemon
  LABELS hmi)

find_program(SORTD_NODE node)
if(SORTD_NODE)
  add_test(NAME hmi_browser
    COMMAND ${SORTD_NODE} --test --test-concurrency=1 --test-reporter=spec
      ${CMAKE_CURRENT_LIST_DIR}/browser/hmi.test.mjs
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/browser)
  set_tests_properties(hmi_browser PROPERTIES
    TIMEOUT 600
    LABELS "hmi;browser"
    ENVIRONMENT "SORTD_BUILD_DIR=${CMAKE_BINARY_DIR};SORTD_SOURCE_DIR=${SORTD_SOURCE_DIR}")
else()
  message(WARNING "node not found: the HMI browser tests are not registered (scripts/setup.sh installs nodejs)")
endif()
