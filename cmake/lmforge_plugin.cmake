# The torch wheel's CUDA libraries (NCCL, cuDNN, cuBLAS, ...) come as sibling wheels under
# site-packages/nvidia; libtorch_cuda finds them through its RUNPATH at run time, but the linker
# would check it against an older copy from the CUDA toolkit. Point the linker at the wheels'.
# Here, so that plugin projects built against the installed SDK get it too.
if(Torch_DIR)
  get_filename_component(_lmforge_torch_prefix "${Torch_DIR}/../../.." ABSOLUTE)
  file(GLOB _lmforge_wheel_lib_dirs LIST_DIRECTORIES true "${_lmforge_torch_prefix}/../nvidia/*/lib")
  foreach(_dir ${_lmforge_wheel_lib_dirs})
    if(IS_DIRECTORY "${_dir}")
      add_link_options("LINKER:-rpath-link,${_dir}")
    endif()
  endforeach()
endif()

set(LMFORGE_PLUGIN_EXPORTS_MAP ${CMAKE_CURRENT_LIST_DIR}/plugin_exports.map)
# Global properties rather than variables: lmforge_add_plugin may be called from any directory of
# the project, not only those below the one that included this file.
set_property(GLOBAL PROPERTY LMFORGE_PLUGIN_EXPORTS_MAP ${LMFORGE_PLUGIN_EXPORTS_MAP})
if(LMFORGE_SDK_CONSUMER)
  set_property(GLOBAL PROPERTY LMFORGE_SDK_CONSUMER ON)
endif()

# lmforge_add_plugin(NAME SOURCES a.cpp [b.cpp ...] [NO_PCH] [OUTPUT_DIRECTORY DIR])
# Builds one plugin as a MODULE library NAME.so, linked to the SDK, exporting only the handshake,
# declaration and registration symbols. It also makes NAME_static, a static library of the same objects, so tests
# can use the plugin's classes directly; objects nobody references (the registration) are not
# pulled in, so many plugins fit in one test binary.
#
# The same file serves the lmforge tree (plugins go to the build's plugin folder and are installed
# with the SDK) and, through find_package(lmforge), a plugin project outside it
# (LMFORGE_SDK_CONSUMER: NAME.so lands in the project's build folder, ready for --plugin-path).
function(lmforge_add_plugin name)
  cmake_parse_arguments(ARG "NO_PCH" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "lmforge_add_plugin(${name}): no SOURCES given")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "lmforge_add_plugin(${name}): unexpected arguments ${ARG_UNPARSED_ARGUMENTS}; "
      "usage: lmforge_add_plugin(NAME SOURCES a.cpp ... [NO_PCH] [OUTPUT_DIRECTORY DIR])")
  endif()
  get_property(exports_map GLOBAL PROPERTY LMFORGE_PLUGIN_EXPORTS_MAP)
  get_property(consumer GLOBAL PROPERTY LMFORGE_SDK_CONSUMER)
  add_library(${name}_objects OBJECT ${ARG_SOURCES})
  target_link_libraries(${name}_objects PUBLIC lmforge::lmforge)
  target_compile_features(${name}_objects PUBLIC cxx_std_17)
  target_include_directories(${name}_objects PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  # Objects go into a shared module, so they must be position independent even where the
  # project does not ask for it globally.
  set_target_properties(${name}_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(NOT ARG_NO_PCH AND TARGET lmforge_pch)
    target_precompile_headers(${name}_objects REUSE_FROM lmforge_pch)
  endif()
  add_library(${name} MODULE $<TARGET_OBJECTS:${name}_objects>)
  target_link_libraries(${name} PRIVATE lmforge::lmforge)
  if(NOT ARG_OUTPUT_DIRECTORY)
    add_library(${name}_static STATIC $<TARGET_OBJECTS:${name}_objects>)
    target_link_libraries(${name}_static PUBLIC lmforge::lmforge)
    target_include_directories(${name}_static PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    if(NOT consumer)
      set_property(GLOBAL APPEND PROPERTY LMFORGE_PLUGIN_STATIC_LIBS ${name}_static)
    endif()
  endif()
  set_target_properties(${name} PROPERTIES PREFIX "")
  if(NOT consumer)
    set_property(GLOBAL APPEND PROPERTY LMFORGE_PLUGIN_MODULES ${name})
  endif()
  # Export only the handshake, declaration and registration symbols: nothing can come to depend on a plugin's
  # internals, and two plugins' private helpers can never collide.
  target_link_options(${name} PRIVATE "LINKER:--version-script=${exports_map}")
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${exports_map})
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(LMFORGE_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${LMFORGE_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  if(LMFORGE_INSTALL_PLUGINS AND NOT ARG_OUTPUT_DIRECTORY AND NOT consumer)
    # An installed plugin finds liblmforge from its own folder (lib/lmforge/plugins -> lib), so it
    # loads into any host, not only the bundled CLI that has liblmforge loaded already.
    file(RELATIVE_PATH plugin_to_lib /${LMFORGE_INSTALL_PLUGINDIR} /${CMAKE_INSTALL_LIBDIR})
    string(REGEX REPLACE "/$" "" plugin_to_lib "${plugin_to_lib}")
    set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN/${plugin_to_lib};${LMFORGE_TORCH_LIB_DIR}"
      INSTALL_RPATH_USE_LINK_PATH ON)
    install(TARGETS ${name} LIBRARY DESTINATION ${LMFORGE_INSTALL_PLUGINDIR})
  endif()
endfunction()
