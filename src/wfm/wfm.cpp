// Workforce management: see erlang.hpp, forecast.hpp, schedule.hpp and simulate.hpp.
namespace opsbox::wfm {}
