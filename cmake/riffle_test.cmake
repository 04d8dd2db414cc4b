# riffle_test(foo_test.cc [NO_TSAN] DEPS lib...): one gtest binary per file, each case its own
# ctest test. NO_TSAN: the test's threads are ordered by gRPC, which the TSan build cannot see
# (Debian's gRPC is not instrumented; see scripts/tsan.supp), so that build skips it.
function(riffle_test source)
  cmake_parse_arguments(ARG "NO_TSAN" "" "DEPS" ${ARGN})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  set(properties TIMEOUT 120)
  if(ARG_NO_TSAN)
    list(APPEND properties LABELS no_tsan)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
  # tests/ uses riffle_test() for integration tests against riffled; they are not unit tests.
  string(FIND "${CMAKE_CURRENT_SOURCE_DIR}/" "${PROJECT_SOURCE_DIR}/tests/" in_tests)
  if(NOT in_tests EQUAL 0)
    set_property(GLOBAL APPEND PROPERTY RIFFLE_UNIT_TEST_TARGETS ${name})
  endif()
endfunction()
