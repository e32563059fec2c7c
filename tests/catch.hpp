// Catch2 shim: the same tests compile against Catch2 v2 (Debian's 2.13, one header) and v3 (split headers).
#pragma once
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
