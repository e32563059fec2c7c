# Drives one consumer test: cmake -DSTEP=<step> -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -DGENERATOR=...
#   -DVERSION=<keyspace version> -P run_consumer.cmake
# Steps: subdirectory, fetchcontent (the README's FetchContent snippet against scripts/release.sh's archive), release
# (two cuts give the same bytes), export (a library exporting itself with keyspace from FetchContent), install (configure keyspace alone the way the vcpkg port and the Conan recipe
# do, install it into WORK_DIR/prefix and check the layout), find_package (against that prefix), refuse_major
# (find_package(keyspace 1.0 CONFIG) against that prefix must fail), packaging (the vcpkg port and the Conan recipe
# agree with this tree; the Conan test_package builds against the install), pkg_config (against that prefix, and an
# install with KEYSPACE_SIMD=OFF: a build through `pkg-config --cflags keyspace`; needs -DPKG_CONFIG=...).
cmake_minimum_required(VERSION 3.21)
foreach(var IN ITEMS STEP SOURCE_DIR WORK_DIR CXX GENERATOR VERSION)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
    endif()
endforeach()
set(consumer_src "${CMAKE_CURRENT_LIST_DIR}")
set(prefix "${WORK_DIR}/prefix")

# run(<name> <expect: ok|fail> <command...>): runs a command, keeps its output in OUT, stops the test on surprise.
macro(run name expect)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(OUT "${out}\n${err}")
    if(expect STREQUAL "ok" AND NOT rc EQUAL 0)
        message(FATAL_ERROR "${name} failed (${rc}):\n${OUT}")
    elseif(expect STREQUAL "fail" AND rc EQUAL 0)
        message(FATAL_ERROR "${name} succeeded but must fail:\n${OUT}")
    endif()
endmacro()

# Configures, builds and runs the consumer project, then checks that keyspace's include directory reached the
# compiler as a system directory (-isystem), so the consumer's warning flags never apply to our headers.
function(build_consumer mode include_dir)
    set(build "${WORK_DIR}/consumer-${mode}")
    file(REMOVE_RECURSE "${build}")
    run("configure (${mode})" ok ${CMAKE_COMMAND} -S "${consumer_src}" -B "${build}" -G "${GENERATOR}"
        -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
        -DKEYSPACE_CONSUMER_MODE=${mode} -DKEYSPACE_EXPECTED_VERSION=${VERSION} ${ARGN})
    set(CONFIGURE_OUT "${OUT}" PARENT_SCOPE)
    run("build (${mode})" ok ${CMAKE_COMMAND} --build "${build}")
    run("run (${mode})" ok "${build}/my_benchmark")
    if(NOT OUT MATCHES "consumer: ok")
        message(FATAL_ERROR "${mode}: unexpected output ${OUT}")
    endif()
    run("run (${mode}, precompiled header)" ok "${build}/my_benchmark_pch")
    if(NOT OUT MATCHES "consumer: ok")
        message(FATAL_ERROR "${mode} with a precompiled header: unexpected output ${OUT}")
    endif()
    message(STATUS "${mode}: ${OUT}")
    file(READ "${build}/compile_commands.json" commands)
    if(NOT commands MATCHES "-isystem ${include_dir}")
        message(FATAL_ERROR "${mode}: keyspace's headers (${include_dir}) are not a system include:\n${commands}")
    endif()
    if(commands MATCHES "-I${include_dir}")
        message(FATAL_ERROR "${mode}: keyspace's headers (${include_dir}) are also a plain include:\n${commands}")
    endif()
endfunction()

# cut_release(): runs scripts/release.sh into WORK_DIR/release-<step>; sets release_dir, release_archive, release_hash.
# The archive holds the commit checked out (HEAD), not uncommitted changes. Not a git checkout: the test is skipped.
macro(cut_release)
    if(NOT EXISTS "${SOURCE_DIR}/.git")
        message(FATAL_ERROR "release: skipped: ${SOURCE_DIR} is not a git checkout (a release is cut from a commit)")
    endif()
    set(release_dir "${WORK_DIR}/release-${STEP}") # one per step: ctest -j runs steps side by side
    file(REMOVE_RECURSE "${release_dir}")
    run("scripts/release.sh" ok ${CMAKE_COMMAND} -E env KEYSPACE_RELEASE_ALLOW_DIRTY=1
        bash "${SOURCE_DIR}/scripts/release.sh" --out "${release_dir}")
    set(release_archive "${release_dir}/keyspace-${VERSION}.tar.gz")
    file(READ "${release_archive}.sha256" release_hash)
    string(REGEX MATCH "^[0-9a-f]+" release_hash "${release_hash}")
    file(SHA256 "${release_archive}" actual_hash)
    if(NOT release_hash STREQUAL actual_hash OR NOT release_hash MATCHES "^[0-9a-f]+$")
        message(FATAL_ERROR "release: the .sha256 file says '${release_hash}', the archive hashes to ${actual_hash}")
    endif()
endmacro()

# readme_fetchcontent_snippet(<var>): the README's FetchContent block (```cmake starting with include(FetchContent)),
# checked to pin this version by URL and hash.
function(readme_fetchcontent_snippet var)
    file(READ "${SOURCE_DIR}/README.md" readme)
    set(open "```cmake\ninclude(FetchContent)\n")
    string(FIND "${readme}" "${open}" at)
    string(FIND "${readme}" "${open}" last REVERSE)
    if(at EQUAL -1 OR NOT at EQUAL last)
        message(FATAL_ERROR "README.md must hold exactly one block starting ${open}")
    endif()
    math(EXPR at "${at} + 9") # past ```cmake and its newline
    string(SUBSTRING "${readme}" ${at} -1 rest)
    string(FIND "${rest}" "```" close)
    string(SUBSTRING "${rest}" 0 ${close} snippet)
    foreach(expected IN ITEMS "URL <release-location>/keyspace-${VERSION}.tar.gz" "URL_HASH SHA256=<"
                              "DOWNLOAD_EXTRACT_TIMESTAMP TRUE" "FetchContent_MakeAvailable(keyspace)"
                              "target_link_libraries(my_benchmark PRIVATE keyspace::keyspace)")
        string(FIND "${snippet}" "${expected}" found)
        if(found EQUAL -1)
            message(FATAL_ERROR "README.md's FetchContent snippet lacks '${expected}':\n${snippet}")
        endif()
    endforeach()
    set(${var} "${snippet}" PARENT_SCOPE)
endfunction()

if(STEP STREQUAL "subdirectory")
    build_consumer(subdirectory "${SOURCE_DIR}/include" -DKEYSPACE_SOURCE_DIR=${SOURCE_DIR})
elseif(STEP STREQUAL "fetchcontent")
    # The README's FetchContent snippet, run as written but for the release's location (a file:// URL: offline) and
    # its hash, against the archive scripts/release.sh cuts from this commit.
    cut_release()
    readme_fetchcontent_snippet(snippet)
    string(REPLACE "<release-location>" "file://${release_dir}" snippet "${snippet}")
    string(REGEX REPLACE "SHA256=<[^>]*>" "SHA256=${release_hash}" snippet "${snippet}")
    set(snippet_file "${WORK_DIR}/fetchcontent-snippet.cmake")
    file(WRITE "${snippet_file}" "${snippet}")
    build_consumer(fetchcontent "${WORK_DIR}/consumer-fetchcontent/_deps/keyspace-src/include"
                   -DKEYSPACE_FETCHCONTENT_SNIPPET=${snippet_file})
    # DOWNLOAD_EXTRACT_TIMESTAMP is there so that CMake >= 3.24 does not warn (CMP0135); the hash was checked.
    if(CONFIGURE_OUT MATCHES "CMake Warning")
        message(FATAL_ERROR "fetchcontent: the README's snippet makes CMake warn:\n${CONFIGURE_OUT}")
    endif()
elseif(STEP STREQUAL "install")
    set(build "${WORK_DIR}/keyspace-build")
    file(REMOVE_RECURSE "${build}" "${prefix}")
    run("configure keyspace" ok ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
        -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=${prefix}
        -DKEYSPACE_BUILD_TESTS=OFF -DKEYSPACE_BUILD_BENCHMARKS=OFF -DKEYSPACE_BUILD_EXAMPLES=OFF)
    run("install keyspace" ok ${CMAKE_COMMAND} --install "${build}")
    # The layout the vcpkg port (vcpkg_cmake_config_fixup(CONFIG_PATH share/keyspace)) and the Conan recipe rely on.
    foreach(file IN ITEMS include/keyspace/keyspace.hpp include/keyspace/config.hpp include/keyspace/detail/simd.hpp
                          share/keyspace/keyspaceConfig.cmake share/keyspace/keyspaceConfigVersion.cmake
                          share/keyspace/keyspaceTargets.cmake share/keyspace/keyspaceXsimd.cmake
                          share/doc/keyspace/LICENSE share/pkgconfig/keyspace.pc)
        if(NOT EXISTS "${prefix}/${file}")
            message(FATAL_ERROR "install: ${prefix}/${file} is missing")
        endif()
    endforeach()
    file(GLOB_RECURSE binaries "${prefix}/lib*/*" "${prefix}/bin/*")
    if(binaries)
        message(FATAL_ERROR "install: a header-only library installed binaries: ${binaries}")
    endif()
elseif(STEP STREQUAL "find_package")
    build_consumer(find_package "${prefix}/include" -DCMAKE_PREFIX_PATH=${prefix} -DKEYSPACE_REQUESTED_VERSION=0.1
                   -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
elseif(STEP STREQUAL "refuse_major")
    # SameMajorVersion: a request for 1.0 must not accept the installed 0.x package.
    set(build "${WORK_DIR}/consumer-refuse")
    file(REMOVE_RECURSE "${build}")
    run("configure asking for keyspace 1.0" fail ${CMAKE_COMMAND} -S "${consumer_src}" -B "${build}"
        -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DKEYSPACE_CONSUMER_MODE=find_package
        -DKEYSPACE_REQUESTED_VERSION=1.0 -DCMAKE_PREFIX_PATH=${prefix})
    if(NOT OUT MATCHES "compatible with requested version \"1.0\"" OR NOT OUT MATCHES "version: ${VERSION}")
        message(FATAL_ERROR "refuse_major: configure failed for another reason:\n${OUT}")
    endif()
    message(STATUS "refuse_major: refused as expected")
elseif(STEP STREQUAL "packaging")
    # The vcpkg port and the Conan recipe cannot run here: check what they state against this tree, and build the
    # Conan test_package (a plain CMake project using find_package) against the installed prefix.
    file(READ "${SOURCE_DIR}/packaging/vcpkg/ports/keyspace/vcpkg.json" manifest)
    string(JSON port_name GET "${manifest}" name)
    string(JSON port_version GET "${manifest}" version)
    string(JSON simd_dep GET "${manifest}" features simd dependencies 0)
    if(NOT port_name STREQUAL "keyspace" OR NOT port_version STREQUAL VERSION OR NOT simd_dep STREQUAL "xsimd")
        message(FATAL_ERROR "vcpkg.json says ${port_name} ${port_version} (simd: ${simd_dep}); the tree is keyspace ${VERSION}")
    endif()
    file(READ "${SOURCE_DIR}/packaging/vcpkg/ports/keyspace/portfile.cmake" portfile)
    foreach(expected IN ITEMS "CONFIG_PATH share/keyspace" "simd KEYSPACE_SIMD" "-DKEYSPACE_BUILD_TESTS=OFF"
                              "vcpkg_install_copyright")
        string(FIND "${portfile}" "${expected}" at)
        if(at EQUAL -1)
            message(FATAL_ERROR "portfile.cmake lacks '${expected}'")
        endif()
    endforeach()
    if(NOT EXISTS "${prefix}/share/keyspace/keyspaceConfig.cmake")
        message(FATAL_ERROR "packaging: the install step did not run")
    endif()
    file(READ "${SOURCE_DIR}/packaging/conan/conanfile.py" recipe)
    foreach(expected IN ITEMS "package_type = \"header-library\"" "self.info.clear()"
                              "\"cmake_file_name\", \"keyspace\"" "\"cmake_target_name\", \"keyspace::keyspace\""
                              "KEYSPACE_NO_SIMD" "xsimd/")
        string(FIND "${recipe}" "${expected}" at)
        if(at EQUAL -1)
            message(FATAL_ERROR "conanfile.py lacks '${expected}'")
        endif()
    endforeach()
    set(build "${WORK_DIR}/conan-test_package")
    file(REMOVE_RECURSE "${build}")
    run("configure test_package" ok ${CMAKE_COMMAND} -S "${SOURCE_DIR}/packaging/conan/test_package" -B "${build}"
        -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix})
    run("build test_package" ok ${CMAKE_COMMAND} --build "${build}")
    run("run test_package" ok "${build}/test_package")
    if(NOT OUT MATCHES "keyspace ${VERSION}: ok")
        message(FATAL_ERROR "test_package: ${OUT}")
    endif()
    message(STATUS "packaging: vcpkg port and Conan recipe agree with the tree; test_package: ${OUT}")
elseif(STEP STREQUAL "release")
    # Two cuts of the same commit, a second apart, give the same bytes; the archive holds what the README says.
    cut_release()
    set(first "${WORK_DIR}/release-first.tar.gz")
    file(COPY_FILE "${release_archive}" "${first}")
    set(first_hash "${release_hash}")
    execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1)
    cut_release()
    run("compare the two archives" ok ${CMAKE_COMMAND} -E compare_files "${first}" "${release_archive}")
    if(NOT first_hash STREQUAL release_hash)
        message(FATAL_ERROR "release: two cuts hash to ${first_hash} and ${release_hash}")
    endif()
    run("list the archive" ok ${CMAKE_COMMAND} -E env LC_ALL=C tar tvzf "${release_archive}")
    set(listing "${OUT}")
    set(top "keyspace-${VERSION}")
    foreach(file IN ITEMS CMakeLists.txt LICENSE README.md cmake/keyspaceConfig.cmake.in cmake/keyspace.pc.in
                          include/keyspace/keyspace.hpp include/keyspace/config.hpp scripts/release.sh
                          tests/CMakeLists.txt)
        if(NOT listing MATCHES " ${top}/${file}\n")
            message(FATAL_ERROR "release: the archive lacks ${top}/${file}:\n${listing}")
        endif()
    endforeach()
    if(listing MATCHES "${top}/\\.ci/" OR listing MATCHES "${top}/\\.gitignore")
        message(FATAL_ERROR "release: the archive holds .ci/ or .gitignore:\n${listing}")
    endif()
    string(REGEX MATCHALL "[^\n]+" entries "${listing}")
    foreach(entry IN LISTS entries)
        if(NOT entry MATCHES "^[-d]r[-w][-x]r-[-x]r-[-x] root/root " OR NOT entry MATCHES " ${top}/")
            message(FATAL_ERROR "release: an entry not owned by root, with a group/other write bit, or outside ${top}/: ${entry}")
        endif()
    endforeach()
    message(STATUS "release: ${release_archive} (sha256 ${release_hash}) twice, byte for byte")
elseif(STEP STREQUAL "export")
    # A library that exports itself (install(EXPORT)) while linking keyspace::keyspace brought in by FetchContent:
    # without the README's line CMake refuses (keyspace is in no export set); with it, the library installs, and a
    # downstream project finds it, and keyspace beside it, through find_package.
    set(line "set(KEYSPACE_INSTALL ON) # before FetchContent_MakeAvailable(keyspace)")
    file(READ "${SOURCE_DIR}/README.md" readme)
    file(READ "${consumer_src}/export/CMakeLists.txt" project_text)
    foreach(text IN ITEMS readme project_text)
        string(FIND "${${text}}" "${line}" at)
        if(at EQUAL -1)
            message(FATAL_ERROR "export: '${line}' is missing from ${text}")
        endif()
    endforeach()
    cut_release()
    set(fetch -DKEYSPACE_URL=file://${release_archive} -DKEYSPACE_SHA256=${release_hash})
    set(build "${WORK_DIR}/export-without-line")
    file(REMOVE_RECURSE "${build}")
    run("configure bench_kit without the line" fail ${CMAKE_COMMAND} -S "${consumer_src}/export" -B "${build}"
        -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} ${fetch} -DBENCH_KIT_README_LINE=OFF)
    if(NOT OUT MATCHES "requires target \"keyspace\" that is not in any export set")
        message(FATAL_ERROR "export: without the line, configure failed for another reason:\n${OUT}")
    endif()
    set(build "${WORK_DIR}/export")
    set(export_prefix "${WORK_DIR}/prefix-export")
    file(REMOVE_RECURSE "${build}" "${export_prefix}")
    run("configure bench_kit" ok ${CMAKE_COMMAND} -S "${consumer_src}/export" -B "${build}" -G "${GENERATOR}"
        -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release ${fetch})
    run("build bench_kit" ok ${CMAKE_COMMAND} --build "${build}")
    run("install bench_kit" ok ${CMAKE_COMMAND} --install "${build}" --prefix "${export_prefix}")
    set(build "${WORK_DIR}/export-downstream")
    file(REMOVE_RECURSE "${build}")
    run("configure bench_kit's user" ok ${CMAKE_COMMAND} -S "${consumer_src}/export/downstream" -B "${build}"
        -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${export_prefix}
        -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
    run("build bench_kit's user" ok ${CMAKE_COMMAND} --build "${build}")
    run("run bench_kit's user" ok "${build}/bench_kit_user")
    if(NOT OUT MATCHES "bench_kit user: ok")
        message(FATAL_ERROR "export: unexpected output ${OUT}")
    endif()
    message(STATUS "export: without the line refused as the README says; with it: ${OUT}")
elseif(STEP STREQUAL "pkg_config")
    # An autotools or Makefile build: PKG_CHECK_MODULES([KEYSPACE], [keyspace >= 0.1]) asks pkg-config exactly this,
    # then the compiler gets `pkg-config --cflags keyspace` (a plain -I) and the strict warnings of the header check.
    if(NOT PKG_CONFIG)
        message(FATAL_ERROR "pkg_config: -DPKG_CONFIG=<pkg-config> is required (Debian package pkg-config)")
    endif()
    # pkg_config_consumer(<prefix> <label>): checks the version requests and builds and runs the consumer.
    function(pkg_config_consumer pc_prefix label)
        set(pc ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_prefix}/share/pkgconfig ${PKG_CONFIG})
        run("pkg-config keyspace >= 0.1 (${label})" ok ${pc} --print-errors --exists "keyspace >= 0.1")
        run("pkg-config keyspace >= 1.0 (${label})" fail ${pc} --exists "keyspace >= 1.0")
        run("pkg-config --modversion (${label})" ok ${pc} --modversion keyspace)
        string(STRIP "${OUT}" modversion)
        if(NOT modversion STREQUAL VERSION)
            message(FATAL_ERROR "pkg_config: keyspace.pc says ${modversion}, the tree is ${VERSION}")
        endif()
        run("pkg-config --cflags (${label})" ok ${pc} --cflags keyspace)
        string(STRIP "${OUT}" cflags)
        separate_arguments(cflags UNIX_COMMAND "${cflags}")
        run("pkg-config --libs (${label})" ok ${pc} --libs keyspace)
        string(STRIP "${OUT}" libs)
        separate_arguments(libs UNIX_COMMAND "${libs}")
        set(exe "${WORK_DIR}/pkg-config-consumer-${label}")
        run("compile through pkg-config (${label})" ok ${CXX} -std=c++20 -O2 ${cflags} -Wall -Wextra -Wpedantic
            -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast -Wundef -Werror
            "-DKEYSPACE_CONSUMER_EXPECTED_VERSION=\"${VERSION}\"" "${consumer_src}/main.cpp" ${libs} -o "${exe}")
        run("run (pkg-config, ${label})" ok "${exe}")
        if(NOT OUT MATCHES "consumer: ok")
            message(FATAL_ERROR "pkg_config (${label}): unexpected output ${OUT}")
        endif()
        message(STATUS "pkg_config (${label}): cflags '${cflags}', libs '${libs}': ${OUT}")
        set(cflags "${cflags}" PARENT_SCOPE)
    endfunction()

    if(NOT EXISTS "${prefix}/share/pkgconfig/keyspace.pc")
        message(FATAL_ERROR "pkg_config: ${prefix}/share/pkgconfig/keyspace.pc is missing (did the install step run?)")
    endif()
    file(READ "${prefix}/share/pkgconfig/keyspace.pc" pc_text)
    if(NOT pc_text MATCHES "\nRequires: xsimd >= 8")
        message(FATAL_ERROR "pkg_config: a KEYSPACE_SIMD=ON install must require xsimd:\n${pc_text}")
    endif()
    pkg_config_consumer("${prefix}" simd)

    # The same through autotools: tests/consumer/autotools (PKG_CHECK_MODULES in configure.ac, the flags in
    # Makefile.am), whose keyspace lines the README shows. make gets the strict warnings; configure's checks do not.
    file(READ "${SOURCE_DIR}/README.md" readme)
    foreach(file IN ITEMS configure.ac Makefile.am)
        file(STRINGS "${consumer_src}/autotools/${file}" lines REGEX "KEYSPACE") # the lines about keyspace
        foreach(line IN LISTS lines)
            string(FIND "${readme}" "${line}" at)
            if(at EQUAL -1)
                message(FATAL_ERROR "pkg_config: README.md lacks the line '${line}' of autotools/${file}")
            endif()
        endforeach()
    endforeach()
    set(at_dir "${WORK_DIR}/autotools")
    file(REMOVE_RECURSE "${at_dir}")
    file(COPY "${consumer_src}/autotools/" DESTINATION "${at_dir}")
    file(COPY "${consumer_src}/main.cpp" DESTINATION "${at_dir}")
    # run_checked(<name> <command...>): as run(name ok ...), but a function, so quotes in arguments survive.
    function(run_checked name)
        execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${at_dir}" RESULT_VARIABLE code OUTPUT_VARIABLE o
                        ERROR_VARIABLE e)
        if(NOT code EQUAL 0)
            message(FATAL_ERROR "${name} failed (${code}):\n${o}\n${e}")
        endif()
        set(OUT "${o}\n${e}" PARENT_SCOPE)
    endfunction()
    run_checked("autoreconf" autoreconf -fi)
    # Makefile gets CPPFLAGS = -D...=\"<version>\", which the shell hands the compiler as a string literal.
    run_checked("configure (autotools)" ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/share/pkgconfig
                PKG_CONFIG=${PKG_CONFIG} ./configure CXX=${CXX}
                "CPPFLAGS=-DKEYSPACE_CONSUMER_EXPECTED_VERSION=\\\"${VERSION}\\\"")
    run_checked("make (autotools)" make "CXXFLAGS=-O2 -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast -Wundef -Werror")
    run_checked("run (autotools)" "${at_dir}/my_benchmark")
    if(NOT OUT MATCHES "consumer: ok")
        message(FATAL_ERROR "pkg_config (autotools): unexpected output ${OUT}")
    endif()
    message(STATUS "pkg_config (autotools): ${OUT}")

    # KEYSPACE_SIMD=OFF: no xsimd requirement, and the scalar kernels selected through the flags.
    set(build "${WORK_DIR}/keyspace-build-nosimd")
    set(nosimd_prefix "${WORK_DIR}/prefix-nosimd")
    file(REMOVE_RECURSE "${build}" "${nosimd_prefix}")
    run("configure keyspace (KEYSPACE_SIMD=OFF)" ok ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${build}"
        -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DKEYSPACE_SIMD=OFF -DKEYSPACE_BUILD_TESTS=OFF
        -DKEYSPACE_BUILD_BENCHMARKS=OFF -DKEYSPACE_BUILD_EXAMPLES=OFF)
    run("install keyspace (KEYSPACE_SIMD=OFF)" ok ${CMAKE_COMMAND} --install "${build}" --prefix "${nosimd_prefix}")
    file(READ "${nosimd_prefix}/share/pkgconfig/keyspace.pc" pc_text)
    if(pc_text MATCHES "xsimd")
        message(FATAL_ERROR "pkg_config: a KEYSPACE_SIMD=OFF install must not mention xsimd:\n${pc_text}")
    endif()
    pkg_config_consumer("${nosimd_prefix}" nosimd)
    if(NOT cflags MATCHES "-DKEYSPACE_NO_SIMD")
        message(FATAL_ERROR "pkg_config: a KEYSPACE_SIMD=OFF install must pass -DKEYSPACE_NO_SIMD: ${cflags}")
    endif()
else()
    message(FATAL_ERROR "run_consumer.cmake: unknown STEP '${STEP}'")
endif()
