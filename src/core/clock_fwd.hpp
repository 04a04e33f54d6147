// Forward declarations for headers that only pass clocks and random sources around.
#pragma once

namespace opsbox {
class Clock;
class Random;
}  // namespace opsbox
