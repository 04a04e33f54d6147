// TenantModels (intents.hpp): the per-tenant models the server loads at start-up.
#include "intents/intents.hpp"

namespace opsbox::intents {
namespace {

constexpr std::string_view kDefaultKey = "intents.model_path";
constexpr std::string_view kTenantKey = "intents.tenant_model_paths";

Result<std::shared_ptr<const Model>> LoadShared(const std::string& path, std::string_view key) {
  auto m = Model::Load(path);
  if (!m.ok()) {
    Error e = std::move(m).error();
    e.message = std::string(key) + ": " + e.message;
    e.field = std::string(key);
    return e;
  }
  return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(m).value()));
}

}  // namespace

Status CheckTenantModelPath(std::string_view entry, std::string_view key) {
  const auto eq = entry.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == entry.size()) {
    return Error::Invalid(std::string(key), "format",
                          std::string(key) + ": \"" + std::string(entry.substr(0, 200)) +
                              "\" must be tenant=path");
  }
  return Ok();
}

Result<TenantModels> TenantModels::Load(const std::string& default_path,
                                        const std::vector<std::string>& tenant_paths) {
  TenantModels out;
  if (!default_path.empty()) {
    OPSBOX_ASSIGN_OR_RETURN(out.default_, LoadShared(default_path, kDefaultKey));
  }
  for (const auto& entry : tenant_paths) {
    OPSBOX_TRY(CheckTenantModelPath(entry, kTenantKey));
    const auto eq = entry.find('=');
    const std::string tenant = entry.substr(0, eq);
    if (out.by_tenant_.count(tenant) != 0) {
      return Error::Invalid(std::string(kTenantKey), "duplicate",
                            std::string(kTenantKey) + ": tenant " + tenant + " is named twice");
    }
    OPSBOX_ASSIGN_OR_RETURN(auto model, LoadShared(entry.substr(eq + 1), kTenantKey));
    out.by_tenant_.emplace(tenant, std::move(model));
  }
  return out;
}

const Model* TenantModels::For(std::string_view tenant) const {
  if (auto it = by_tenant_.find(tenant); it != by_tenant_.end()) return it->second.get();
  return default_.get();
}

}  // namespace opsbox::intents
