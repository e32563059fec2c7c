# Finds xsimd for keyspace (used by the build tree and by the installed keyspaceConfig.cmake).
# Debian's libxsimd-dev 8.1 exports an 'xsimd' target that links a non-existent 'xtl' target; when no 'xtl'
# target exists we provide an empty one so that linking 'xsimd' works.
if(NOT TARGET xsimd)
    find_package(xsimd 8 ${KEYSPACE_XSIMD_FIND_MODE})
endif()
if(TARGET xsimd AND NOT TARGET xtl)
    add_library(xtl INTERFACE IMPORTED GLOBAL)
endif()
# Cross builds (cmake/toolchains/*) read the header-only dependencies from a staged directory instead of the host's
# /usr/include.
if(TARGET xsimd AND KEYSPACE_STAGED_INCLUDE_DIR)
    set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${KEYSPACE_STAGED_INCLUDE_DIR}")
endif()
