# Queue simulation benchmark (issue #5): 1,000,000 calls, target <= 2 s; run by simulate.sh.
add_executable(wfm_simulate_bench ${CMAKE_CURRENT_LIST_DIR}/simulate_bench.cpp)
target_link_libraries(wfm_simulate_bench PRIVATE opsbox_wfm)
opsbox_warnings(wfm_simulate_bench)
