# Configuration and routing tests (see tests/test_config.cpp, tests/test_routing.cpp).
sortd_add_test(test_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_config.cpp
  LIBS sortd_config LABELS config)
sortd_add_test(test_routing SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_routing.cpp
  LIBS sortd_routing sortd_config LABELS routing)
