# Helpers that give every nslab target the same warnings, sanitizers and test wiring.

set(NSLAB_WARNINGS -Wall -Wextra -Werror)

set(NSLAB_SANITIZER_FLAGS "")
if(NSLAB_SANITIZE)
  set(NSLAB_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                            -fno-omit-frame-pointer)
  add_compile_options(${NSLAB_SANITIZER_FLAGS})
  add_link_options(${NSLAB_SANITIZER_FLAGS})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Coverage instrumentation for the fuzz targets; harmless for the unit tests.
    add_compile_options(-fsanitize=fuzzer-no-link)
    set(NSLAB_FUZZ ON)
  endif()
endif()

# nslab_library(NAME SOURCES a.cc b.cc DEPS lib1 PkgConfig::X)
function(nslab_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${NSLAB_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# nslab_executable(NAME SOURCES main.cc DEPS lib1)
function(nslab_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${NSLAB_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# nslab_gtest_executable(NAME SOURCES x_test.cc DEPS lib) — a gtest program with nslab's main
# (which reports skipped tests to ctest as skipped); the test functions below add its test.
function(nslab_gtest_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  nslab_executable(${name} SOURCES ${ARG_SOURCES} DEPS ${ARG_DEPS} GTest::gtest GTest::gmock
                   nslab_gtest_main)
endfunction()

# nslab_unit_test(NAME SOURCES x_test.cc DEPS lib) — gtest, no root, no kernel objects.
function(nslab_unit_test name)
  nslab_gtest_executable(${name} ${ARGN})
  add_test(NAME unit.${name} COMMAND ${name})
  # nslab_gtest_main exits 77 when tests were skipped: ctest then says skipped, not passed.
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
  set_property(GLOBAL APPEND PROPERTY NSLAB_UNIT_TESTS ${name})
endfunction()

# nslab_integration_test(NAME SOURCES x_test.cc DEPS lib) — root, real namespaces.
# Never built in the sanitizer tree.
function(nslab_integration_test name)
  if(NSLAB_SANITIZE)
    return()
  endif()
  nslab_gtest_executable(${name} ${ARGN})
  add_test(NAME integration.${name} COMMAND ${name})
  set_tests_properties(integration.${name} PROPERTIES LABELS integration TIMEOUT 600
                                                      SKIP_RETURN_CODE 77)
endfunction()

# nslab_netem_test(NAME SOURCES x_test.cc DEPS lib) — a gtest program run inside Debian's
# user-mode-linux kernel, which has sch_netem, by tests/netem/run_in_uml.sh: ctest test
# netem.<NAME>, its output and exit code handed back through files in its own work directory
# under the build folder. Never built in the sanitizer tree.
function(nslab_netem_test name)
  if(NSLAB_SANITIZE)
    return()
  endif()
  nslab_gtest_executable(${name} ${ARGN})
  add_test(NAME netem.${name}
           COMMAND ${PROJECT_SOURCE_DIR}/tests/netem/run_in_uml.sh
                   --work ${CMAKE_CURRENT_BINARY_DIR}/${name}-uml
                   --keep ${PROJECT_SOURCE_DIR} --keep ${PROJECT_BINARY_DIR}
                   -- $<TARGET_FILE:${name}>)
  set_tests_properties(netem.${name} PROPERTIES LABELS netem TIMEOUT 900 SKIP_RETURN_CODE 77)
endfunction()

# nslab_fuzz_target(NAME SOURCES x_fuzz.cc DEPS lib CORPUS dir) — built only in the clang
# sanitizer tree; ctest runs it over its corpus plus a bounded random search.
set(NSLAB_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target searches during ctest")
function(nslab_fuzz_target name)
  if(NOT NSLAB_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  nslab_executable(${name} SOURCES ${ARG_SOURCES} DEPS ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
  add_test(NAME fuzz.${name}
           COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                   $<TARGET_FILE:${name}> -max_total_time=${NSLAB_FUZZ_SECONDS} -rss_limit_mb=2048
                   -print_final_stats=1 ${work} ${ARG_CORPUS})
  file(MAKE_DIRECTORY ${work})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endfunction()
