#include "cli/operator_command.h"

#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ca/operator_identity.h"
#include "ca/software_key.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

// "factory" -> ROLE_FACTORY, by the enum's own names.
keyline::v1::Role ToProto(ca::OperatorRole role) {
  keyline::v1::Role value = keyline::v1::ROLE_UNSPECIFIED;
  keyline::v1::Role_Parse(absl::AsciiStrToUpper(absl::StrCat(
                              "role_", AsAbsl(ca::OperatorRoleName(role)))),
                          &value);
  return value;
}

// The CSR to send: read from --csr, or made for a fresh key written to --out-key.
absl::StatusOr<std::string> ObtainCsr(const OperatorIssueOptions& options) {
  if (options.csr_file.empty() == options.out_key.empty()) {
    return absl::InvalidArgumentError("give exactly one of --csr FILE and --out-key FILE");
  }
  if (!options.csr_file.empty()) return ReadFile(options.csr_file, 1 << 20);
  if (FileExists(options.out_key)) {
    return absl::AlreadyExistsError(
        absl::StrCat("--out-key: ", options.out_key, " exists; refusing to overwrite a key"));
  }
  auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
  if (!key.ok()) return key.status();
  auto pem = ca::PrivateKeyToPem(key->get());
  if (!pem.ok()) return pem.status();
  if (auto status = WriteFileAtomically(options.out_key, *pem, 0600); !status.ok()) return status;
  return ca::CreateCsr(key->get(), options.name);
}

}  // namespace

int RunOperatorIssue(const ConnectionOptions& connection, OutputFormat format,
                     const OperatorIssueOptions& options) {
  auto role = ca::ParseOperatorRole(options.role);
  if (!role.ok()) return ReportError(role.status(), format);
  auto csr = ObtainCsr(options);
  if (!csr.ok()) return ReportError(csr.status(), format);
  auto channel = Connect(connection);
  if (!channel.ok()) return ReportError(channel.status(), format);

  keyline::v1::IssueOperatorCertificateRequest request;
  request.set_role(ToProto(*role));
  request.set_name(options.name);
  request.set_csr(*csr);
  keyline::v1::IssueOperatorCertificateResponse response;
  auto context = ContextWithDeadline(absl::Seconds(30));
  const grpc::Status status = keyline::v1::AdminService::NewStub(*channel)
                                  ->IssueOperatorCertificate(context.get(), request, &response);
  if (!status.ok()) return ReportError(status, format);

  const auto& issued = response.certificate();
  const std::string chain_pem = CertificateChainPem(issued);
  if (!options.out_cert.empty()) {
    if (auto written = WriteFileAtomically(options.out_cert, chain_pem, 0644); !written.ok()) {
      return ReportError(written, format);
    }
  }
  if (format == OutputFormat::kJson) {
    nlohmann::json result = IssuedCertificateJson(issued);
    result["role"] = options.role;
    result["name"] = options.name;
    result["uri"] = ca::OperatorUri(*role, options.name);
    if (!options.out_cert.empty()) result["certificate_file"] = options.out_cert;
    if (!options.out_key.empty()) result["key_file"] = options.out_key;
    std::cout << result.dump(2) << "\n";
  } else {
    if (options.out_cert.empty()) std::cout << chain_pem;
    std::cerr << "issued " << ca::OperatorUri(*role, options.name) << " serial " << issued.serial()
              << (options.out_cert.empty() ? "" : " -> " + options.out_cert) << "\n";
  }
  return 0;
}

void AddOperatorCommands(CLI::App& app, Invocation& invocation) {
  auto* group = app.add_subcommand("operator", "operator certificates");
  group->require_subcommand(1);
  auto issue = std::make_shared<OperatorIssueOptions>();
  auto* issue_command =
      group->add_subcommand("issue", "issue an operator certificate (admin role)");
  issue_command->add_option("--role", issue->role, "admin, factory or gateway")->required();
  issue_command->add_option("--name", issue->name, "operator name, e.g. line-3")->required();
  issue_command->add_option("--csr", issue->csr_file, "PKCS#10 request (DER or PEM)");
  issue_command->add_option("--out-key", issue->out_key,
                            "generate a P-256 key here (mode 0600) instead of --csr");
  issue_command->add_option("--out-cert", issue->out_cert, "write the PEM chain here");
  OnRun(issue_command, invocation, [&invocation, issue] {
    return RunOperatorIssue(invocation.globals.connection, invocation.globals.format(), *issue);
  });
}

}  // namespace keyline::cli
