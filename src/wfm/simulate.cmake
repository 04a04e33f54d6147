# Queue simulation (issue #5, "Simulation"): simulate.hpp.
target_sources(opsbox_wfm PRIVATE ${CMAKE_CURRENT_LIST_DIR}/simulate.cpp)
target_link_libraries(opsbox_wfm PRIVATE Boost::headers)
opsbox_test(wfm_simulate_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/simulate_test.cpp
  LIBS opsbox_wfm)
