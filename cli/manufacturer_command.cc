#include "cli/manufacturer_command.h"

#include <iostream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::AdminService;

constexpr absl::Duration kTimeout = absl::Seconds(30);
constexpr size_t kMaxTrustAnchorBytes = 64 << 10;

struct AddOptions {
  std::string name;
  std::string trust_anchor_file;
};

struct RevokeOptions {
  std::string name;
  std::string reason;
  bool dry_run = false;
};

// One DER certificate from a PEM (exactly one certificate) or DER file.
absl::StatusOr<std::string> ReadTrustAnchor(const std::string& path) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string contents, ReadFile(path, kMaxTrustAnchorBytes));
  if (absl::StrContains(contents, "-----BEGIN")) {
    auto chain = ca::PemToDerChain(contents);
    if (!chain.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", chain.status().message()));
    }
    if (chain->size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", chain->size(), " certificates; give the one CA certificate to trust"));
    }
    return chain->front();
  }
  if (auto parsed = ca::ParseCertificateDer(contents); !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": neither a PEM nor a DER certificate"));
  }
  return contents;
}

nlohmann::json ManufacturerJson(const keyline::v1::Manufacturer& manufacturer) {
  return {{"name", manufacturer.name()},
          {"hosted", manufacturer.hosted()},
          {"status", manufacturer.status()},
          {"added_at", TimestampJson(manufacturer.added_at())},
          {"revoked_at", TimestampJson(manufacturer.revoked_at())},
          {"trust_anchor",
           CertificateSummaryJson(SummarizeCertificate(manufacturer.trust_anchor()))}};
}

void PrintManufacturer(const keyline::v1::Manufacturer& manufacturer) {
  const CertificateSummary anchor = SummarizeCertificate(manufacturer.trust_anchor());
  std::vector<std::vector<std::string>> rows = {
      {"name:", manufacturer.name()},
      {"hosted:", manufacturer.hosted() ? "yes (Keyline's CA in the HSM)" : "no (external)"},
      {"status:", manufacturer.status()},
      {"added:", TimestampText(manufacturer.added_at())},
      {"revoked:", TimestampText(manufacturer.revoked_at())},
      {"trust anchor:", anchor.subject},
      {"sha256:", anchor.sha256},
      {"valid until:", TimeText(anchor.not_after)}};
  PrintTable(std::cout, rows);
}

absl::StatusOr<std::vector<keyline::v1::Manufacturer>> ListManufacturers(
    AdminService::Stub& stub) {
  keyline::v1::ListManufacturersResponse response;
  auto context = ContextWithDeadline(kTimeout);
  KEYLINE_RETURN_IF_ERROR(FromGrpc(stub.ListManufacturers(context.get(), {}, &response)));
  return std::vector<keyline::v1::Manufacturer>(response.manufacturers().begin(),
                                                response.manufacturers().end());
}

int RunAdd(const GlobalOptions& globals, const AddOptions& options) {
  const OutputFormat format = globals.format();
  auto anchor = ReadTrustAnchor(options.trust_anchor_file);
  if (!anchor.ok()) return ReportError(anchor.status(), format);
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  keyline::v1::AddManufacturerRequest request;
  request.set_name(options.name);
  request.set_trust_anchor(*anchor);
  keyline::v1::Manufacturer response;
  auto context = ContextWithDeadline(kTimeout);
  const grpc::Status status =
      AdminService::NewStub(*channel)->AddManufacturer(context.get(), request, &response);
  if (!status.ok()) return ReportError(status, format);
  if (format == OutputFormat::kJson) {
    std::cout << ManufacturerJson(response).dump(2) << "\n";
  } else {
    std::cout << "added manufacturer " << response.name()
              << ": attestation chains ending at this CA are now accepted\n";
    PrintManufacturer(response);
  }
  return 0;
}

int RunList(const GlobalOptions& globals) {
  const OutputFormat format = globals.format();
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto manufacturers = ListManufacturers(*AdminService::NewStub(*channel));
  if (!manufacturers.ok()) return ReportError(manufacturers.status(), format);
  if (format == OutputFormat::kJson) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& manufacturer : *manufacturers) list.push_back(ManufacturerJson(manufacturer));
    std::cout << nlohmann::json{{"manufacturers", list}}.dump(2) << "\n";
    return 0;
  }
  if (manufacturers->empty()) {
    std::cout << "no manufacturers\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "HOSTED", "STATUS", "ADDED", "REVOKED", "TRUST ANCHOR"}};
  for (const auto& manufacturer : *manufacturers) {
    rows.push_back({manufacturer.name(), manufacturer.hosted() ? "yes" : "no",
                    manufacturer.status(), TimestampText(manufacturer.added_at()),
                    TimestampText(manufacturer.revoked_at()),
                    SummarizeCertificate(manufacturer.trust_anchor()).subject});
  }
  PrintTable(std::cout, rows);
  return 0;
}

int RunRevoke(const GlobalOptions& globals, const RevokeOptions& options) {
  const OutputFormat format = globals.format();
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = AdminService::NewStub(*channel);

  if (options.dry_run) {
    auto manufacturers = ListManufacturers(*stub);
    if (!manufacturers.ok()) return ReportError(manufacturers.status(), format);
    const keyline::v1::Manufacturer* found = nullptr;
    for (const auto& manufacturer : *manufacturers) {
      if (manufacturer.name() == options.name) found = &manufacturer;
    }
    if (found == nullptr) {
      return ReportError(
          absl::NotFoundError(absl::StrCat("name: unknown manufacturer ", options.name)), format);
    }
    const bool changes = found->status() != "revoked";
    if (format == OutputFormat::kJson) {
      nlohmann::json result = ManufacturerJson(*found);
      result["dry_run"] = true;
      result["would_change"] = changes;
      std::cout << result.dump(2) << "\n";
    } else {
      PrintManufacturer(*found);
      std::cout << (changes ? "dry run: would revoke " + options.name +
                                  "; enrollments with attestation chains ending at it would "
                                  "fail from then on"
                            : "dry run: " + options.name + " is already revoked")
                << "; nothing changed\n";
    }
    return 0;
  }

  keyline::v1::RevokeManufacturerRequest request;
  request.set_name(options.name);
  request.set_reason(options.reason);
  keyline::v1::Manufacturer response;
  auto context = ContextWithDeadline(kTimeout);
  const grpc::Status status = stub->RevokeManufacturer(context.get(), request, &response);
  if (!status.ok()) return ReportError(status, format);
  if (format == OutputFormat::kJson) {
    std::cout << ManufacturerJson(response).dump(2) << "\n";
  } else {
    std::cout << "revoked manufacturer " << response.name() << " at "
              << TimestampText(response.revoked_at()) << "\n";
  }
  return 0;
}

}  // namespace

void AddManufacturerCommands(CLI::App& app, Invocation& invocation) {
  auto* group = app.add_subcommand("manufacturer", "trusted manufacturers (attestation CAs)");
  group->require_subcommand(1);

  auto add = std::make_shared<AddOptions>();
  auto* add_command = group->add_subcommand("add", "trust a manufacturer's attestation CA");
  add_command->add_option("--name", add->name, "manufacturer name, e.g. acme-se")->required();
  add_command->add_option("--trust-anchor", add->trust_anchor_file,
                          "the manufacturer's CA certificate (PEM or DER)")
      ->required();
  OnRun(add_command, invocation, [&invocation, add] { return RunAdd(invocation.globals, *add); });

  auto* list_command = group->add_subcommand("list", "list manufacturers");
  OnRun(list_command, invocation, [&invocation] { return RunList(invocation.globals); });

  auto revoke = std::make_shared<RevokeOptions>();
  auto* revoke_command = group->add_subcommand(
      "revoke", "distrust a manufacturer: enrollments chaining to it fail from then on");
  revoke_command->add_option("--name", revoke->name, "manufacturer name")->required();
  revoke_command->add_option("--reason", revoke->reason,
                             "why, for the audit log (at most 256 characters)");
  revoke_command->add_flag("--dry-run", revoke->dry_run,
                           "show the manufacturer that would be revoked; change nothing");
  OnRun(revoke_command, invocation,
        [&invocation, revoke] { return RunRevoke(invocation.globals, *revoke); });
}

}  // namespace keyline::cli
