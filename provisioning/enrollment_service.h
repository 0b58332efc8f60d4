// EnrollmentService (proto/keyline/v1/enrollment.proto): zero-touch enrollment and renewal.
//
// BeginEnrollment checks the device (known, claimed, not decommissioned), its manufacturer
// (trusted), the presented attestation chain (the registered attestation key, valid to the
// manufacturer's anchor today) and hands out a single-use challenge. CompleteEnrollment and Renew
// check the challenge, the CSR and the proof, and issue from the owning deployment's CA; the
// challenge, device state, certificate, request_id and audit event commit together
// (store/issuance_writer.h). A request_id seen before returns the certificate it produced.
#pragma once

#include <string_view>

#include "absl/time/time.h"
#include "keyline/v1/enrollment.grpc.pb.h"
#include "provisioning/attestation_chain.h"
#include "provisioning/enrollment_proof.h"
#include "provisioning/presented_attestation_chain.h"
#include "provisioning/service_context.h"

namespace keyline::provisioning {

class EnrollmentServiceImpl final : public keyline::v1::EnrollmentService::CallbackService {
 public:
  explicit EnrollmentServiceImpl(const ServiceContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* BeginEnrollment(grpc::CallbackServerContext* context,
                                            const keyline::v1::BeginEnrollmentRequest* request,
                                            keyline::v1::Challenge* response) override;
  grpc::ServerUnaryReactor* CompleteEnrollment(
      grpc::CallbackServerContext* context, const keyline::v1::CompleteEnrollmentRequest* request,
      keyline::v1::EnrollmentResponse* response) override;
  grpc::ServerUnaryReactor* Renew(grpc::CallbackServerContext* context,
                                  const keyline::v1::RenewRequest* request,
                                  keyline::v1::EnrollmentResponse* response) override;

 private:
  struct Completion;  // what Complete and Renew share, see enrollment_service.cc

  struct Beginning;  // a BeginEnrollment waiting for its device, see enrollment_service.cc

  // BeginEnrollment in three steps: the request's own checks on gRPC's thread (PrepareBegin), the
  // device look-up in a batch (store/challenge_batcher.h), then the checks of what it found and
  // the answer (FinishBegin, on the batcher's thread or the executor: see OnDeviceFound).
  absl::Status PrepareBegin(const keyline::v1::BeginEnrollmentRequest& request,
                            Beginning& beginning);
  void OnDeviceFound(std::shared_ptr<Beginning> beginning,
                     absl::StatusOr<store::DeviceWithChallenge> found);
  void FinishBegin(std::shared_ptr<Beginning> beginning,
                   absl::StatusOr<store::DeviceWithChallenge> found);
  absl::Status CompleteBegin(const Beginning& beginning,
                             absl::StatusOr<store::DeviceWithChallenge> found);
  // Begin's checks of the device, its manufacturer and the chain, in the order their refusals
  // take precedence.
  absl::Status CheckBegin(const Caller& caller, ProofPurpose purpose,
                          const store::DeviceWithManufacturer& found,
                          const PresentedAttestationChain& chain, absl::Time now) const;
  // CompleteEnrollment and Renew: authorizes the caller, then Dispatch.
  template <typename Request>
  grpc::ServerUnaryReactor* StartCompletion(grpc::CallbackServerContext* context,
                                            std::string_view method, ProofPurpose purpose,
                                            const Request& request,
                                            keyline::v1::EnrollmentResponse* response);
  // Runs Complete inline or on the executor (see the definition).
  void Dispatch(std::shared_ptr<Completion> completion);
  void Complete(std::shared_ptr<Completion> completion);
  // A completion whose challenge is unknown: a retry of a completed request after a database crash
  // emptied the (unlogged) challenges table gets its certificate; anything else is NotFound.
  void CompleteWithoutChallenge(std::shared_ptr<Completion> completion);
  void Respond(std::shared_ptr<Completion> completion, absl::StatusOr<IssuedCertificate> issued);
  // The certificate a completed request recorded, as an answer; Internal when its CA is not
  // loaded here.
  absl::StatusOr<IssuedCertificate> RecordedCertificate(
      const store::CompletedEnrollment& previous) const;

  const ServiceContext& context_;
};

}  // namespace keyline::provisioning
