include(CMakeFindDependencyMacro)
find_dependency(keyspace 0.1 CONFIG)
include("${CMAKE_CURRENT_LIST_DIR}/bench_kitTargets.cmake")
