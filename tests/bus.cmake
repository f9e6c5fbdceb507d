# The ZeroMQ bus, sortctl and the Python clone client (docs/protocol.md).
sortd_add_test(test_bus SOURCES test_bus.cpp LIBS sortd_daemon LABELS bus)
add_dependencies(test_bus sortctl)
sortd_add_test(test_bus_clone SOURCES test_bus_clone.cpp LIBS sortd_daemon LABELS bus)
