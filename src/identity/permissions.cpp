// The permission matrix: the one table that says which role holds which permission.
#include <algorithm>
#include <array>
#include <bitset>
#include <initializer_list>
#include <string_view>
#include <unordered_map>

#include "core/assert.hpp"
#include "identity/identity.hpp"

namespace opsbox::identity {
namespace {

constexpr std::array<std::string_view, 10> kRoles = {"agent",
                                                     "team_lead",
                                                     "supervisor",
                                                     "qa_analyst",
                                                     "collections_manager",
                                                     "compliance_officer",
                                                     "wfm_planner",
                                                     "admin",
                                                     "auditor",
                                                     "integration"};

struct PermissionRow {
  std::string_view permission;
  std::initializer_list<std::string_view> roles;
};

// Admin holds everything; auditor every *.read plus ledger.verify and nothing that writes;
// integration what a connected system needs to push events and follow the ledger.
const PermissionRow kMatrix[] = {
    {"tenant.read",
     {"agent", "team_lead", "supervisor", "qa_analyst", "collections_manager", "compliance_officer",
      "wfm_planner", "admin", "auditor"}},
    {"tenant.admin", {"admin"}},
    {"users.read",
     {"team_lead", "supervisor", "qa_analyst", "collections_manager", "compliance_officer",
      "wfm_planner", "admin", "auditor"}},
    {"users.manage", {"admin"}},
    {"api_keys.manage", {"admin"}},
    {"ledger.read",
     {"team_lead", "supervisor", "qa_analyst", "compliance_officer", "admin", "auditor",
      "integration"}},
    {"ledger.verify", {"compliance_officer", "admin", "auditor"}},
    {"external_events.write", {"admin", "integration"}},
    {"external_events.read",
     {"team_lead", "supervisor", "qa_analyst", "collections_manager", "compliance_officer",
      "wfm_planner", "admin", "auditor", "integration"}},
    {"webhooks.manage", {"admin"}},
    {"webhooks.read", {"supervisor", "compliance_officer", "admin", "auditor", "integration"}},
    {"metrics.read",
     {"team_lead", "supervisor", "collections_manager", "compliance_officer", "wfm_planner",
      "admin", "auditor"}},
    {"wfm.read",
     {"team_lead", "supervisor", "compliance_officer", "wfm_planner", "admin", "auditor"}},
    {"wfm.plan", {"wfm_planner", "admin"}},
    // Data protection (issue #3).
    {"pii.unmask", {"team_lead", "supervisor", "collections_manager", "compliance_officer"}},
    {"privacy.break_glass", {"team_lead", "supervisor", "collections_manager", "compliance_officer"}},
    {"privacy.review", {"compliance_officer"}},
    {"privacy.erase", {"compliance_officer", "admin"}},
    {"privacy.read", {"compliance_officer", "admin", "auditor"}},
    {"privacy.keys", {"admin"}},
    {"consent.read",
     {"agent", "team_lead", "supervisor", "collections_manager", "compliance_officer", "admin",
      "auditor", "integration"}},
    {"consent.write",
     {"agent", "team_lead", "supervisor", "collections_manager", "compliance_officer", "admin",
      "integration"}},
    {"retention.manage", {"compliance_officer", "admin"}},
    // Intent classification (issue #12): agents, bots and IVR (integration) classify text.
    {"intents.classify", {"agent", "team_lead", "supervisor", "admin", "integration"}},
    // The automation boundary (issue #12): bots, IVR and voice AI (integration) push sessions;
    // compliance declares the boundary policy; agents read and review handoff packets.
    {"automation.read",
     {"agent", "team_lead", "supervisor", "qa_analyst", "compliance_officer", "admin", "auditor"}},
    {"automation.manage", {"compliance_officer", "admin"}},
    {"automation.write", {"admin", "integration"}},
    {"automation.review", {"agent", "team_lead", "supervisor"}},
    // Intake (issue #4).
    {"customers.read",
     {"agent", "team_lead", "supervisor", "qa_analyst", "collections_manager",
      "compliance_officer", "admin", "auditor", "integration"}},
    {"customers.write", {"agent", "team_lead", "supervisor", "admin", "integration"}},
    {"conversations.read",
     {"agent", "team_lead", "supervisor", "qa_analyst", "collections_manager",
      "compliance_officer", "admin", "auditor", "integration"}},
    {"conversations.reply", {"agent", "team_lead", "supervisor", "collections_manager"}},
    // Issue #14: sending a failed reply again — agents on their own tasks' conversations
    // (checked by the route), leads and supervisors on any.
    {"conversations.retry", {"agent", "team_lead", "supervisor"}},
    {"conversations.retry_any", {"team_lead", "supervisor"}},
    {"channels.manage", {"admin"}},
    {"intake.write", {"admin", "integration"}},
    // Routing (issue #4).
    {"routing.work", {"agent", "team_lead", "supervisor", "collections_manager"}},
    {"routing.read",
     {"team_lead", "supervisor", "wfm_planner", "compliance_officer", "admin", "auditor"}},
    {"routing.manage", {"supervisor", "admin"}},
    {"tasks.write", {"agent", "team_lead", "supervisor", "admin", "integration"}},
    // Cases and complaints (issue #19). Moving a case along is agents' and leads' work (like
    // routing.work, admins do not hold it); closing and reopening need a lead.
    {"cases.read",
     {"agent", "team_lead", "supervisor", "qa_analyst", "collections_manager",
      "compliance_officer", "admin", "auditor", "integration"}},
    {"cases.write",
     {"agent", "team_lead", "supervisor", "collections_manager", "admin", "integration"}},
    {"cases.work", {"agent", "team_lead", "supervisor", "collections_manager"}},
    {"cases.close", {"team_lead", "supervisor"}},
    {"cases.reopen", {"team_lead", "supervisor"}},
    {"cases.manage", {"supervisor", "admin"}},
    // Maker-checker approvals (issue #19): who may ask and who may check (the amount limits per
    // role are the approval policy's, src/approvals).
    {"approvals.request",
     {"agent", "team_lead", "supervisor", "collections_manager", "admin"}},
    {"approvals.check", {"supervisor", "admin"}},
    {"approvals.read",
     {"agent", "team_lead", "supervisor", "collections_manager", "compliance_officer", "admin",
      "auditor"}},
    // Collections (issue #11): reading imported accounts, checks and the worklist; recording
    // contact attempts (agents and the dialer, an integration), which is agent work.
    {"collections.read",
     {"agent", "team_lead", "supervisor", "collections_manager", "compliance_officer", "admin",
      "auditor", "integration"}},
    {"collections.contact",
     {"agent", "team_lead", "supervisor", "collections_manager", "integration"}},
    // KPIs (issue #13): leads, supervisors, QA, compliance and planners read the figures;
    // rebuilding the aggregates from the ledger is an administrator's repair.
    {"kpis.read",
     {"team_lead", "supervisor", "qa_analyst", "collections_manager", "compliance_officer",
      "wfm_planner", "admin", "auditor"}},
    {"kpis.rebuild", {"admin"}},
    // Client contracts and invoices (issue #13): the BPO's commercial terms with the tenant.
    {"billing.read", {"supervisor", "compliance_officer", "admin", "auditor"}},
    {"billing.manage", {"admin"}},
};

constexpr size_t kPermissionsMax = 64;

// Role and permission names mapped to indexes, and one bit set per role, so RoleAllows is two
// hash lookups (it runs for every request).
struct Matrix {
  std::vector<std::string> roles;
  std::vector<std::string> permissions;
  std::unordered_map<std::string_view, size_t> role_index;
  std::unordered_map<std::string_view, size_t> permission_index;
  std::vector<std::bitset<kPermissionsMax>> allowed;  // by role index

  Matrix() {
    roles.assign(kRoles.begin(), kRoles.end());
    for (size_t i = 0; i < kRoles.size(); ++i) role_index.emplace(kRoles[i], i);
    allowed.resize(kRoles.size());
    OPSBOX_ASSERT(std::size(kMatrix) <= kPermissionsMax);
    for (const auto& row : kMatrix) {
      const size_t p = permissions.size();
      permissions.emplace_back(row.permission);
      OPSBOX_ASSERT_MSG(permission_index.emplace(row.permission, p).second,
                        "permission listed twice");
      for (auto role : row.roles) {
        auto it = role_index.find(role);
        OPSBOX_ASSERT_MSG(it != role_index.end(), "permission matrix names an unknown role");
        allowed[it->second].set(p);
      }
    }
  }
};

const Matrix& GetMatrix() {
  static const Matrix kInstance;
  return kInstance;
}

}  // namespace

const std::vector<std::string>& AllRoles() { return GetMatrix().roles; }
const std::vector<std::string>& AllPermissions() { return GetMatrix().permissions; }

bool IsRole(std::string_view role) { return GetMatrix().role_index.contains(role); }

bool IsPermission(std::string_view permission) {
  return GetMatrix().permission_index.contains(permission);
}

bool RoleAllows(std::string_view role, std::string_view permission) {
  const Matrix& m = GetMatrix();
  auto r = m.role_index.find(role);
  if (r == m.role_index.end()) return false;
  auto p = m.permission_index.find(permission);
  if (p == m.permission_index.end()) return false;
  return m.allowed[r->second].test(p->second);
}

bool Principal::Allows(std::string_view permission) const {
  return std::any_of(roles.begin(), roles.end(),
                     [&](const std::string& role) { return RoleAllows(role, permission); });
}

}  // namespace opsbox::identity
