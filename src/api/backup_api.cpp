// Route of scheduled backups (issue #18): their state for the administrator's home page, which
// shows an alert unless the state is "ok" (docs/operations.md).
#include <nlohmann/json.hpp>

#include "api/common.hpp"

namespace opsbox::api::detail {

void AddBackupRoutes(Router& router, const ApiDeps& deps) {
  AddAuthed(router, deps, "GET", "/api/v1/tenants/{tenant}/system/backups", "tenant.admin",
            "State of the server's scheduled backups (for the administrator's home page alert)",
            [&deps](HttpRequest& req, const identity::Principal&, Respond respond) {
              if (!deps.backup_status) {
                return respond(Problem(Error::Unavailable("scheduled backups are not running in "
                                                          "this process"),
                                       req.path));
              }
              respond(Ok(deps.backup_status()));
            });
}

}  // namespace opsbox::api::detail
