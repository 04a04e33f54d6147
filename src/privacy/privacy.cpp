// Data protection (issue #3): see keyring.hpp and governance.hpp.
namespace opsbox::privacy {}
