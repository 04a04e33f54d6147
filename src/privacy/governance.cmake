# Privacy governance (part C): masking, unmasking, break-glass, consent, retention, reports.
target_sources(opsbox_privacy PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/masking.cpp
  ${CMAKE_CURRENT_LIST_DIR}/governance.cpp
  ${CMAKE_CURRENT_LIST_DIR}/consent.cpp
  ${CMAKE_CURRENT_LIST_DIR}/retention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reports.cpp)
target_link_libraries(opsbox_privacy PRIVATE spdlog::spdlog)

opsbox_test(privacy_masking_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/masking_test.cpp
  LIBS opsbox_privacy)
opsbox_dbtest(privacy_governance_dbtest SOURCES ${CMAKE_CURRENT_LIST_DIR}/governance_dbtest.cpp
  LIBS opsbox_privacy)
