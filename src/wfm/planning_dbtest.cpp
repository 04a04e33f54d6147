// Goal: placeholder while the planning tests are written.
#include <gtest/gtest.h>
