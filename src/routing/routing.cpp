// Routing (issue #4): see engine.hpp, expression.hpp and service.hpp.
namespace opsbox::routing {}
