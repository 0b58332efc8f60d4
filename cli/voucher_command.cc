#include "cli/voucher_command.h"

#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/batching.h"
#include "cli/serial_list.h"
#include "cli/voucher_bundle_file.h"
#include "common/status_macros.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::AdminService;

constexpr absl::Duration kBatchTimeout = absl::Minutes(5);

struct ExportOptions {
  std::vector<std::string> serials;
  std::string serials_file;
  std::string out;
};

struct ImportOptions {
  std::string in;
  bool dry_run = false;
};

int RunExport(const GlobalOptions& globals, const ExportOptions& options) {
  const OutputFormat format = globals.format();
  auto serials = CollectSerials(options.serials, options.serials_file);
  if (!serials.ok()) return ReportError(serials.status(), format);
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = AdminService::NewStub(*channel);

  keyline::v1::VoucherBundle bundle;
  Progress progress = Progress::OnStderr("exporting", static_cast<int64_t>(serials->size()));
  const absl::Status status = ForEachBatch(
      serials->size(), kMaxDevicesPerCall,
      [&](const BatchRange& batch) {
        keyline::v1::ExportVouchersRequest request;
        for (size_t i = batch.begin; i < batch.end; ++i) request.add_device_serials((*serials)[i]);
        keyline::v1::VoucherBundle part;
        auto context = ContextWithDeadline(kBatchTimeout);
        KEYLINE_RETURN_IF_ERROR(FromGrpc(stub->ExportVouchers(context.get(), request, &part)));
        for (auto& voucher : *part.mutable_vouchers()) {
          *bundle.add_vouchers() = std::move(voucher);
        }
        return absl::OkStatus();
      },
      &progress);
  progress.Finish();
  if (!status.ok()) {
    return ReportError(
        absl::Status(status.code(), absl::StrCat(status.message(), " (nothing written)")), format);
  }
  if (auto written = WriteVoucherBundle(options.out, bundle); !written.ok()) {
    return ReportError(written, format);
  }
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"file", options.out}, {"vouchers", bundle.vouchers_size()}}.dump(2)
              << "\n";
  } else {
    std::cout << "exported " << bundle.vouchers_size() << " vouchers to " << options.out << "\n";
  }
  return 0;
}

int RunImportDryRun(const keyline::v1::VoucherBundle& bundle, const ImportOptions& options,
                    OutputFormat format) {
  const absl::Time now = absl::Now();
  std::map<std::string, int> first_index;  // serial -> first voucher naming it
  std::map<std::string, int> owners;
  int problems = 0;
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {
      {"SERIAL", "OWNER", "MANUFACTURER", "EXPIRES", "SIGNER", "PROBLEM"}};
  for (int i = 0; i < bundle.vouchers_size(); ++i) {
    VoucherSummary summary = DescribeVoucher(bundle.vouchers(i), now);
    if (summary.problem.empty() && !summary.device_serial.empty()) {
      const auto [it, inserted] = first_index.emplace(summary.device_serial, i);
      if (!inserted) summary.problem = absl::StrCat("repeats voucher #", it->second + 1);
    }
    if (!summary.problem.empty()) ++problems;
    if (summary.problem.empty()) ++owners[summary.owner];
    if (format == OutputFormat::kJson) {
      list.push_back({{"serial", summary.device_serial},
                      {"owner", summary.owner},
                      {"manufacturer", summary.manufacturer},
                      {"issued_at", TimeText(summary.issued_at)},
                      {"expires_at", TimeText(summary.expires_at)},
                      {"signer", CertificateSummaryJson(summary.signer)},
                      {"signature_valid", summary.signature_valid},
                      {"problem", summary.problem.empty() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(summary.problem)}});
    } else {
      rows.push_back({summary.device_serial.empty() ? "?" : summary.device_serial,
                      summary.owner.empty() ? "?" : summary.owner,
                      summary.manufacturer.empty() ? "?" : summary.manufacturer,
                      summary.device_serial.empty() ? "?" : TimeText(summary.expires_at),
                      summary.signer.subject, summary.problem.empty() ? "-" : summary.problem});
    }
  }
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"dry_run", true},
                                {"file", options.in},
                                {"vouchers", list},
                                {"count", bundle.vouchers_size()},
                                {"problems", problems}}
                     .dump(2)
              << "\n";
  } else {
    PrintTable(std::cout, rows);
    std::cout << "dry run: " << options.in << " holds " << bundle.vouchers_size() << " vouchers";
    for (const auto& [owner, count] : owners) std::cout << ", " << count << " for " << owner;
    std::cout << ", " << problems << " with problems; signatures checked against the signer "
              << "certificates they carry only (the server checks the signers are trusted "
              << "manufacturers); nothing imported\n";
  }
  if (problems > 0) {
    return ReportError(absl::FailedPreconditionError(absl::StrCat(
                           problems, " of ", bundle.vouchers_size(),
                           " vouchers would be refused, and each refusal fails its whole batch")),
                       format);
  }
  return 0;
}

int RunImport(const GlobalOptions& globals, const ImportOptions& options) {
  const OutputFormat format = globals.format();
  auto bundle = ReadVoucherBundle(options.in);
  if (!bundle.ok()) return ReportError(bundle.status(), format);
  if (options.dry_run) return RunImportDryRun(*bundle, options, format);

  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = AdminService::NewStub(*channel);
  const auto count = static_cast<size_t>(bundle->vouchers_size());
  int claimed = 0;
  int unchanged = 0;
  size_t batches_done = 0;
  Progress progress = Progress::OnStderr("importing", static_cast<int64_t>(count));
  const absl::Status status = ForEachBatch(
      count, kMaxDevicesPerCall,
      [&](const BatchRange& batch) {
        keyline::v1::ImportVouchersRequest request;
        for (size_t i = batch.begin; i < batch.end; ++i) {
          *request.mutable_bundle()->add_vouchers() = bundle->vouchers(static_cast<int>(i));
        }
        keyline::v1::ImportVouchersResponse response;
        auto context = ContextWithDeadline(kBatchTimeout);
        KEYLINE_RETURN_IF_ERROR(FromGrpc(stub->ImportVouchers(context.get(), request, &response)));
        claimed += response.claimed();
        unchanged += response.unchanged();
        ++batches_done;
        return absl::OkStatus();
      },
      &progress);
  progress.Finish();
  if (!status.ok()) {
    if (batches_done == 0) return ReportError(status, format);
    return ReportError(
        absl::Status(status.code(),
                     absl::StrCat(status.message(), " (", batches_done,
                                  batches_done == 1 ? " batch" : " batches",
                                  " before it went through: ", claimed, " claimed, ", unchanged,
                                  " unchanged; importing the same file again is safe)")),
        format);
  }
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"file", options.in},
                                {"vouchers", count},
                                {"claimed", claimed},
                                {"unchanged", unchanged}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "imported " << count << " vouchers from " << options.in << ": " << claimed
              << " devices claimed, " << unchanged << " already claimed by the same owner\n";
  }
  return 0;
}

}  // namespace

void AddVoucherCommands(CLI::App& app, Invocation& invocation) {
  auto* group = app.add_subcommand("voucher", "ownership vouchers between Keylines");
  group->require_subcommand(1);

  auto exported = std::make_shared<ExportOptions>();
  auto* export_command =
      group->add_subcommand("export", "write the vouchers of claimed devices to a bundle file");
  auto* source = export_command->add_option_group("devices", "which devices");
  source->add_option("--serial", exported->serials, "a device serial (repeatable)");
  source->add_option("--serials-file", exported->serials_file,
                     "one serial a line ('#' comments and blank lines skipped)");
  source->require_option(1);
  export_command->add_option("--out", exported->out, "bundle file to write")->required();
  OnRun(export_command, invocation,
        [&invocation, exported] { return RunExport(invocation.globals, *exported); });

  auto imported = std::make_shared<ImportOptions>();
  auto* import_command = group->add_subcommand(
      "import", "verify a bundle's vouchers against trusted manufacturers and claim the devices");
  import_command->add_option("--in", imported->in, "bundle file (from voucher export)")->required();
  import_command->add_flag("--dry-run", imported->dry_run,
                           "list what the bundle holds (serial, owner, manufacturer, expiry) "
                           "without calling the server");
  OnRun(import_command, invocation,
        [&invocation, imported] { return RunImport(invocation.globals, *imported); });
}

}  // namespace keyline::cli
