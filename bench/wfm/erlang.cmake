# Erlang C staffing benchmark (issue #5): 96 intervals x 100 queues, target <= 20 ms; run by
# bench/wfm/erlang.sh.
add_executable(wfm_erlang_bench ${CMAKE_CURRENT_LIST_DIR}/erlang_bench.cpp)
target_link_libraries(wfm_erlang_bench PRIVATE opsbox_wfm)
opsbox_warnings(wfm_erlang_bench)
