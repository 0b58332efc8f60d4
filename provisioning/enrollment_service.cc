#include "provisioning/enrollment_service.h"

#include <openssl/rand.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/certificate_outline.h"
#include "ca/csr_policy.h"
#include "ca/device_identity.h"
#include "ca/profiles.h"
#include "common/status_macros.h"
#include "provisioning/attestation_chain.h"
#include "provisioning/enrollment_proof.h"
#include "provisioning/grpc_status.h"
#include "provisioning/presented_attestation_chain.h"
#include "provisioning/proto_conversions.h"
#include "provisioning/unary_call.h"
#include "store/issuance_writer.h"
#include "store/sha256.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kBegin = "/keyline.v1.EnrollmentService/BeginEnrollment";
constexpr std::string_view kComplete = "/keyline.v1.EnrollmentService/CompleteEnrollment";
constexpr std::string_view kRenew = "/keyline.v1.EnrollmentService/Renew";
constexpr size_t kChallengeIdBytes = 16;
constexpr size_t kNonceBytes = 32;
constexpr size_t kMaxRequestIdLength = 128;

// Who a challenge was handed to: "device" for a device on first contact, else the caller's URI.
std::string Requester(const Caller& caller) {
  return caller.kind == CallerKind::kAnonymous ? "device" : caller.uri;
}

absl::StatusOr<std::string> RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    return absl::InternalError("challenge: CSPRNG failed");
  }
  return bytes;
}

absl::Status CheckDeviceState(const store::DeviceRecord& device, ProofPurpose purpose) {
  if (device.state == "decommissioned") {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", device.serial, " is decommissioned"));
  }
  if (purpose == ProofPurpose::kRenew) {
    if (device.state != "enrolled") {
      return absl::FailedPreconditionError(
          absl::StrCat("device ", device.serial, " is not enrolled"));
    }
  } else if (device.state != "claimed" && device.state != "enrolled") {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", device.serial, " is not claimed by a deployment"));
  }
  return absl::OkStatus();
}

absl::Status CheckRequestId(std::string_view request_id) {
  if (request_id.empty()) return absl::InvalidArgumentError("request_id: empty");
  if (request_id.size() > kMaxRequestIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: ", request_id.size(), " characters, at most ",
                     kMaxRequestIdLength));
  }
  for (char c : request_id) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError("request_id: only printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

}  // namespace

// A CompleteEnrollment or Renew in flight.
struct EnrollmentServiceImpl::Completion {
  Caller caller;
  ProofPurpose purpose = ProofPurpose::kEnroll;
  std::string challenge_id;
  std::string csr;
  std::string proof;
  std::string request_id;
  std::string device_serial;  // from the challenge
  // What BeginEnrollment read on this server for the challenge, taken out of BegunChallenges by
  // the RPC handler; empty when this server did not hand the challenge out.
  std::optional<store::ChallengeWithDevice> begun;
  keyline::v1::EnrollmentResponse* response = nullptr;
  grpc::ServerUnaryReactor* reactor = nullptr;
};

// A BeginEnrollment in flight: what was read on gRPC's thread, waiting for its device.
struct EnrollmentServiceImpl::Beginning {
  Caller caller;
  ProofPurpose purpose = ProofPurpose::kEnroll;
  std::optional<PresentedAttestationChain> chain;
  store::ChallengeRecord challenge;
  absl::Time now;
  keyline::v1::Challenge* response = nullptr;
  grpc::ServerUnaryReactor* reactor = nullptr;
};

absl::Status EnrollmentServiceImpl::PrepareBegin(const keyline::v1::BeginEnrollmentRequest& request,
                                                 Beginning& beginning) {
  KEYLINE_RETURN_IF_ERROR(ca::ValidateDeviceSerial(request.device_serial()));
  const Caller& caller = beginning.caller;
  beginning.purpose =
      caller.kind == CallerKind::kDevice ? ProofPurpose::kRenew : ProofPurpose::kEnroll;
  if (beginning.purpose == ProofPurpose::kRenew &&
      caller.device_serial != request.device_serial()) {
    return absl::PermissionDeniedError("device_serial: a device may only renew itself");
  }
  KEYLINE_ASSIGN_OR_RETURN(
      beginning.chain, PresentedAttestationChain::Read(
                           {request.attestation_chain().begin(), request.attestation_chain().end()},
                           "attestation_chain", context_.certificate_cache));
  beginning.now = absl::Now();
  store::ChallengeRecord& challenge = beginning.challenge;
  // One draw for both: each call into OpenSSL's DRBG has a fixed cost (locks, reseed checks).
  KEYLINE_ASSIGN_OR_RETURN(std::string random, RandomBytes(kChallengeIdBytes + kNonceBytes));
  challenge.id = random.substr(0, kChallengeIdBytes);
  challenge.nonce = random.substr(kChallengeIdBytes);
  challenge.device_serial = request.device_serial();
  challenge.purpose = beginning.purpose == ProofPurpose::kRenew ? "renew" : "enroll";
  challenge.requested_by = Requester(caller);
  challenge.expires_at = beginning.now + context_.enrollment.challenge_lifetime;
  return absl::OkStatus();
}

void EnrollmentServiceImpl::OnDeviceFound(std::shared_ptr<Beginning> beginning,
                                          absl::StatusOr<store::DeviceWithChallenge> found) {
  // On the batcher's thread, which must not wait: what is left is a few µs unless the chain is
  // not the registered one (a full validation) or the challenge must be stored after all.
  if (found.ok() && found->challenge_created &&
      beginning->chain->IsRegisteredFor(found->device.device)) {
    return FinishBegin(std::move(beginning), *std::move(found));
  }
  context_.executor->Run(
      [this, beginning = std::move(beginning), found = std::move(found)]() mutable {
        FinishBegin(std::move(beginning), std::move(found));
      });
}

void EnrollmentServiceImpl::FinishBegin(std::shared_ptr<Beginning> beginning,
                                        absl::StatusOr<store::DeviceWithChallenge> found) {
  const absl::Status status = CompleteBegin(*beginning, std::move(found));
  if (!status.ok()) {
    beginning->response->Clear();
    if (context_.challenge_allowance != nullptr) {
      context_.challenge_allowance->GiveBack(beginning->challenge.device_serial,
                                             beginning->challenge.requested_by, absl::Now());
    }
  }
  beginning->reactor->Finish(ToGrpcStatus(status));
}

absl::Status EnrollmentServiceImpl::CompleteBegin(
    const Beginning& beginning, absl::StatusOr<store::DeviceWithChallenge> found) {
  const store::ChallengeRecord& challenge = beginning.challenge;
  if (absl::IsNotFound(found.status())) {
    return absl::NotFoundError(
        absl::StrCat("device_serial: unknown device ", challenge.device_serial));
  }
  if (!found.ok()) return found.status();
  absl::Status checked = CheckBegin(beginning.caller, beginning.purpose, found->device,
                                    *beginning.chain, beginning.now);
  if (!checked.ok()) {
    if (found->challenge_created) {
      // Best effort, off this thread: an unused challenge nobody was given expires and is swept
      // anyway.
      context_.executor->Run(
          [this, id = challenge.id] { (void)context_.enrollments->DeleteChallenge(id); });
    }
    return checked;
  }
  if (!found->challenge_created) {
    // Everything passed here, yet the database's conditions did not hold when it looked (the
    // device changed in between): store it the ordinary way, which checks the device again.
    // OnDeviceFound runs this case on the executor.
    KEYLINE_RETURN_IF_ERROR(context_.enrollments->CreateChallenge(challenge));
  }

  if (context_.begun_challenges != nullptr) {
    context_.begun_challenges->Put({challenge, found->device});
  }
  beginning.response->set_challenge_id(challenge.id);
  beginning.response->set_nonce(challenge.nonce);
  ToTimestamp(challenge.expires_at, beginning.response->mutable_expires_at());
  return absl::OkStatus();
}

absl::Status EnrollmentServiceImpl::CheckBegin(const Caller& caller, ProofPurpose purpose,
                                               const store::DeviceWithManufacturer& found,
                                               const PresentedAttestationChain& chain,
                                               absl::Time now) const {
  const store::DeviceRecord& device = found.device;
  KEYLINE_RETURN_IF_ERROR(CheckDeviceState(device, purpose));
  if (purpose == ProofPurpose::kRenew && device.deployment != caller.deployment) {
    return absl::PermissionDeniedError("device_serial: the device belongs to another deployment");
  }
  const store::ManufacturerRecord& manufacturer = found.manufacturer;
  if (manufacturer.status != "trusted") {
    return absl::FailedPreconditionError(
        absl::StrCat("attestation_chain: manufacturer ", manufacturer.name, " is revoked"));
  }
  KEYLINE_ASSIGN_OR_RETURN(const auto anchor,
                           context_.certificate_cache->Parse(manufacturer.trust_anchor_der));
  return chain.Verify(device, anchor.get(), now);
}

void EnrollmentServiceImpl::Complete(std::shared_ptr<Completion> completion) {
  const auto fail = [&completion](const absl::Status& status) {
    completion->reactor->Finish(ToGrpcStatus(status));
  };
  const Caller& caller = completion->caller;
  if (completion->challenge_id.size() != kChallengeIdBytes) {
    return fail(absl::InvalidArgumentError("challenge_id: must be 16 octets"));
  }
  if (auto status = CheckRequestId(completion->request_id); !status.ok()) return fail(status);

  // The challenge, its device and the manufacturer: as BeginEnrollment read them on this server
  // a moment ago (see begun_challenges.h for why that is enough), or in one round trip.
  absl::StatusOr<store::ChallengeWithDevice> found =
      completion->begun ? *std::move(completion->begun)
                        : context_.enrollments->FindChallengeWithDevice(completion->challenge_id);
  if (absl::IsNotFound(found.status())) return CompleteWithoutChallenge(std::move(completion));
  if (!found.ok()) return fail(found.status());
  const store::ChallengeRecord* const challenge = &found->challenge;
  completion->device_serial = challenge->device_serial;

  // A retry of a completed request gets what the first attempt got. Completing marks the
  // challenge used in the same transaction, so only a used challenge can have a completed request
  // behind it: a fresh one saves the look-up (a request_id another device already used with its
  // own challenge is caught when storing, and Respond names it).
  if (challenge->used_at) {
    auto previous = context_.enrollments->FindByRequestId(completion->request_id);
    if (previous.ok()) {
      if (previous->device_serial != challenge->device_serial) {
        return fail(absl::AlreadyExistsError("request_id: already used by another device"));
      }
      return Respond(completion, RecordedCertificate(*previous));
    }
    if (!absl::IsNotFound(previous.status())) return fail(previous.status());
  }

  const std::string expected_purpose =
      completion->purpose == ProofPurpose::kRenew ? "renew" : "enroll";
  if (challenge->purpose != expected_purpose) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("challenge_id: issued for ", challenge->purpose, ", not ", expected_purpose)));
  }
  if (challenge->requested_by != Requester(caller)) {
    return fail(absl::PermissionDeniedError("challenge_id: issued to another requester"));
  }
  if (challenge->used_at) return fail(absl::FailedPreconditionError("challenge_id: already used"));
  if (challenge->expires_at <= absl::Now()) {
    return fail(absl::FailedPreconditionError("challenge_id: expired"));
  }

  const store::DeviceRecord* const device = &found->device.device;
  if (auto status = CheckDeviceState(*device, completion->purpose); !status.ok()) {
    return fail(status);
  }
  if (completion->purpose == ProofPurpose::kRenew) {
    if (device->deployment != caller.deployment) {
      return fail(absl::PermissionDeniedError("the device belongs to another deployment"));
    }
    // Checked again under a lock when the renewal commits (store/issuance_decisions.h).
    auto current = context_.certificates->FindBySerial(caller.certificate_serial);
    if (!current.ok() && !absl::IsNotFound(current.status())) return fail(current.status());
    if (!current.ok() || current->status != "good") {
      return fail(absl::PermissionDeniedError(
          "client certificate is revoked or unknown: only a fresh attestation can renew"));
    }
    // A TLS connection outlives its handshake: a certificate can expire while it stays open.
    if (current->not_after <= absl::Now()) {
      return fail(absl::PermissionDeniedError(
          "client certificate has expired: only a fresh attestation can renew"));
    }
  }
  const store::ManufacturerRecord* const manufacturer = &found->device.manufacturer;
  if (manufacturer->status != "trusted") {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("manufacturer ", manufacturer->name, " is revoked")));
  }
  // The registered attestation key (BeginEnrollment checked its chain).
  auto attestation_key =
      RegisteredAttestationKey(device->attestation_certificate_der, context_.certificate_cache);
  if (!attestation_key.ok()) return fail(attestation_key.status());

  auto csr = ca::ParseAndCheckCsr(completion->csr, "csr");
  if (!csr.ok()) return fail(csr.status());
  auto spki = csr->public_key.ToDer();
  if (!spki.ok()) return fail(spki.status());
  const std::string new_key_hash = store::Sha256(*spki);
  if (new_key_hash == device->attestation_key_sha256) {
    return fail(absl::InvalidArgumentError(
        "csr: the deployment key must be a new key, not the attestation key"));
  }
  auto message = ProofMessage(completion->purpose, challenge->nonce, device->serial, new_key_hash);
  if (!message.ok()) return fail(message.status());
  if (auto status = VerifyProof(attestation_key->get(), *message, completion->proof);
      !status.ok()) {
    return fail(status);
  }

  const std::string deployment = device->deployment.value_or("");
  // The deployment's current CA: after a rotation, enrollments and renewals move to the new one.
  const ca::IssuingCa* deployment_ca = context_.cas->CurrentFor(deployment);
  if (deployment_ca == nullptr) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("deployment ", deployment, " has no CA on this server")));
  }
  auto job = std::make_shared<IssuanceJob>();
  job->issuer = deployment_ca;
  job->subject_key = std::move(csr->public_key);
  const std::string serial = device->serial;
  job->make_template = [deployment, serial](const ca::IssueContext& issue_context) {
    return ca::DeviceTemplate(issue_context, deployment, serial);
  };
  job->subject = ca::DeviceUri(deployment, serial);
  job->device_serial = serial;
  job->enrollment = store::EnrollmentRecord{
      completion->request_id,
      completion->challenge_id,
      serial,
      deployment,
      expected_purpose,
      completion->purpose == ProofPurpose::kRenew ? caller.certificate_serial : std::string()};
  job->audit.actor = caller.kind == CallerKind::kAnonymous ? job->subject : caller.uri;
  job->audit.action =
      completion->purpose == ProofPurpose::kRenew ? "device.renewed" : "device.enrolled";
  job->audit.details = {{"deployment", deployment},
                        {"device_serial", serial},
                        {"request_id", completion->request_id},
                        {"manufacturer", manufacturer->name},
                        {"key_type", csr->key_type}};
  if (caller.kind == CallerKind::kGateway) job->audit.details["gateway"] = caller.uri;

  context_.issuance->Issue(std::move(job), [this, completion](
                                               absl::StatusOr<IssuedCertificate> issued) {
    if (issued.ok()) return Respond(completion, std::move(issued));
    if (store::IsIssuerRetired(issued.status()) && context_.on_issuer_retired) {
      context_.on_issuer_retired();
    }
    // A concurrent attempt with the same request_id won: look its certificate up, off the
    // writer's thread.
    context_.executor->Run([this, completion, status = issued.status()] {
      Respond(completion, status);
    });
  });
}

void EnrollmentServiceImpl::CompleteWithoutChallenge(std::shared_ptr<Completion> completion) {
  const auto unknown = [&completion] {
    completion->reactor->Finish(
        ToGrpcStatus(absl::NotFoundError("challenge_id: unknown challenge")));
  };
  // Challenges live in an unlogged table (migrations/0005): after a crash the challenge of a
  // completed request is gone while its enrollment stands. The nonce went with it, so the proof
  // cannot be checked again; the CSR's own signature shows the caller holds the certified key,
  // which is what a device retrying its lost answer sends again. The certificate is public, and
  // this hands it only to the holder of its key.
  auto previous = context_.enrollments->FindByRequestId(completion->request_id);
  if (absl::IsNotFound(previous.status())) return unknown();
  if (!previous.ok()) return completion->reactor->Finish(ToGrpcStatus(previous.status()));
  auto csr = ca::ParseAndCheckCsr(completion->csr, "csr");
  if (!csr.ok()) return unknown();
  auto requested = csr->public_key.ToDer();
  auto certified = ca::ReadCertificateOutline(previous->certificate.der);
  if (!requested.ok() || !certified.ok() || *requested != certified->public_key_info_der) {
    return unknown();
  }
  Respond(std::move(completion), RecordedCertificate(*previous));
}

absl::StatusOr<IssuedCertificate> EnrollmentServiceImpl::RecordedCertificate(
    const store::CompletedEnrollment& previous) const {
  const ca::IssuingCa* issuer = context_.cas->ById(previous.certificate.issuer_id);
  if (issuer == nullptr) return absl::InternalError("the certificate's CA is not loaded");
  return IssuedCertificate{previous.certificate.serial, previous.certificate.der,
                           previous.certificate.not_before, previous.certificate.not_after, issuer};
}

void EnrollmentServiceImpl::Respond(std::shared_ptr<Completion> completion,
                                    absl::StatusOr<IssuedCertificate> issued) {
  if (!issued.ok()) {
    const absl::Status status = issued.status();
    const bool maybe_completed =
        absl::IsAlreadyExists(status) ||
        (absl::IsFailedPrecondition(status) && status.message().find("already used") !=
                                                   absl::string_view::npos);
    if (!maybe_completed) return completion->reactor->Finish(ToGrpcStatus(status));
    auto previous = context_.enrollments->FindByRequestId(completion->request_id);
    if (previous.ok() && previous->device_serial != completion->device_serial) {
      return completion->reactor->Finish(
          ToGrpcStatus(absl::AlreadyExistsError("request_id: already used by another device")));
    }
    if (!previous.ok()) return completion->reactor->Finish(ToGrpcStatus(status));
    issued = RecordedCertificate(*previous);
    if (!issued.ok()) return completion->reactor->Finish(ToGrpcStatus(issued.status()));
  }
  keyline::v1::EnrollmentResponse* response = completion->response;
  ToProto(*issued, response->mutable_certificate());
  const absl::Duration validity = issued->not_after - issued->not_before;
  ToTimestamp(issued->not_before + validity * 2 / 3, response->mutable_renew_after());
  response->set_ocsp_url(ca::OcspUrl(*context_.profiles));
  response->set_crl_url(ca::CrlUrl(*context_.profiles, issued->issuer->name()));
  completion->reactor->Finish(grpc::Status::OK);
}

void EnrollmentServiceImpl::Dispatch(std::shared_ptr<Completion> completion) {
  if (context_.begun_challenges != nullptr) {
    completion->begun = context_.begun_challenges->Take(completion->challenge_id);
  }
  // An enrollment whose challenge this server handed out reads nothing from the database before
  // it is stored: CPU and HSM work only, which runs here on gRPC's thread as operator issuance
  // does, saving a hand-off to the executor. Anything else may wait on PostgreSQL (a challenge
  // from elsewhere, a renewal's certificate look-up) and goes to the executor.
  if (completion->begun && completion->purpose == ProofPurpose::kEnroll) {
    return Complete(std::move(completion));
  }
  context_.executor->Run([this, completion] { Complete(completion); });
}

grpc::ServerUnaryReactor* EnrollmentServiceImpl::BeginEnrollment(
    grpc::CallbackServerContext* context, const keyline::v1::BeginEnrollmentRequest* request,
    keyline::v1::Challenge* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<Caller> caller = AuthorizeOrFinish(context_, context, kBegin, reactor);
  if (!caller) return reactor;
  auto beginning = std::make_shared<Beginning>();
  beginning->caller = *std::move(caller);
  beginning->response = response;
  beginning->reactor = reactor;
  // The request's own checks run here on gRPC's thread; the device look-up joins the next batch
  // (store/challenge_batcher.h), whose thread hands the result to OnDeviceFound.
  if (absl::Status status = PrepareBegin(*request, *beginning); !status.ok()) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  // Taken before the look-up, so that requests in flight together cannot pass the cap, and given
  // back by FinishBegin if no challenge is handed out.
  if (context_.challenge_allowance != nullptr) {
    if (absl::Status status = context_.challenge_allowance->Take(
            beginning->challenge.device_serial, beginning->challenge.requested_by, beginning->now);
        !status.ok()) {
      if (context_.on_challenge_refused) context_.on_challenge_refused();
      reactor->Finish(ToGrpcStatus(status));
      return reactor;
    }
  }
  store::ChallengeRequest lookup{beginning->challenge, beginning->chain->key_hash()};
  context_.challenge_batcher->Submit(
      std::move(lookup), [this, beginning](absl::StatusOr<store::DeviceWithChallenge> found) {
        OnDeviceFound(beginning, std::move(found));
      });
  return reactor;
}

template <typename Request>
grpc::ServerUnaryReactor* EnrollmentServiceImpl::StartCompletion(
    grpc::CallbackServerContext* context, std::string_view method, ProofPurpose purpose,
    const Request& request, keyline::v1::EnrollmentResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<Caller> caller = AuthorizeOrFinish(context_, context, method, reactor);
  if (!caller) return reactor;
  auto completion = std::make_shared<Completion>();
  completion->caller = *std::move(caller);
  completion->purpose = purpose;
  completion->challenge_id = request.challenge_id();
  completion->csr = request.csr();
  completion->proof = request.proof();
  completion->request_id = request.request_id();
  completion->response = response;
  completion->reactor = reactor;
  Dispatch(std::move(completion));
  return reactor;
}

grpc::ServerUnaryReactor* EnrollmentServiceImpl::CompleteEnrollment(
    grpc::CallbackServerContext* context, const keyline::v1::CompleteEnrollmentRequest* request,
    keyline::v1::EnrollmentResponse* response) {
  return StartCompletion(context, kComplete, ProofPurpose::kEnroll, *request, response);
}

grpc::ServerUnaryReactor* EnrollmentServiceImpl::Renew(grpc::CallbackServerContext* context,
                                                       const keyline::v1::RenewRequest* request,
                                                       keyline::v1::EnrollmentResponse* response) {
  return StartCompletion(context, kRenew, ProofPurpose::kRenew, *request, response);
}

}  // namespace keyline::provisioning
