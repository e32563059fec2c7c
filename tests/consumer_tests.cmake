# Consumer tests (KEYSPACE_CONSUMER_TESTS, on in the release preset): build tests/consumer against this tree through
# add_subdirectory, the README's FetchContent snippet (against scripts/release.sh's archive, which must come out the
# same twice) and find_package after an install, and check a 1.0 request is refused; through pkg-config after an
# install.
find_program(KEYSPACE_PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
set(_consumer_work "${CMAKE_CURRENT_BINARY_DIR}/consumer")
set(_consumer_args -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DWORK_DIR=${_consumer_work} -DCXX=${CMAKE_CXX_COMPILER}
                   "-DGENERATOR=${CMAKE_GENERATOR}" -DVERSION=${PROJECT_VERSION} -DPKG_CONFIG=${KEYSPACE_PKG_CONFIG})
foreach(step IN ITEMS subdirectory fetchcontent release export install find_package refuse_major packaging pkg_config)
    add_test(NAME "consumer: ${step}"
             COMMAND ${CMAKE_COMMAND} -DSTEP=${step} ${_consumer_args}
                     -P "${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake")
    set_tests_properties("consumer: ${step}" PROPERTIES TIMEOUT 600)
endforeach()
# The release archive is cut from a commit: outside a git checkout these three are reported as skipped.
set_tests_properties("consumer: fetchcontent" "consumer: release" "consumer: export" PROPERTIES SKIP_REGULAR_EXPRESSION "release: skipped:")
set_tests_properties("consumer: install" PROPERTIES FIXTURES_SETUP keyspace_installed)
set_tests_properties("consumer: find_package" "consumer: refuse_major" "consumer: packaging" "consumer: pkg_config"
                     PROPERTIES FIXTURES_REQUIRED keyspace_installed)
