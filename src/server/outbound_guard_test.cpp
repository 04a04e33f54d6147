// Goal: BeastHttpClient refuses every forbidden range that is not loopback (issue #17), IPv4 and
// IPv6, written as a literal in the url and reached by name through a resolver the test
// controls, before it opens a socket; and the operator's allow_networks lets exactly its
// network through, all the way to a real server.
//
// This binary names addresses other than loopback, so it runs only inside a network namespace
// of its own with loopback up and 10.20.0.5 added to it (src/server/CMakeLists.txt: `unshare
// -rn`): a guard that failed could not send a packet off the machine. Every test fails at once
// anywhere else.
#include <gtest/gtest.h>
#include <net/if.h>

#include <string>
#include <vector>

#include "api/problem.hpp"
#include "integrations/testing/scripted_resolver.hpp"
#include "server/beast_http_client.hpp"
#include "server/http_server.hpp"

namespace opsbox::server {
namespace {

using integrations::testing::ScriptedResolver;

// The interfaces of this network namespace, by name.
std::vector<std::string> Interfaces() {
  std::vector<std::string> out;
  struct if_nameindex* list = if_nameindex();
  for (struct if_nameindex* i = list; i != nullptr && i->if_index != 0; ++i)
    out.push_back(i->if_name);
  if (list != nullptr) if_freenameindex(list);
  return out;
}

class OutboundGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Interfaces(), std::vector<std::string>{"lo"})
        << "this test names non-loopback addresses and runs only in a network namespace with "
           "loopback alone (unshare -rn)";
  }
};

// Addresses of every forbidden range except loopback (beast_http_client_test.cpp has those).
const char* const kForbidden[] = {
    "0.0.0.0",
    "10.0.0.8",
    "10.255.255.255",
    "100.64.0.9",
    "100.127.255.254",
    "169.254.169.254",
    "169.254.0.1",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.20",
    "192.0.0.8",
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.1.2.3",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "fe80::8",
    "fc00::1",
    "fd00::8",
    "ff02::1",
    "2001:db8::1",
    "::ffff:10.0.0.8",
    "::ffff:169.254.169.254",
    "::ffff:192.168.1.20",
    "64:ff9b::a9fe:a9fe",
    "2002:a00:8::1",
    "fec0::1",
};

std::string Bracketed(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

TEST_F(OutboundGuardTest, EveryForbiddenLiteralIsRefusedBeforeConnecting) {
  // Even with plain http and loopback allowed: none of these is loopback.
  BeastHttpClient client(
      integrations::OutboundPolicy({.allow_http = true, .allow_loopback = true}));
  for (const std::string address : kForbidden) {
    for (const char* scheme : {"http://", "https://"}) {
      integrations::OutboundRequest request;
      request.url = scheme + Bracketed(address) + ":8443/hook";
      auto response = client.Send(request);
      ASSERT_FALSE(response.ok()) << request.url;
      EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << request.url;
      EXPECT_EQ(response.error().rule, "forbidden_destination")
          << request.url << ": " << response.error().message;
    }
  }
}

TEST_F(OutboundGuardTest, EveryNameResolvingToAForbiddenAddressIsRefusedBeforeConnecting) {
  for (const std::string address : kForbidden) {
    auto ip = integrations::ParseIpLiteral(address);
    ASSERT_TRUE(ip.has_value()) << address;
    ScriptedResolver resolver({{*ip}});
    BeastHttpClient client(integrations::OutboundPolicy(), &resolver);
    integrations::OutboundRequest request;
    request.url = "https://crm.example.test/hook";
    auto response = client.Send(request);
    ASSERT_FALSE(response.ok()) << address;
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << address;
    EXPECT_EQ(response.error().rule, "forbidden_destination") << address;
    EXPECT_NE(response.error().message.find(ip->ToString()), std::string::npos)
        << response.error().message;
    EXPECT_EQ(resolver.lookups(), 1u);
  }
}

TEST_F(OutboundGuardTest, AllowNetworksLetsExactlyItsNetworkThroughToARealServer) {
  api::Router router;
  api::Route hook;
  hook.method = "POST";
  hook.pattern = "/hook";
  hook.access = api::Access::kPublic;
  hook.handler = [](api::HttpRequest&, api::Respond respond) {
    respond(api::JsonResponse(200, "{}"));
  };
  router.Add(std::move(hook));
  Metrics metrics;
  HttpServerOptions options;
  options.host = "10.20.0.5";  // added to lo by the test's namespace
  options.port = 0;
  HttpServer server(options, router, metrics);
  ASSERT_TRUE(server.Start().ok()) << "run inside the namespace set up by CMake (10.20.0.5 on lo)";
  const std::string port = std::to_string(server.port());

  auto network = integrations::ParseIpNetwork("10.20.0.0/16", "outbound.allow_networks");
  ASSERT_TRUE(network.ok());
  ScriptedResolver resolver({{*integrations::ParseIpLiteral("10.20.0.5")}});
  BeastHttpClient client(
      integrations::OutboundPolicy({.allow_http = true, .allow_networks = {*network}}), &resolver);
  integrations::OutboundRequest request;
  request.url = "http://crm.bank.internal:" + port + "/hook";
  auto response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);

  for (const char* outside : {"10.21.0.5", "10.19.255.255", "192.168.1.20", "169.254.169.254"}) {
    ScriptedResolver other({{*integrations::ParseIpLiteral(outside)}});
    BeastHttpClient same_policy(
        integrations::OutboundPolicy({.allow_http = true, .allow_networks = {*network}}), &other);
    auto refused = same_policy.Send(request);
    ASSERT_FALSE(refused.ok()) << outside;
    EXPECT_EQ(refused.error().rule, "forbidden_destination") << outside;
  }
  server.Stop();
}

}  // namespace
}  // namespace opsbox::server
