/** @file keyspace/detail/isa.hpp
 *  The instruction-set name of this translation unit, and the tag that keeps code built for one instruction set
 *  apart from code built for another.
 *
 *  Why. keyspace is header-only and picks its read kernels (and the pdep path of select_bit) from the compiler
 *  flags of the file that includes it. A program may compile one hot file with `-mavx2` and the rest without. If an
 *  inline function had one name but a body that depends on those flags, the two files would hold two different
 *  definitions of one symbol and the linker would keep one of them for both: the baseline file could run AVX2 code
 *  (SIGILL on an older host), or the AVX2 file could silently lose its kernel. So every entity whose body depends on
 *  the instruction set gets a name that depends on it too:
 *  - the kernels and select_bit are declared in `inline namespace KEYSPACE_ISA_NAME` (e.g. keyspace::detail::simd::
 *    avx2::popcount), so their mangled names differ per instruction set while callers keep writing simd::popcount;
 *  - every non-template inline function, and every member of a class (template), that calls such an entity — even
 *    indirectly — is itself instruction-set dependent. It is declared with `KEYSPACE_ISA_ABI` (GCC/Clang: an ABI tag
 *    that is part of the mangled name), so the *types* (AtomicBitmap, the iterators) stay the same in every file and
 *    can be passed between them, while each file calls its own member bodies.
 *
 *  The name lists what the library's own source branches on: the xsimd architecture of the kernels (as xsimd picks
 *  it from the flags), the VPOPCNTDQ kernel (and its 256-bit form, AVX512VL), and the pdep path of select_bit
 *  (BMI2). Code that is the same source under every flag set (the scalar loops) is not renamed: the compiler may
 *  still emit different instructions for it under different flags, which is the general hazard of mixing -m flags
 *  across C++ files (it applies to the standard library's inline functions as much as to ours).
 *  The rule is transitive and holds at -O0, where nothing is inlined: tests/isa_mix/isa_tag_check.cpp walks the call
 *  graph of object files built with -mavx2 and fails on any inline function of the library (or standard-library
 *  instantiation over its types) that reaches AVX2 code without the name. One consequence: a tagged constructor is
 *  not called from inside a standard-library template (std::optional::emplace, std::construct_at), whose name does
 *  not carry the tag; the object is built in the tagged caller and moved in.
 *  On compilers without abi_tag (MSVC) KEYSPACE_ISA_ABI is empty: there, build every file that includes keyspace
 *  with the same architecture flags. */
#pragma once

#include <keyspace/config.hpp>

#if !defined(KEYSPACE_NO_SIMD) && !defined(KEYSPACE_TSAN)
#include <xsimd/config/xsimd_config.hpp> // for XSIMD_WITH_*, XSIMD_NO_SUPPORTED_ARCHITECTURE
#endif

// ---- the vector kernels: xsimd's default architecture (asserted equal to xsimd::default_arch in simd.hpp) ----
#if defined(KEYSPACE_NO_SIMD) || defined(KEYSPACE_TSAN) || defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#define KEYSPACE_DETAIL_ISA_VECTOR scalar
#elif XSIMD_WITH_AVX512BW
#define KEYSPACE_DETAIL_ISA_VECTOR avx512bw
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::avx512bw
#elif XSIMD_WITH_AVX512DQ
#define KEYSPACE_DETAIL_ISA_VECTOR avx512dq
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::avx512dq
#elif XSIMD_WITH_AVX512CD
#define KEYSPACE_DETAIL_ISA_VECTOR avx512cd
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::avx512cd
#elif XSIMD_WITH_AVX512F
#define KEYSPACE_DETAIL_ISA_VECTOR avx512f
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::avx512f
#elif XSIMD_WITH_FMA3_AVX2
#define KEYSPACE_DETAIL_ISA_VECTOR fma3_avx2
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::fma3<xsimd::avx2>
#elif XSIMD_WITH_AVX2
#define KEYSPACE_DETAIL_ISA_VECTOR avx2
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::avx2
#elif XSIMD_WITH_FMA3_AVX
#define KEYSPACE_DETAIL_ISA_VECTOR fma3_avx
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::fma3<xsimd::avx>
#elif XSIMD_WITH_AVX
#define KEYSPACE_DETAIL_ISA_VECTOR avx
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::avx
#elif XSIMD_WITH_FMA4
#define KEYSPACE_DETAIL_ISA_VECTOR fma4
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::fma4
#elif XSIMD_WITH_FMA3_SSE
#define KEYSPACE_DETAIL_ISA_VECTOR fma3_sse4_2
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::fma3<xsimd::sse4_2>
#elif XSIMD_WITH_SSE4_2
#define KEYSPACE_DETAIL_ISA_VECTOR sse4_2
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::sse4_2
#elif XSIMD_WITH_SSE4_1
#define KEYSPACE_DETAIL_ISA_VECTOR sse4_1
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::sse4_1
#elif XSIMD_WITH_SSSE3
#define KEYSPACE_DETAIL_ISA_VECTOR ssse3
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::ssse3
#elif XSIMD_WITH_SSE3
#define KEYSPACE_DETAIL_ISA_VECTOR sse3
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::sse3
#elif XSIMD_WITH_SSE2
#define KEYSPACE_DETAIL_ISA_VECTOR sse2
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::sse2
#elif XSIMD_WITH_NEON64
#define KEYSPACE_DETAIL_ISA_VECTOR neon64
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::neon64
#elif XSIMD_WITH_NEON
#define KEYSPACE_DETAIL_ISA_VECTOR neon
#define KEYSPACE_DETAIL_XSIMD_ARCH xsimd::neon
#else
#error "keyspace: an xsimd architecture this header does not know; define KEYSPACE_NO_SIMD or extend detail/isa.hpp"
#endif

// ---- the population count kernel: native VPOPCNTDQ where enabled (and its 256-bit loop with AVX512VL) ----------
#if defined(KEYSPACE_DETAIL_XSIMD_ARCH) && defined(__AVX512VPOPCNTDQ__) && defined(__AVX512F__)
#define KEYSPACE_DETAIL_VPOPCNTDQ 1
#if defined(__AVX512VL__)
#define KEYSPACE_DETAIL_ISA_POPCOUNT _vpopcntdq_vl
#else
#define KEYSPACE_DETAIL_ISA_POPCOUNT _vpopcntdq
#endif
#else
#define KEYSPACE_DETAIL_ISA_POPCOUNT
#endif

// ---- select_bit: pdep is one cycle where BMI2 is enabled, except on AMD before Zen 3 (microcoded there) ---------
#if defined(__BMI2__) && !defined(__znver1__) && !defined(__znver2__) && !defined(KEYSPACE_NO_SIMD)
#define KEYSPACE_FAST_PDEP 1
#define KEYSPACE_DETAIL_ISA_PDEP _pdep
#else
#define KEYSPACE_FAST_PDEP 0
#define KEYSPACE_DETAIL_ISA_PDEP
#endif

#define KEYSPACE_DETAIL_CAT3_(a, b, c) a##b##c
#define KEYSPACE_DETAIL_CAT3(a, b, c) KEYSPACE_DETAIL_CAT3_(a, b, c)
#define KEYSPACE_DETAIL_STR_(x) #x
#define KEYSPACE_DETAIL_STR(x) KEYSPACE_DETAIL_STR_(x)

/// The instruction-set name of this translation unit, an identifier: e.g. sse2, avx2_pdep, avx512bw_vpopcntdq_vl_pdep,
/// neon64, scalar. The inline namespace of every instruction-set-dependent entity.
#define KEYSPACE_ISA_NAME \
    KEYSPACE_DETAIL_CAT3(KEYSPACE_DETAIL_ISA_VECTOR, KEYSPACE_DETAIL_ISA_POPCOUNT, KEYSPACE_DETAIL_ISA_PDEP)
/// KEYSPACE_ISA_NAME as a string literal.
#define KEYSPACE_ISA_NAME_STRING KEYSPACE_DETAIL_STR(KEYSPACE_ISA_NAME)

/// Put at the start of the declaration of every inline function or member function that reaches an
/// instruction-set-dependent entity (a kernel of detail/simd.hpp, select_bit, or a function that carries this tag):
/// its mangled name then names the instruction set, and files built with different -m flags keep their own bodies.
/// Not needed on templates whose template arguments already differ per instruction set.
#if defined(__GNUC__) || defined(__clang__)
#define KEYSPACE_ISA_ABI [[gnu::abi_tag(KEYSPACE_ISA_NAME_STRING)]]
#else
#define KEYSPACE_ISA_ABI
#endif
