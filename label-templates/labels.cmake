# sortd_labels: label templates (label-templates/templates/*.json), filling with checks, ZPL /
# TSPL rendering and PNG previews (libzint + cairo).
file(GLOB _lbl_src CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
if(_lbl_src)
  add_library(sortd_labels STATIC ${_lbl_src})
  target_include_directories(sortd_labels PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(sortd_labels PUBLIC sortd_model PkgConfig::CAIRO zint
    nlohmann_json::nlohmann_json)
  target_compile_definitions(sortd_labels PUBLIC
    SORTD_TEMPLATE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
else()
  add_library(sortd_labels INTERFACE)
endif()
