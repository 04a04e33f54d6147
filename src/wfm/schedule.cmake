# Shift scheduling and rostering (issue #5, "Scheduling"): a MIP solved with COIN-OR CBC.
pkg_check_modules(CBC REQUIRED IMPORTED_TARGET cbc)
target_sources(opsbox_wfm PRIVATE ${CMAKE_CURRENT_LIST_DIR}/schedule.cpp)
target_link_libraries(opsbox_wfm PRIVATE PkgConfig::CBC)
opsbox_test(wfm_schedule_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/schedule_test.cpp
  LIBS opsbox_wfm)
