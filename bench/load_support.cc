#include "bench/load_support.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>
#include <openssl/pem.h>

#include "common/files.h"
#include "common/openssl_ptr.h"

namespace keyline::bench {
namespace {

std::string& ProgramName() {
  static std::string name = "bench";
  return name;
}

}  // namespace

void SetProgramName(std::string name) { ProgramName() = std::move(name); }

void Die(const std::string& message) {
  // Setup may fail on several threads at once: the first one reports and exits, the others wait
  // here for the process to end (two concurrent std::exit calls are undefined behaviour).
  static std::mutex dying;
  dying.lock();
  std::cerr << ProgramName() << ": " << message << "\n";
  std::exit(2);
}

std::string ReadFileOrDie(const std::string& path) {
  return ValueOrDie(ReadFile(path, 1 << 20), path);
}

std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const std::string& ca_file,
                                                         const std::string& cert_file,
                                                         const std::string& key_file) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFileOrDie(ca_file);
  if (!cert_file.empty() || !key_file.empty()) {
    tls.pem_cert_chain = ReadFileOrDie(cert_file);
    tls.pem_private_key = ReadFileOrDie(key_file);
  }
  return grpc::SslCredentials(tls);
}

std::vector<std::shared_ptr<grpc::Channel>> ConnectedChannels(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments arguments;
    // A channel argument of its own and a private subchannel pool: each channel is a separate
    // HTTP/2 connection instead of sharing one subchannel.
    arguments.SetInt("keyline.bench.channel_index", i);
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Factory batches of 5,000 attestation certificates are larger than gRPC's default 4 MiB.
    arguments.SetMaxReceiveMessageSize(-1);
    auto channel = grpc::CreateCustomChannel(target, credentials, arguments);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      Die("could not connect to " + target);
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

double PercentileMs(const std::vector<uint32_t>& sorted_us, double fraction) {
  if (sorted_us.empty()) return 0;
  const auto index = std::min(sorted_us.size() - 1,
                              static_cast<size_t>(fraction * static_cast<double>(sorted_us.size())));
  return sorted_us[index] / 1000.0;
}

void WriteCsrPems(const std::vector<std::string>& csrs, const std::string& path) {
  std::string pems;
  for (const std::string& der : csrs) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(der.data());
    X509ReqPtr request(d2i_X509_REQ(nullptr, &bytes, static_cast<long>(der.size())));
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (request == nullptr || bio == nullptr || PEM_write_bio_X509_REQ(bio.get(), request.get()) != 1) {
      Die("encoding a CSR as PEM");
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    pems.append(data, static_cast<size_t>(length));
  }
  OkOrDie(WriteFileAtomically(path, pems, 0644), "writing " + path);
}

}  // namespace keyline::bench
