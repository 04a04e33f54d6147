# Forecast benchmark (issue #5): 100 queues x 8 weeks of 15-minute history, target <= 1 s;
# run by forecast.sh beside the R reference (r-cran-forecast).
add_executable(wfm_forecast_bench ${CMAKE_CURRENT_LIST_DIR}/forecast_bench.cpp)
target_link_libraries(wfm_forecast_bench PRIVATE opsbox_wfm)
opsbox_warnings(wfm_forecast_bench)
