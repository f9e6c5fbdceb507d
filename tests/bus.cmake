# The ZeroMQ bus, sortctl and the Python clone client (docs/protocol.md).
sortd_add_test(test_bus SOURCES test_bus.cpp LIBS sortd_daemon LABELS bus)
add_dependencies(test_bus sortctl)
sortd_add_test(test_bus_clone SOURCES test_bus_clone.cpp LIBS sortd_daemon LABELS bus)

# Bags, manifests, handover through the bus and sortctl (docs/bags.md).
sortd_add_test(test_bags_bus SOURCES test_bags_bus.cpp LIBS sortd_daemon PkgConfig::SQLITE3
  LABELS bus bags)
add_dependencies(test_bags_bus sortctl)
