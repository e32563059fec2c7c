# Compiled as C++17 (or earlier), every public header stops at one #error naming the requirement, raised by
# config.hpp before any C++20 feature is reached, and compilation ends there (no cascade of other errors).
# cmake -DCXX=<compiler> -DINCLUDE_DIR=<keyspace include dir> -P cxx17_error_test.cmake
foreach(var IN ITEMS CXX INCLUDE_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "cxx17_error_test.cmake: -D${var}=... is required")
    endif()
endforeach()
file(GLOB_RECURSE headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/keyspace/*.hpp")
list(SORT headers)
set(message "keyspace requires C++20 or later")
# Every header as C++17; the umbrella also as C++14.
foreach(std IN ITEMS c++17 c++14)
    set(selected ${headers})
    if(std STREQUAL "c++14")
        set(selected keyspace/keyspace.hpp)
    endif()
    foreach(header IN LISTS selected)
        # The header comes in through -include so the translation unit holds nothing else.
        execute_process(COMMAND "${CXX}" -std=${std} -fsyntax-only -I "${INCLUDE_DIR}" -include "${header}" -x c++
                                /dev/null
                        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
        set(out "${out}${err}")
        if(rc EQUAL 0)
            message(FATAL_ERROR "${header} compiled with -std=${std}; it must stop with '${message}'")
        endif()
        # Diagnostics are the lines holding "error:"; exactly one names the requirement, and the only other one is
        # the stop that ends compilation.
        string(REGEX MATCHALL "[^\n]*error:[^\n]*" diagnostics "${out}")
        set(requirement 0)
        foreach(line IN LISTS diagnostics)
            string(FIND "${line}" "${message}" at)
            if(NOT at EQUAL -1 AND line MATCHES "config\\.hpp")
                math(EXPR requirement "${requirement} + 1")
            elseif(NOT line MATCHES "stop_here_keyspace_requires_cxx20")
                message(FATAL_ERROR "${header} with -std=${std}: an error other than the requirement:\n${out}")
            endif()
        endforeach()
        if(NOT requirement EQUAL 1)
            message(FATAL_ERROR "${header} with -std=${std}: expected one '${message}' error, got ${requirement}:\n${out}")
        endif()
    endforeach()
endforeach()
list(LENGTH headers n)
message(STATUS "${n} headers stop with '${message}' under -std=c++17, the umbrella also under -std=c++14 (${CXX})")
