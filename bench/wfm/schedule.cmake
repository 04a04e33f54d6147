# Shift scheduling benchmark (issue #5): a realistic week solved by CBC, beside the LP relaxation
# and GLPK's glpsol on the same model; run by bench/wfm/schedule.sh.
add_executable(wfm_schedule_bench ${CMAKE_CURRENT_LIST_DIR}/schedule_bench.cpp)
target_link_libraries(wfm_schedule_bench PRIVATE opsbox_wfm)
opsbox_warnings(wfm_schedule_bench)
