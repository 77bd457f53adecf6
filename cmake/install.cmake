# `cmake --install build --prefix P` installs the SDK: headers, liblmforge, the CLI, the bundled
# plugins and a CMake package, so a plugin project needs only find_package(lmforge).
include(CMakePackageConfigHelpers)
install(TARGETS lmforge EXPORT lmforgeTargets
  LIBRARY DESTINATION lib RUNTIME DESTINATION bin)
install(TARGETS lmforge_cli RUNTIME DESTINATION bin)
set_target_properties(lmforge_cli PROPERTIES INSTALL_RPATH "$ORIGIN/../lib")
install(DIRECTORY framework/include/lmforge DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT lmforgeTargets NAMESPACE lmforge:: DESTINATION lib/cmake/lmforge)
configure_package_config_file(cmake/lmforgeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lmforgeConfig.cmake INSTALL_DESTINATION lib/cmake/lmforge)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lmforgeConfigVersion.cmake
  COMPATIBILITY ExactVersion)
install(FILES ${PROJECT_BINARY_DIR}/lmforgeConfig.cmake ${PROJECT_BINARY_DIR}/lmforgeConfigVersion.cmake
  cmake/lmforge_plugin.cmake cmake/plugin_exports.map DESTINATION lib/cmake/lmforge)
