// HttpServer under awkward clients and at the edges of its life: slow and silent clients, stalled
// readers, running out of descriptors, Stop with connections open, bad options.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "http/http_server.h"
#include "http/testing/http_server_fixture.h"
#include "http/testing/raw_http_client.h"

namespace keyline::http {
namespace {

using testing::Body;
using testing::DefaultRouter;
using testing::Fixed;
using testing::kTimeout;
using testing::RawHttpClient;
using testing::RawResponse;
using HttpServerRobustnessTest = testing::HttpServerFixture;

TEST_F(HttpServerRobustnessTest, SlowClientDoesNotDelayOthers) {
  StartDefault(/*threads=*/1);  // both clients on the same loop
  RawHttpClient slow = Connect();
  ASSERT_TRUE(slow.Send("GET /static HTTP/1.1\r\nHost: t\r\nX-Half: ").ok());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(Get("/static").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  // The slow one still completes its request.
  ASSERT_TRUE(slow.Send("yes\r\n\r\n").ok());
  absl::StatusOr<RawResponse> response = slow.ReadResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerRobustnessTest, ConnectAndCloseWithoutRequestLeavesServerAnswering) {
  StartDefault(/*threads=*/1);
  for (int i = 0; i < 50; ++i) {
    RawHttpClient client = Connect();
    if (i % 2 == 0) client.Reset();
  }
  RawHttpClient half = Connect();
  ASSERT_TRUE(half.Send("GET /sta").ok());
  half.Reset();
  EXPECT_EQ(Get("/static").status, 200);
}

TEST_F(HttpServerRobustnessTest, RunningOutOfDescriptorsPausesAcceptingInsteadOfSpinning) {
  StartDefault(/*threads=*/1);
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  // Leave a few descriptors: the clients take them, and the server's accept4 then fails with
  // EMFILE while connections wait in the backlog, so the listening socket stays readable.
  rlimit tight = original;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free + 12);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<RawHttpClient> clients;
  while (clients.size() < 64) {
    absl::StatusOr<RawHttpClient> client = RawHttpClient::Connect(server_->port());
    if (!client.ok()) break;
    clients.push_back(*std::move(client));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
  auto seconds = [](const rusage& usage) {
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  EXPECT_GT(clients.size(), 2u);
  // Paused, the loop uses well under a millisecond here; spinning, whatever CPU it gets.
  EXPECT_LT(seconds(after) - seconds(before), 0.1) << "the event loop spins on accept";
  // Once descriptors are free again, the waiting connections are served.
  for (RawHttpClient& client : clients) {
    ASSERT_TRUE(client.Send("GET /static HTTP/1.1\r\nHost: t\r\n\r\n").ok());
    absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(HttpServerRobustnessTest, IdleConnectionsAreClosedAfterIdleTimeout) {
  HttpServerOptions options;
  options.threads = 1;
  options.idle_timeout = absl::Milliseconds(300);
  options.router = DefaultRouter();
  StartServer(std::move(options));
  RawHttpClient client = Connect();
  ASSERT_TRUE(client.Send("GET /static HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  ASSERT_TRUE(client.ReadResponse(kTimeout).ok());
  EXPECT_TRUE(client.WaitForClose(absl::Seconds(5)));
  RawHttpClient slow = Connect();
  ASSERT_TRUE(slow.Send("GET /static HTTP/1.1\r\n").ok());
  EXPECT_TRUE(slow.WaitForClose(absl::Seconds(5)));
}

TEST_F(HttpServerRobustnessTest, ReaderThatStallsIsDisconnected) {
  auto body = Body(std::string(50 * 1024 * 1024, 'c'));
  HttpServerOptions options;
  options.threads = 1;
  options.write_stall_timeout = absl::Milliseconds(500);
  ASSERT_TRUE(options.router.Handle(HttpMethod::kGet, "/crl", Fixed(body)).ok());
  ASSERT_TRUE(options.router.Handle(HttpMethod::kGet, "/small", Fixed(Body("ok"))).ok());
  StartServer(std::move(options));
  RawHttpClient client = Connect();
  ASSERT_TRUE(client.Send("GET /crl HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  // Meanwhile others are served.
  EXPECT_EQ(Get("/small").status, 200);
  const auto reading = std::chrono::steady_clock::now();
  absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
  EXPECT_FALSE(response.ok());  // reset before the 50 MB arrived...
  EXPECT_LT(std::chrono::steady_clock::now() - reading, std::chrono::seconds(2));  // ...not stuck
}

// A client that pipelines requests and never reads: each answer is small, but together they fill
// the socket buffers, and the write that waits then would hold the connection forever. It is
// reset like any stalled reader (after one to two write_stall_timeouts), whatever the size of the
// answers, while others are served meanwhile.
TEST_F(HttpServerRobustnessTest, APipeliningClientThatNeverReadsIsDisconnected) {
  HttpServerOptions options;
  options.threads = 1;
  options.write_stall_timeout = absl::Milliseconds(500);
  options.idle_timeout = absl::Seconds(30);
  ASSERT_TRUE(
      options.router.Handle(HttpMethod::kGet, "/medium", Fixed(Body(std::string(200 * 1024, 'm'))))
          .ok());
  ASSERT_TRUE(
      options.router.Handle(HttpMethod::kGet, "/small", Fixed(Body(std::string(1500, 's')))).ok());
  StartServer(std::move(options));
  // 20 MB and 12 MB of answers: more than loopback's socket buffers hold for a peer that never
  // reads. 200 KiB was under the size that alone got the guard before.
  for (const auto& [path, count] : {std::pair{"/medium", 100}, std::pair{"/small", 8000}}) {
    SCOPED_TRACE(path);
    RawHttpClient client = Connect();
    std::string requests;
    for (int i = 0; i < count; ++i) {
      absl::StrAppend(&requests, "GET ", path, " HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    ASSERT_TRUE(client.Send(requests).ok());
    std::this_thread::sleep_for(std::chrono::seconds(3));
    EXPECT_EQ(Get("/small").status, 200);
    // Reset by now: reading finds only what was buffered before, then the end. (Had the
    // connection been left open, reading would let the server go on, and the connection would
    // stay open, idle, after the last answer.)
    EXPECT_TRUE(client.WaitForClose(absl::Seconds(2)));
  }
}

TEST_F(HttpServerRobustnessTest, StopWithOpenConnectionsReturnsPromptly) {
  auto big = Body(std::string(50 * 1024 * 1024, 'd'));
  HttpServerOptions options;
  options.threads = 2;
  options.drain_timeout = absl::Milliseconds(300);
  options.router = DefaultRouter();
  ASSERT_TRUE(options.router.Handle(HttpMethod::kGet, "/big", Fixed(big)).ok());
  StartServer(std::move(options));
  std::vector<RawHttpClient> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(clients.back().Send("GET /static HTTP/1.1\r\nHost: t\r\n\r\n").ok());
    ASSERT_TRUE(clients.back().ReadResponse(kTimeout).ok());
  }
  clients.push_back(Connect());
  ASSERT_TRUE(clients.back().Send("GET /stat").ok());
  clients.push_back(Connect());
  ASSERT_TRUE(clients.back().Send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  const auto started = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  for (RawHttpClient& client : clients) EXPECT_TRUE(client.WaitForClose(kTimeout));
  EXPECT_FALSE(RawHttpClient::Connect(server_->port()).ok());
  server_->Stop();  // idempotent
}

TEST_F(HttpServerRobustnessTest, StopLetsAResponseInFlightFinish) {
  auto big = Body(std::string(8 * 1024 * 1024, 'e'));
  HttpServerOptions options;
  options.threads = 1;
  options.drain_timeout = absl::Seconds(5);
  ASSERT_TRUE(options.router.Handle(HttpMethod::kGet, "/big", Fixed(big)).ok());
  StartServer(std::move(options));
  RawHttpClient client = Connect();
  ASSERT_TRUE(client.Send("GET /big HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread stopper([this] { server_->Stop(); });
  absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
  stopper.join();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body.size(), big->size());
}

TEST(HttpServerOptionsTest, RejectsBadOptions) {
  auto with = [](auto change) {
    HttpServerOptions options;
    change(options);
    return HttpServer::New(std::move(options)).status().code();
  };
  EXPECT_EQ(with([](HttpServerOptions& o) { o.threads = -1; }), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](HttpServerOptions& o) { o.threads = 100000; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](HttpServerOptions& o) { o.bind_address = "localhost"; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](HttpServerOptions& o) { o.max_request_body = 0; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](HttpServerOptions& o) { o.idle_timeout = absl::ZeroDuration(); }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](HttpServerOptions& o) { o.listen_backlog = 0; }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](HttpServerOptions& o) { o.drain_timeout = -absl::Seconds(1); }),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerLifecycleTest, PortInUseFailsAndStartTwiceFails) {
  HttpServerOptions options;
  options.reuse_port = false;
  absl::StatusOr<std::unique_ptr<HttpServer>> first = HttpServer::New(std::move(options));
  ASSERT_TRUE(first.ok()) << first.status();
  HttpServerOptions same;
  same.reuse_port = false;
  same.port = (*first)->port();
  EXPECT_EQ(HttpServer::New(std::move(same)).status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE((*first)->Start().ok());
  EXPECT_EQ((*first)->Start().code(), absl::StatusCode::kFailedPrecondition);
  (*first)->Stop();
  EXPECT_EQ((*first)->Start().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(HttpServerLifecycleTest, NeverStartedServerIsDestroyedCleanly) {
  HttpServerOptions options;
  options.bind_address = "::1";
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::New(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_NE((*server)->port(), 0);
}

TEST(HttpServerLifecycleTest, SharedListenerServesFromEveryThread) {
  HttpServerOptions options;
  options.threads = 3;
  options.reuse_port = false;
  ASSERT_TRUE(options.router.Handle(HttpMethod::kGet, "/x", Fixed(Body("x"))).ok());
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::New(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<RawHttpClient> client = RawHttpClient::Connect((*server)->port());
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client->Send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n").ok());
    absl::StatusOr<RawResponse> response = client->ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->body, "x");
  }
}

}  // namespace
}  // namespace keyline::http
