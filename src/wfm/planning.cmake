# Planning (issue #5, "Intraday" and the planning page): the wfm commands on the ledger, their
# projections, intraday, and the computations behind the wfm API routes.
target_sources(opsbox_wfm PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/planning.cpp
  ${CMAKE_CURRENT_LIST_DIR}/planning_compute.cpp
  ${CMAKE_CURRENT_LIST_DIR}/planning_intraday.cpp)
target_link_libraries(opsbox_wfm PUBLIC opsbox_ledger opsbox_store opsbox_integrations)

opsbox_test(wfm_planning_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/planning_test.cpp LIBS opsbox_wfm)
opsbox_dbtest(wfm_planning_dbtest SOURCES ${CMAKE_CURRENT_LIST_DIR}/planning_dbtest.cpp
  LIBS opsbox_wfm)
