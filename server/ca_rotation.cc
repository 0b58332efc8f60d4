#include "server/ca_rotation.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "server/ca_hierarchy.h"

namespace keyline::server {

absl::StatusOr<RotatedCa> RotateDeploymentCa(const Config& config, hsm::Token& token,
                                             const ca::IssuingCa& root,
                                             store::CaRepository& repository,
                                             std::string_view deployment,
                                             const std::string& actor) {
  KEYLINE_ASSIGN_OR_RETURN(const std::vector<store::CaRecord> records, repository.List());
  const store::CaRecord* active = nullptr;
  const store::CaRecord* root_record = nullptr;
  int generations = 0;
  for (const store::CaRecord& record : records) {
    if (record.id == root.id()) root_record = &record;
    if (record.kind != "deployment" || record.deployment != deployment) continue;
    ++generations;
    if (record.status == "active") active = &record;
  }
  if (active == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("deployment: \"", AsAbsl(deployment), "\" has no active CA"));
  }
  if (root_record == nullptr) return absl::FailedPreconditionError("the root CA is not stored");

  const int generation = generations + 1;
  const CaSpec spec{absl::StrCat("deployment/", AsAbsl(deployment), ":", generation),
                    "deployment",
                    ca::Profile::kDeploymentCa,
                    absl::StrCat(AsAbsl(deployment), " G", generation),
                    std::string(deployment),
                    hsm::KeyAlgorithm::kEcdsaP256};
  KEYLINE_ASSIGN_OR_RETURN(NewCa made, MakeCa(config, token, spec, root_record, &root,
                                              /*unique_key_label=*/true));

  store::AuditEvent event;
  event.actor = actor;
  event.action = "ca.rotated";
  event.target = spec.name;
  event.details = {{"deployment", std::string(deployment)},
                   {"retired", active->name},
                   {"key_label", made.record.key_label},
                   {"key_algorithm", made.record.key_algorithm},
                   {"serial", HexEncode(made.serial)},
                   {"not_after", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", made.record.not_after,
                                                  absl::UTCTimeZone())}};
  KEYLINE_ASSIGN_OR_RETURN(made.record.id, repository.Rotate(made.record, active->id, event));
  RotatedCa rotated{std::move(made.record), *active};
  rotated.retired.status = "retired";
  LogEvent(spdlog::level::info, "ca.rotated",
           {{"deployment", std::string(deployment)},
            {"ca", rotated.active.name},
            {"retired", rotated.retired.name},
            {"key_label", rotated.active.key_label},
            {"serial", HexEncode(made.serial)}});
  return rotated;
}

}  // namespace keyline::server
