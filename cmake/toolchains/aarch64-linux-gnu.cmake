# Cross-compiles for AArch64 with Debian's g++-aarch64-linux-gnu and runs the results under qemu-user
# (Debian's qemu-user), so the NEON kernels are built and tested on an x86-64 machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# xsimd and Catch2 are header-only and architecture-independent: their host CMake packages are usable.
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Their host packages point at /usr/include, which also holds the host's C library headers; the cross compiler
# must not search it. KEYSPACE_STAGED_INCLUDE_DIR holds links to just the header-only libraries instead.
set(KEYSPACE_STAGED_INCLUDE_DIR "${CMAKE_BINARY_DIR}/staged-include" CACHE PATH "")
foreach(lib xsimd catch2)
    if(EXISTS "/usr/include/${lib}" AND NOT EXISTS "${KEYSPACE_STAGED_INCLUDE_DIR}/${lib}")
        file(MAKE_DIRECTORY "${KEYSPACE_STAGED_INCLUDE_DIR}")
        file(CREATE_LINK "/usr/include/${lib}" "${KEYSPACE_STAGED_INCLUDE_DIR}/${lib}" SYMBOLIC)
    endif()
endforeach()

# The host's multiarch package directory is not searched for a foreign architecture: point at xsimd's.
if(NOT xsimd_DIR)
    file(GLOB _keyspace_xsimd_dirs "/usr/lib/*/cmake/xsimd" "/usr/share/cmake/xsimd")
    list(GET _keyspace_xsimd_dirs 0 _keyspace_xsimd_dir)
    if(_keyspace_xsimd_dir)
        set(xsimd_DIR "${_keyspace_xsimd_dir}" CACHE PATH "")
    endif()
endif()
