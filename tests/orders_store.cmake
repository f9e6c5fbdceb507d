# Orders (import, OrderBook, demo orders) and the SQLite store.
sortd_add_test(test_orders SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_orders.cpp
  LIBS sortd_orders LABELS orders)
sortd_add_test(test_store SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_store.cpp
  LIBS sortd_store sortd_orders LABELS store)
