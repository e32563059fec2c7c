# keyspace: header-only, so one release configuration is enough.
# This overlay port builds the checkout it lives in (packaging/vcpkg/ports/keyspace inside the keyspace tree):
#   vcpkg install keyspace --overlay-ports=<keyspace checkout>/packaging/vcpkg/ports
# A registry port fetches a release instead; replace the SOURCE_PATH line with:
#   vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/keyspace REF "v${VERSION}" SHA512 <sha512> HEAD_REF main)
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/keyspace/keyspace.hpp")
    message(FATAL_ERROR "keyspace: ${SOURCE_PATH} is not a keyspace checkout")
endif()

set(VCPKG_BUILD_TYPE release)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
    FEATURES
        simd KEYSPACE_SIMD
)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DKEYSPACE_INSTALL=ON
        -DKEYSPACE_BUILD_TESTS=OFF
        -DKEYSPACE_BUILD_BENCHMARKS=OFF
        -DKEYSPACE_BUILD_EXAMPLES=OFF
)
vcpkg_cmake_install()
# The package config is installed to share/keyspace (keyspaceConfig.cmake, keyspaceConfigVersion.cmake,
# keyspaceTargets.cmake, keyspaceXsimd.cmake), the layout tests/consumer checks after a `cmake --install`.
vcpkg_cmake_config_fixup(CONFIG_PATH share/keyspace)

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/doc") # the license goes to share/keyspace/copyright instead
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
