# `cmake --install build --prefix P` installs the SDK, relocatable as a whole:
#   P/bin/lmforge                      the CLI (RUNPATH $ORIGIN/../lib)
#   P/lib/liblmforge.so*               the SDK (the core is linked into bin/lmforge)
#   P/lib/lmforge/plugins/*.so         the bundled plugins, found by the CLI next to itself
#   P/include/lmforge/*.h              the public SDK headers
#   P/lib/cmake/lmforge/               the CMake package: find_package(lmforge) + lmforge_add_plugin
# The plugins' install rules come from lmforge_add_plugin (cmake/lmforge_plugin.cmake).
include(CMakePackageConfigHelpers)
set(LMFORGE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/lmforge)

# Non-system dependency folders (a LibTorch unpacked under /opt, say) stay on the RUNPATH, so the
# installed SDK runs without LD_LIBRARY_PATH wherever LibTorch lives.
set_target_properties(lmforge lmforge_cli PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)

install(TARGETS lmforge EXPORT lmforgeTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS lmforge_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY framework/include/lmforge DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(EXPORT lmforgeTargets NAMESPACE lmforge:: DESTINATION ${LMFORGE_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/lmforgeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lmforgeConfig.cmake INSTALL_DESTINATION ${LMFORGE_INSTALL_CMAKEDIR}
  PATH_VARS LMFORGE_INSTALL_PLUGINDIR)
# Plugins are checked against the host at load time (plugin ABI, LibTorch, C++ ABI); an exact
# version keeps a plugin project from quietly picking up another installed SDK than it asked for.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lmforgeConfigVersion.cmake
  COMPATIBILITY ExactVersion)
install(FILES ${PROJECT_BINARY_DIR}/lmforgeConfig.cmake ${PROJECT_BINARY_DIR}/lmforgeConfigVersion.cmake
  cmake/lmforge_plugin.cmake cmake/plugin_exports.map DESTINATION ${LMFORGE_INSTALL_CMAKEDIR})
