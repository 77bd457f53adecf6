set(LMFORGE_PLUGIN_EXPORTS_MAP ${CMAKE_CURRENT_LIST_DIR}/plugin_exports.map)
# lmforge_add_plugin(NAME SOURCES a.cpp [b.cpp ...] [NO_PCH])
# Builds one plugin as a MODULE library named NAME.so in the plugin folder, linked to the SDK, with
# hidden symbols so that only the registration handshake is exported.
function(lmforge_add_plugin name)
  cmake_parse_arguments(ARG "NO_PCH" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE lmforge::lmforge)
  set_target_properties(${name} PROPERTIES PREFIX "")
  # Export only the handshake and registration symbols: nothing can come to depend on a plugin's
  # internals, and two plugins' private helpers can never collide.
  target_link_options(${name} PRIVATE "LINKER:--version-script=${LMFORGE_PLUGIN_EXPORTS_MAP}")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(LMFORGE_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${LMFORGE_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  if(NOT ARG_NO_PCH AND TARGET lmforge_pch)
    target_precompile_headers(${name} REUSE_FROM lmforge_pch)
  endif()
  if(LMFORGE_INSTALL_PLUGINS AND NOT ARG_OUTPUT_DIRECTORY)
    install(TARGETS ${name} LIBRARY DESTINATION ${LMFORGE_INSTALL_PLUGINDIR})
  endif()
endfunction()
