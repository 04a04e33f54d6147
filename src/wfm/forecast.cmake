# Forecasting (issues #5, #15): history import, seasonal naive, Holt-Winters, MSTL + ETS, auto
# selection by cross-validation.
target_sources(opsbox_wfm PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/forecast.cpp
  ${CMAKE_CURRENT_LIST_DIR}/forecast_models.cpp
  ${CMAKE_CURRENT_LIST_DIR}/history.cpp)

# The bank data (tests/data/callcenter, copied with its README from the shared data sets).
opsbox_test(wfm_forecast_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/forecast_test.cpp LIBS opsbox_wfm)
target_compile_definitions(wfm_forecast_test PRIVATE
  OPSBOX_CALLCENTER_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data/callcenter")
opsbox_test(wfm_forecast_models_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/forecast_models_test.cpp
            LIBS opsbox_wfm)
