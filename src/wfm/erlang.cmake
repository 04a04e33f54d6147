# Erlang C / Erlang A queue figures and the staffing solver (issue #5, "Staffing").
target_sources(opsbox_wfm PRIVATE ${CMAKE_CURRENT_LIST_DIR}/erlang.cpp)
opsbox_test(wfm_erlang_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/erlang_test.cpp LIBS opsbox_wfm)
