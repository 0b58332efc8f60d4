#include "cli/device_lookup.h"

#include <condition_variable>
#include <memory>
#include <mutex>

#include "cli/connection.h"

namespace keyline::cli {
namespace {

constexpr size_t kCallsInFlight = 32;
constexpr absl::Duration kTimeout = absl::Seconds(60);

struct Call {
  std::unique_ptr<grpc::ClientContext> context;
  keyline::v1::GetDeviceRequest request;
  keyline::v1::Device response;
};

}  // namespace

std::vector<absl::StatusOr<keyline::v1::Device>> LookUpDevices(
    keyline::v1::AdminService::Stub& stub, const std::vector<std::string>& serials,
    Progress& progress) {
  std::vector<absl::StatusOr<keyline::v1::Device>> results(
      serials.size(), absl::UnknownError("not looked up"));
  std::vector<std::unique_ptr<Call>> calls(serials.size());
  std::mutex mutex;
  std::condition_variable changed;
  size_t in_flight = 0;
  size_t finished = 0;
  size_t reported = 0;

  std::vector<size_t> done;  // finished calls whose state the main thread has yet to free

  // Called with `mutex` held: frees finished calls (never inside gRPC's callback, as in gRPC's
  // own examples) and moves the progress bar.
  auto collect = [&] {
    for (size_t index : done) calls[index].reset();
    done.clear();
    progress.Advance(static_cast<int64_t>(finished - reported));
    reported = finished;
  };

  for (size_t i = 0; i < serials.size(); ++i) {
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return in_flight < kCallsInFlight; });
      collect();
      ++in_flight;
    }
    calls[i] = std::make_unique<Call>();
    Call& call = *calls[i];
    call.context = ContextWithDeadline(kTimeout);
    call.request.set_device_serial(serials[i]);
    stub.async()->GetDevice(call.context.get(), &call.request, &call.response,
                            [&, i](grpc::Status status) {
                              std::lock_guard lock(mutex);
                              if (status.ok()) {
                                results[i] = std::move(calls[i]->response);
                              } else {
                                results[i] = FromGrpc(status);
                              }
                              done.push_back(i);
                              --in_flight;
                              ++finished;
                              changed.notify_all();
                            });
  }
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return in_flight == 0; });
  collect();
  return results;
}

std::string OwnerText(const keyline::v1::Device& device) {
  return device.deployment().empty() ? "-" : device.deployment();
}

nlohmann::json DeviceJson(const keyline::v1::Device& device) {
  return {{"serial", device.device_serial()},
          {"manufacturer", device.manufacturer()},
          {"hardware_model", device.hardware_model()},
          {"state", device.state()},
          {"deployment", device.deployment().empty() ? nlohmann::json(nullptr)
                                                     : nlohmann::json(device.deployment())},
          {"certificate_serials", std::vector<std::string>(device.certificate_serials().begin(),
                                                           device.certificate_serials().end())},
          {"good_certificate_serials",
           std::vector<std::string>(device.good_certificate_serials().begin(),
                                    device.good_certificate_serials().end())}};
}

}  // namespace keyline::cli
