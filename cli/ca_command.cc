#include "cli/ca_command.h"

#include <iostream>
#include <memory>

#include "ca/certificate_der.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::AdminService;

// Key generation and signing in the HSM, and adopting the CA (first CRLs, OCSP
// signer).
constexpr absl::Duration kTimeout = absl::Seconds(60);

struct RotateOptions {
  std::string deployment;
};

nlohmann::json CaJson(const keyline::v1::CertificateAuthority& ca) {
  return {{"id", ca.id()},
          {"name", ca.name()},
          {"deployment", ca.deployment()},
          {"status", ca.status()},
          {"key_label", ca.key_label()},
          {"not_before", TimestampJson(ca.not_before())},
          {"not_after", TimestampJson(ca.not_after())},
          {"certificate", CertificateSummaryJson(SummarizeCertificate(ca.certificate()))},
          {"certificate_pem", ca::DerToPem(ca.certificate())}};
}

int RunRotate(const GlobalOptions& globals, const RotateOptions& options) {
  const OutputFormat format = globals.format();
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  keyline::v1::RotateDeploymentCaRequest request;
  request.set_deployment(options.deployment);
  keyline::v1::RotateDeploymentCaResponse response;
  auto context = ContextWithDeadline(kTimeout);
  const grpc::Status status =
      AdminService::NewStub(*channel)->RotateDeploymentCa(context.get(), request, &response);
  if (!status.ok()) return ReportError(status, format);
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"active", CaJson(response.active())},
                                {"retired", CaJson(response.retired())}}
                     .dump(2)
              << "\n";
    return 0;
  }
  const CertificateSummary active = SummarizeCertificate(response.active().certificate());
  std::cout << "rotated deployment " << options.deployment << ": new devices and renewals get "
            << response.active().name() << "; " << response.retired().name()
            << " is retired and keeps signing CRLs and OCSP for its certificates\n";
  PrintTable(
      std::cout,
      {{"", "ACTIVE", "RETIRED"},
       {"name:", response.active().name(), response.retired().name()},
       {"key label:", response.active().key_label(), response.retired().key_label()},
       {"valid until:", TimestampText(response.active().not_after()),
        TimestampText(response.retired().not_after())},
       {"subject:", active.subject, SummarizeCertificate(response.retired().certificate()).subject},
       {"sha256:", active.sha256, SummarizeCertificate(response.retired().certificate()).sha256}});
  return 0;
}

}  // namespace

void AddCaCommands(CLI::App& app, Invocation& invocation) {
  auto* group = app.add_subcommand("ca", "Keyline's certificate authorities");
  group->require_subcommand(1);
  auto rotate = std::make_shared<RotateOptions>();
  auto* rotate_command =
      group->add_subcommand("rotate",
                            "a new deployment CA (key in the HSM); the old one is retired "
                            "and keeps signing CRLs and "
                            "OCSP for its certificates until they expire");
  rotate_command->add_option("--deployment", rotate->deployment, "deployment name")->required();
  OnRun(rotate_command, invocation,
        [&invocation, rotate] { return RunRotate(invocation.globals, *rotate); });
}

}  // namespace keyline::cli
