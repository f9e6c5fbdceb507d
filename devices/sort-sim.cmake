# sort-sim: one tool with a simulator per device kind (devices/sort-sim/sim_*.cpp).
file(GLOB _sim_src CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/sort-sim/*.cpp)
add_executable(sort-sim ${_sim_src})
target_link_libraries(sort-sim PRIVATE sortd_devices CLI11::CLI11)
install(TARGETS sort-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
