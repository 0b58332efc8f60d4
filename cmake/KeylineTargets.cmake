# Helpers that give every Keyline target the same warnings, include root and test labels.

set(KEYLINE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wimplicit-fallthrough -Werror)
# OpenSSL's and gRPC's macros use old-style casts in headers we cannot change; gRPC's generated
# CallbackService hides the synchronous handlers (-Woverloaded-virtual), so that one stays off.
list(APPEND KEYLINE_WARNINGS -Wno-old-style-cast)

# keyline_library(<name> SOURCES ... [DEPS ...])
function(keyline_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${KEYLINE_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# keyline_executable(<name> SOURCES ... [DEPS ...])
function(keyline_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${KEYLINE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# keyline_test(<name> SOURCES ... [DEPS ...] [LABEL unit|integration] [TIMEOUT seconds])
# Unit tests run everywhere, also in the sanitizer build; integration tests need the
# services that tests/ starts (PostgreSQL, SoftHSM2 tokens, keyline-server).
function(keyline_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${KEYLINE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "KEYLINE_SOURCE_DIR=${PROJECT_SOURCE_DIR};KEYLINE_BINARY_DIR=${PROJECT_BINARY_DIR}")
  set_property(GLOBAL APPEND PROPERTY KEYLINE_TESTS_${ARG_LABEL} ${name})
endfunction()

# keyline_test_groups(): after every folder is added, `unit_tests` and `integration_tests` build
# just the tests of that label (the sanitizer build builds only `unit_tests`).
function(keyline_test_groups)
  foreach(label unit integration fuzz)
    get_property(tests GLOBAL PROPERTY KEYLINE_TESTS_${label})
    add_custom_target(${label}_tests DEPENDS ${tests})
  endforeach()
endfunction()

# keyline_fuzzer(<name> SOURCES ... [DEPS ...] SEEDS <dir>)
# A libFuzzer target (only with -DKEYLINE_FUZZ=ON and clang-14), registered as a ctest test with
# label `fuzz` that runs for KEYLINE_FUZZ_SECONDS from the seeds in <dir>. New inputs go to a
# corpus directory in the build tree, never into the source tree.
set(KEYLINE_FUZZ_SECONDS 20 CACHE STRING "How long each fuzz test runs")
function(keyline_fuzzer name)
  if(NOT KEYLINE_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "SEEDS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${KEYLINE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
  file(MAKE_DIRECTORY ${corpus})
  add_test(NAME ${name} COMMAND ${name} -max_total_time=${KEYLINE_FUZZ_SECONDS}
           -rss_limit_mb=2048 -print_final_stats=1 ${corpus} ${ARG_SEEDS})
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 600)
  set_property(GLOBAL APPEND PROPERTY KEYLINE_TESTS_fuzz ${name})
endfunction()
