# Installation of the station as a system service: systemd units, udev rules, sysusers.d and
# tmpfiles.d entries, the label templates, a sample configuration and the operator's guide.
# The binaries (sortd, sortctl, sort-sim, sortd-hmi) and the HMI page are installed by their
# own folders. Included from the top-level CMakeLists.txt.
#
#   cmake --install build --prefix /usr          # as root: the layout the units expect
#   DESTDIR=/tmp/root cmake --install build --prefix /usr   # staged (packaging, tests)
#
# Directories below are relative to the install prefix unless absolute. The units are written
# at install time so that they name the binaries where they land (--prefix may differ from
# CMAKE_INSTALL_PREFIX at configure time).
set(SORTD_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING "systemd system units")
set(SORTD_UDEV_RULES_DIR "lib/udev/rules.d" CACHE STRING "udev rules")
set(SORTD_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING "sysusers.d entries")
set(SORTD_TMPFILES_DIR "lib/tmpfiles.d" CACHE STRING "tmpfiles.d entries")
set(SORTD_CONF_DIR "/etc/sortd" CACHE STRING "the station configuration (absolute)")

set(_sd_src ${CMAKE_CURRENT_LIST_DIR})
set(_sd_gen ${CMAKE_BINARY_DIR}/systemd)

# At install time: resolve a directory against the prefix the install runs with, write the unit
# from its template and install it (file(INSTALL) honours DESTDIR and the install manifest).
install(CODE "
  function(_sortd_dir out d)
    if(IS_ABSOLUTE \"\${d}\")
      set(\${out} \"\${d}\" PARENT_SCOPE)
    else()
      set(\${out} \"\${CMAKE_INSTALL_PREFIX}/\${d}\" PARENT_SCOPE)
    endif()
  endfunction()
  _sortd_dir(SORTD_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  _sortd_dir(SORTD_DATADIR \"${CMAKE_INSTALL_DATADIR}/sortd\")
  _sortd_dir(SORTD_DOCDIR \"${CMAKE_INSTALL_DATADIR}/doc/sortd\")
  _sortd_dir(_unitdir \"${SORTD_SYSTEMD_UNIT_DIR}\")
  set(SORTD_CONFDIR \"${SORTD_CONF_DIR}\")
  foreach(_u sortd.service sortd-hmi.service)
    configure_file(\"${_sd_src}/\${_u}.in\" \"${_sd_gen}/\${_u}\" @ONLY)
    file(INSTALL DESTINATION \"\${_unitdir}\" TYPE FILE
      PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES \"${_sd_gen}/\${_u}\")
  endforeach()
")

install(FILES ${_sd_src}/99-sortd.rules DESTINATION ${SORTD_UDEV_RULES_DIR})
install(FILES ${_sd_src}/sortd.sysusers DESTINATION ${SORTD_SYSUSERS_DIR} RENAME sortd.conf)
install(FILES ${_sd_src}/sortd.tmpfiles DESTINATION ${SORTD_TMPFILES_DIR} RENAME sortd.conf)

# Label templates (a real printer's `templates = "<datadir>/sortd/label-templates"`), the demo
# station (sortd --demo finds <prefix>/share/sortd/demo-station.toml) and its orders.
install(DIRECTORY ${SORTD_SOURCE_DIR}/label-templates/templates/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/sortd/label-templates FILES_MATCHING PATTERN "*.json")
install(FILES ${SORTD_SOURCE_DIR}/config/demo-station.toml ${SORTD_SOURCE_DIR}/config/demo-orders.csv
  DESTINATION ${CMAKE_INSTALL_DATADIR}/sortd)
# The sample station file. The real one (station.toml) is the operator's: never installed over.
install(FILES ${SORTD_SOURCE_DIR}/config/demo-station.toml DESTINATION ${SORTD_CONF_DIR}
  RENAME station.toml.example)
# The operator's guide (the units' Documentation=) and the other guides.
install(DIRECTORY ${SORTD_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/sortd
  FILES_MATCHING PATTERN "*.md")
