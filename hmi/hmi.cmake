# The HMI: the gateway (sortd-hmi, C++: ZeroMQ client of sortd, HTTP API, live stream) and the
# web page it serves (hmi/web, built with vite into ${CMAKE_BINARY_DIR}/hmi/web).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

add_library(sortd_hmi_gateway STATIC
  ${CMAKE_CURRENT_LIST_DIR}/gateway/clone_state.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway/live.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway/bus_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway/web_sessions.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gateway/gateway.cpp)
target_include_directories(sortd_hmi_gateway PUBLIC ${CMAKE_CURRENT_LIST_DIR}/gateway)
target_link_libraries(sortd_hmi_gateway PUBLIC PkgConfig::ZMQ PkgConfig::HTTPLIB
  nlohmann_json::nlohmann_json spdlog::spdlog Threads::Threads)

set(SORTD_HMI_WEB_DIR ${CMAKE_BINARY_DIR}/hmi/web)
add_executable(sortd-hmi ${CMAKE_CURRENT_LIST_DIR}/gateway/main.cpp)
target_link_libraries(sortd-hmi PRIVATE sortd_hmi_gateway CLI11::CLI11 PkgConfig::SYSTEMD)
target_compile_definitions(sortd-hmi PRIVATE SORTD_HMI_WEB_DIR="${SORTD_HMI_WEB_DIR}")
install(TARGETS sortd-hmi RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The page: `npm run build` (vite) into the build directory. scripts/setup.sh installs the npm
# packages (npm ci) before it builds; build.sh does it too when they are missing.
file(GLOB_RECURSE _hmi_web_src CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/web/src/* ${CMAKE_CURRENT_LIST_DIR}/web/public/*)
add_custom_command(
  OUTPUT ${SORTD_HMI_WEB_DIR}/index.html
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/web/build.sh ${SORTD_HMI_WEB_DIR}
  DEPENDS ${_hmi_web_src} ${CMAKE_CURRENT_LIST_DIR}/web/index.html
    ${CMAKE_CURRENT_LIST_DIR}/web/vite.config.js ${CMAKE_CURRENT_LIST_DIR}/web/package-lock.json
    ${CMAKE_CURRENT_LIST_DIR}/web/build.sh
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/web
  COMMENT "Building the HMI page (vite) into ${SORTD_HMI_WEB_DIR}"
  VERBATIM)
add_custom_target(hmi_web ALL DEPENDS ${SORTD_HMI_WEB_DIR}/index.html)
add_dependencies(sortd-hmi hmi_web)
install(DIRECTORY ${SORTD_HMI_WEB_DIR}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/sortd/hmi)
