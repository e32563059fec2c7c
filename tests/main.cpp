// The test runner's main (Catch2 v2 provides it through CATCH_CONFIG_MAIN; v3 links Catch2::Catch2WithMain).
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
