#include "server/ca_hierarchy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/profiles.h"
#include "ca/serial_number.h"
#include "common/hex.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "server/hsm_setup.h"

namespace keyline::server {
namespace {

std::string KeyLabel(const std::string& ca_name) {
  return absl::StrCat("keyline-ca-", absl::StrReplaceAll(ca_name, {{"/", "-"}}));
}

}  // namespace

absl::StatusOr<NewCa> MakeCa(const Config& config, hsm::Token& token, const CaSpec& spec,
                             const store::CaRecord* parent_record, const ca::IssuingCa* parent,
                             bool unique_key_label) {
  std::string label = KeyLabel(spec.name);
  if (unique_key_label) {
    KEYLINE_ASSIGN_OR_RETURN(label, UniqueKeyLabel(label));
  }
  KEYLINE_ASSIGN_OR_RETURN(auto key, FindOrGenerateKey(token, label, spec.algorithm));
  KEYLINE_ASSIGN_OR_RETURN(std::string serial, ca::GenerateSerial());
  KEYLINE_ASSIGN_OR_RETURN(const ca::PublicKeyInfo public_key,
                           ca::PublicKeyInfo::FromKey(key->public_key()));
  const ca::IssueContext context{config.profiles, &public_key, serial, absl::Now(),
                                 parent ? parent->name() : ""};
  ca::BuiltCertificate built;
  if (parent == nullptr) {
    KEYLINE_ASSIGN_OR_RETURN(built,
                             ca::BuildCertificate(ca::RootTemplate(context), nullptr, *key));
  } else {
    KEYLINE_ASSIGN_OR_RETURN(
        built, parent->Issue(ca::IntermediateCaTemplate(context, spec.profile, spec.label)));
  }
  const std::string& der = built.der;
  KEYLINE_ASSIGN_OR_RETURN(auto certificate, ca::ParseCertificateDer(der));

  store::CaRecord record;
  record.name = spec.name;
  record.kind = spec.kind;
  record.deployment = spec.deployment;
  if (parent_record != nullptr) record.parent_id = parent_record->id;
  record.key_label = label;
  record.key_algorithm = std::string(hsm::KeyAlgorithmName(spec.algorithm));
  record.certificate_der = der;
  record.subject_key_id = ca::SubjectKeyIdOf(certificate.get());
  record.not_before = ca::NotBeforeOf(certificate.get());
  record.not_after = ca::NotAfterOf(certificate.get());
  return NewCa{std::move(record), std::move(serial)};
}

namespace {

// Creates one CA at init. `parent` is null for the root.
absl::Status CreateCa(const Config& config, hsm::Token& token, store::CaRepository& repository,
                      const CaSpec& spec, const store::CaRecord* parent_record,
                      const ca::IssuingCa* parent) {
  KEYLINE_ASSIGN_OR_RETURN(NewCa made, MakeCa(config, token, spec, parent_record, parent));
  const store::CaRecord& record = made.record;
  const std::string& label = record.key_label;
  const std::string& serial = made.serial;
  store::AuditEvent event;
  event.actor = "system:init";
  event.action = "ca.created";
  event.target = spec.name;
  event.details = {{"kind", spec.kind},
                   {"key_label", label},
                   {"key_algorithm", record.key_algorithm},
                   {"serial", HexEncode(serial)},
                   {"not_after", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", record.not_after,
                                                  absl::UTCTimeZone())}};
  KEYLINE_RETURN_IF_ERROR(repository.Insert(record, event).status());
  LogEvent(spdlog::level::info, "ca.created",
           {{"ca", spec.name}, {"key_label", label}, {"serial", HexEncode(serial)}});
  return absl::OkStatus();
}

std::vector<CaSpec> IntermediateSpecs(const Config& config) {
  std::vector<CaSpec> specs;
  specs.push_back({"operators", "operator", ca::Profile::kOperatorCa, "", std::nullopt,
                   hsm::KeyAlgorithm::kEcdsaP256});
  for (const auto& deployment : config.ca.deployments) {
    specs.push_back({"deployment/" + deployment, "deployment", ca::Profile::kDeploymentCa,
                     deployment, deployment, hsm::KeyAlgorithm::kEcdsaP256});
  }
  for (const auto& manufacturer : config.ca.manufacturers) {
    specs.push_back({"manufacturer/" + manufacturer, "manufacturer", ca::Profile::kManufacturerCa,
                     manufacturer, std::nullopt, hsm::KeyAlgorithm::kEcdsaP256});
  }
  return specs;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ca::IssuingCa>> LoadCa(
    hsm::Token& token, const store::CaRecord& record,
    const std::map<int32_t, store::CaRecord>& by_id) {
  std::vector<std::string> chain = {record.certificate_der};
  std::optional<int32_t> parent = record.parent_id;
  while (parent) {
    auto it = by_id.find(*parent);
    if (it == by_id.end() || chain.size() > 8) {
      return absl::FailedPreconditionError(absl::StrCat(record.name, ": broken CA chain"));
    }
    chain.push_back(it->second.certificate_der);
    parent = it->second.parent_id;
  }
  auto key = FindServiceKey(token, record.key_label);
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        record.name, ": key ", record.key_label, " not usable on the token: ",
        key.status().message()));
  }
  return ca::IssuingCa::Create(record.name, record.id, std::move(chain), *std::move(key));
}

absl::Status EnsureCaHierarchy(const Config& config, hsm::Token& token,
                               store::CaRepository& repository) {
  const CaSpec root_spec{"root", "root", ca::Profile::kRoot, "", std::nullopt,
                         hsm::KeyAlgorithm::kEcdsaP384};
  auto root_record = repository.FindByName("root");
  if (absl::IsNotFound(root_record.status())) {
    KEYLINE_RETURN_IF_ERROR(CreateCa(config, token, repository, root_spec, nullptr, nullptr));
    root_record = repository.FindByName("root");
  }
  if (!root_record.ok()) return root_record.status();
  KEYLINE_ASSIGN_OR_RETURN(auto root_key, FindServiceKey(token, root_record->key_label));
  KEYLINE_ASSIGN_OR_RETURN(auto root, ca::IssuingCa::Create("root", root_record->id,
                                                            {root_record->certificate_der},
                                                            std::move(root_key)));
  for (const auto& spec : IntermediateSpecs(config)) {
    auto existing = repository.FindByName(spec.name);
    if (existing.ok()) continue;
    if (!absl::IsNotFound(existing.status())) return existing.status();
    KEYLINE_RETURN_IF_ERROR(CreateCa(config, token, repository, spec, &*root_record, root.get()));
  }
  return absl::OkStatus();
}

bool IsLoadedCa(const store::CaRecord& record, absl::Time now) {
  return record.status == "active" || (record.status == "retired" && record.not_after > now);
}

std::vector<const ca::IssuingCa*> CaSet::All() const {
  std::vector<const ca::IssuingCa*> all = {root.get(), operator_ca.get()};
  for (const auto& [name, issuing_ca] : deployments) all.push_back(issuing_ca.get());
  for (const auto& [name, issuing_ca] : manufacturers) all.push_back(issuing_ca.get());
  for (const auto& [deployment, issuing_ca] : retired) all.push_back(issuing_ca.get());
  return all;
}

absl::StatusOr<CaSet> LoadCaSet(hsm::Token& token, store::CaRepository& repository) {
  KEYLINE_ASSIGN_OR_RETURN(const std::vector<store::CaRecord> records, repository.List());
  std::map<int32_t, store::CaRecord> by_id;
  for (const auto& record : records) by_id.emplace(record.id, record);

  CaSet set;
  const absl::Time now = absl::Now();
  for (const auto& record : records) {
    if (!IsLoadedCa(record, now)) continue;
    KEYLINE_ASSIGN_OR_RETURN(auto issuing_ca, LoadCa(token, record, by_id));
    if (record.status == "retired") {
      set.retired.push_back({record.deployment.value_or(""), std::move(issuing_ca)});
    } else if (record.kind == "root") {
      set.root = std::move(issuing_ca);
    } else if (record.kind == "operator") {
      set.operator_ca = std::move(issuing_ca);
    } else if (record.kind == "deployment" && record.deployment) {
      set.deployments[*record.deployment] = std::move(issuing_ca);
    } else if (record.kind == "manufacturer") {
      set.manufacturers[record.name.substr(record.name.find('/') + 1)] = std::move(issuing_ca);
    }
  }
  if (!set.root || !set.operator_ca) {
    return absl::FailedPreconditionError(
        "the CA hierarchy is not initialised: run `keyline-server init`");
  }
  return set;
}

}  // namespace keyline::server
