# Intent classification benchmark (issue #12): accuracy, coverage curve and throughput of
# intents::Model beside LIBLINEAR alone and fastText alone, run by bench/intents/run.sh.
if(TARGET opsbox_intents)
  pkg_check_modules(FASTTEXT IMPORTED_TARGET fasttext)
  if(FASTTEXT_FOUND)
    add_executable(intents_bench ${CMAKE_CURRENT_LIST_DIR}/intents_bench.cpp)
    target_link_libraries(intents_bench PRIVATE opsbox_intents opsbox_core ${LIBLINEAR_LIBRARY}
      PkgConfig::FASTTEXT)
    target_include_directories(intents_bench SYSTEM PRIVATE ${LIBLINEAR_INCLUDE_DIR})
    opsbox_warnings(intents_bench)
  endif()
endif()
