// Goal: the outbound request policy (issue #17) refuses every forbidden range, IPv4 and IPv6,
// in every literal spelling the system resolver would accept and in the IPv6 forms that embed
// an IPv4 address, lets public addresses through, and honours exactly the operator's
// exceptions (allow_http, allow_loopback, allow_networks). Pure: nothing here opens a socket.
#include "integrations/outbound_policy.hpp"

#include <gtest/gtest.h>

namespace opsbox::integrations {
namespace {

IpAddress Ip(std::string_view text) {
  auto a = ParseIpLiteral(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

IpNetwork Net(std::string_view text) {
  auto n = ParseIpNetwork(text, "test");
  EXPECT_TRUE(n.ok()) << text;
  return n.ok() ? *n : IpNetwork{};
}

struct Case {
  const char* address;
  AddressClass expected;
};

// One address at each edge of every special-purpose range, and its neighbours outside.
const Case kCases[] = {
    {"0.0.0.0", AddressClass::kUnspecified},
    {"0.255.255.255", AddressClass::kUnspecified},
    {"10.0.0.0", AddressClass::kPrivate},
    {"10.255.255.255", AddressClass::kPrivate},
    {"11.0.0.0", AddressClass::kPublic},
    {"100.63.255.255", AddressClass::kPublic},
    {"100.64.0.0", AddressClass::kPrivate},
    {"100.127.255.255", AddressClass::kPrivate},
    {"100.128.0.0", AddressClass::kPublic},
    {"127.0.0.1", AddressClass::kLoopback},
    {"127.255.255.254", AddressClass::kLoopback},
    {"169.254.169.254", AddressClass::kLinkLocal},
    {"169.254.0.1", AddressClass::kLinkLocal},
    {"169.255.0.0", AddressClass::kPublic},
    {"172.15.255.255", AddressClass::kPublic},
    {"172.16.0.0", AddressClass::kPrivate},
    {"172.31.255.255", AddressClass::kPrivate},
    {"172.32.0.0", AddressClass::kPublic},
    {"192.0.0.8", AddressClass::kReserved},
    {"192.0.2.1", AddressClass::kReserved},
    {"192.88.99.1", AddressClass::kReserved},
    {"192.167.255.255", AddressClass::kPublic},
    {"192.168.0.1", AddressClass::kPrivate},
    {"192.168.255.255", AddressClass::kPrivate},
    {"192.169.0.0", AddressClass::kPublic},
    {"198.18.0.1", AddressClass::kReserved},
    {"198.19.255.255", AddressClass::kReserved},
    {"198.20.0.0", AddressClass::kPublic},
    {"198.51.100.7", AddressClass::kReserved},
    {"203.0.113.9", AddressClass::kReserved},
    {"224.0.0.1", AddressClass::kMulticast},
    {"239.255.255.255", AddressClass::kMulticast},
    {"240.0.0.1", AddressClass::kReserved},
    {"255.255.255.255", AddressClass::kReserved},
    {"8.8.8.8", AddressClass::kPublic},
    {"223.255.255.255", AddressClass::kPublic},
    {"::", AddressClass::kUnspecified},
    {"::1", AddressClass::kLoopback},
    {"fe80::1", AddressClass::kLinkLocal},
    {"febf:ffff::1", AddressClass::kLinkLocal},
    {"fc00::1", AddressClass::kPrivate},
    {"fdff:ffff::1", AddressClass::kPrivate},
    {"ff02::1", AddressClass::kMulticast},
    {"2001:db8::1", AddressClass::kReserved},
    {"2001::1", AddressClass::kReserved},  // Teredo
    {"3fff::1", AddressClass::kReserved},
    {"fec0::1", AddressClass::kReserved},    // deprecated site-local, outside 2000::/3
    {"100::1", AddressClass::kReserved},     // discard-only
    {"::0.0.0.2", AddressClass::kReserved},  // deprecated IPv4-compatible
    {"2606:4700::1111", AddressClass::kPublic},
    {"2a00:1450::1", AddressClass::kPublic},
    // IPv6 forms that embed an IPv4 address are classified by it.
    {"::ffff:127.0.0.1", AddressClass::kLoopback},
    {"::ffff:169.254.169.254", AddressClass::kLinkLocal},
    {"::ffff:10.1.2.3", AddressClass::kPrivate},
    {"::ffff:0.0.0.0", AddressClass::kUnspecified},
    {"::ffff:224.0.0.1", AddressClass::kMulticast},
    {"::ffff:8.8.8.8", AddressClass::kPublic},
    {"64:ff9b::a9fe:a9fe", AddressClass::kLinkLocal},  // NAT64 of 169.254.169.254
    {"64:ff9b::808:808", AddressClass::kPublic},
    {"2002:7f00:1::", AddressClass::kLoopback},    // 6to4 of 127.0.0.1
    {"2002:c0a8:101::1", AddressClass::kPrivate},  // 6to4 of 192.168.1.1
};

TEST(OutboundPolicy, ClassifiesEveryRangeAtItsEdges) {
  for (const auto& c : kCases) {
    const Classification got = Classify(Ip(c.address));
    EXPECT_EQ(got.address_class, c.expected) << c.address << " " << got.range;
    EXPECT_EQ(got.range.empty(), c.expected == AddressClass::kPublic) << c.address;
  }
}

TEST(OutboundPolicy, DefaultPolicyRefusesEveryForbiddenLiteralInAUrlAndNamesTheRule) {
  const OutboundPolicy policy;
  for (const auto& c : kCases) {
    std::string host = c.address;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    const std::string url = "https://" + host + ":8443/hook";
    const Status st = policy.CheckUrl(url, "url");
    if (c.expected == AddressClass::kPublic) {
      EXPECT_TRUE(st.ok()) << url << " " << st.error().ToString();
      continue;
    }
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(st.error().field, "url") << url;
    EXPECT_EQ(st.error().rule, "forbidden_destination") << url;
  }
}

TEST(OutboundPolicy, RefusesLoopbackInEverySpellingTheResolverAccepts) {
  const OutboundPolicy policy;
  for (const char* url :
       {"https://127.1/", "https://0x7f000001/", "https://2130706433/", "https://0177.0.0.1/",
        "https://0x7f.0.0.1/", "https://[::ffff:7f00:1]/", "https://[0:0:0:0:0:0:0:1]/",
        "https://0/", "https://localhost/", "https://LOCALHOST./", "https://api.localhost/",
        "https://169.254.169.254/latest/meta-data/"}) {
    const Status st = policy.CheckUrl(url, "settings.api_base_url");
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().rule, "forbidden_destination") << url;
    EXPECT_EQ(st.error().field, "settings.api_base_url") << url;
  }
}

TEST(OutboundPolicy, AcceptsPublicNamesAndAddressesOverHttps) {
  const OutboundPolicy policy;
  for (const char* url : {"https://crm.example.com/hooks", "https://8.8.8.8/x",
                          "https://[2606:4700::1111]:8443/", "https://localhost.example.com/"}) {
    const Status st = policy.CheckUrl(url, "url");
    EXPECT_TRUE(st.ok()) << url << " " << st.error().ToString();
  }
}

TEST(OutboundPolicy, RefusesPlainHttpUnlessTheOperatorAllowsIt) {
  const Status refused = OutboundPolicy().CheckUrl("http://crm.example.com/", "url");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().rule, "https_required");
  OutboundPolicyOptions o;
  o.allow_http = true;
  EXPECT_TRUE(OutboundPolicy(o).CheckUrl("http://crm.example.com/", "url").ok());
}

TEST(OutboundPolicy, AllowLoopbackLetsLoopbackThroughAndNothingElse) {
  OutboundPolicyOptions o;
  o.allow_loopback = true;
  const OutboundPolicy policy(o);
  EXPECT_TRUE(policy.CheckAddress(Ip("127.0.0.1"), "url").ok());
  EXPECT_TRUE(policy.CheckAddress(Ip("::1"), "url").ok());
  EXPECT_TRUE(policy.CheckAddress(Ip("::ffff:127.0.0.1"), "url").ok());
  EXPECT_TRUE(policy.CheckUrl("https://localhost:9/", "url").ok());
  EXPECT_FALSE(policy.CheckAddress(Ip("10.0.0.1"), "url").ok());
  EXPECT_FALSE(policy.CheckAddress(Ip("169.254.169.254"), "url").ok());
  EXPECT_FALSE(policy.CheckAddress(Ip("0.0.0.0"), "url").ok());
}

TEST(OutboundPolicy, AllowNetworksLetsExactlyTheNamedNetworkThrough) {
  OutboundPolicyOptions o;
  o.allow_networks = {Net("10.20.0.0/16"), Net("fd00:1::/32")};
  const OutboundPolicy policy(o);
  EXPECT_TRUE(policy.CheckAddress(Ip("10.20.0.0"), "url").ok());
  EXPECT_TRUE(policy.CheckAddress(Ip("10.20.255.255"), "url").ok());
  EXPECT_TRUE(policy.CheckAddress(Ip("::ffff:10.20.1.1"), "url").ok());
  EXPECT_FALSE(policy.CheckAddress(Ip("10.21.0.0"), "url").ok());
  EXPECT_FALSE(policy.CheckAddress(Ip("10.19.255.255"), "url").ok());
  EXPECT_TRUE(policy.CheckAddress(Ip("fd00:1:ffff::1"), "url").ok());
  EXPECT_FALSE(policy.CheckAddress(Ip("fd00:2::1"), "url").ok());
  EXPECT_FALSE(policy.CheckAddress(Ip("127.0.0.1"), "url").ok());
}

TEST(OutboundPolicy, UnspecifiedAndMulticastAreNeverAllowed) {
  OutboundPolicyOptions o;
  o.allow_loopback = true;
  o.allow_networks = {Net("0.0.0.0/0"), Net("::/0")};
  const OutboundPolicy policy(o);
  EXPECT_TRUE(policy.CheckAddress(Ip("10.0.0.1"), "url").ok());
  for (const char* a : {"0.0.0.0", "::", "224.0.0.1", "ff02::1", "::ffff:0.0.0.0"}) {
    const Status st = policy.CheckAddress(Ip(a), "url");
    ASSERT_FALSE(st.ok()) << a;
    EXPECT_NE(st.error().message.find("never"), std::string::npos) << st.error().message;
  }
}

TEST(OutboundPolicy, ForbiddenMessageNamesTheAddressAndTheRange) {
  const Status st = OutboundPolicy().CheckAddress(Ip("169.254.169.254"), "url");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("169.254.169.254"), std::string::npos);
  EXPECT_NE(st.error().message.find("169.254.0.0/16"), std::string::npos);
}

TEST(OutboundPolicy, ParsesNetworksStrictly) {
  EXPECT_EQ(Net("10.20.0.0/16").prefix_bits, 16);
  EXPECT_EQ(Net("10.20.0.0/16").ToString(), "10.20.0.0/16");
  EXPECT_EQ(Net("fd00::/8").ToString(), "fd00::/8");
  EXPECT_EQ(Net("10.0.0.1").prefix_bits, 32);
  EXPECT_EQ(Net("0.0.0.0/0").prefix_bits, 0);
  EXPECT_EQ(Net("::/128").prefix_bits, 128);
  for (const char* bad :
       {"10.20.0.0/33", "10.20.0.1/16", "10.20/16", "10.20.0.0/", "x/8", "fd00::/129",
        "10.0.0.0/-1", "10.0.0.0/8x", "", "127.1/32", "10.0.0.0/0"}) {
    auto n = ParseIpNetwork(bad, "outbound.allow_networks");
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_EQ(n.error().field, "outbound.allow_networks");
    EXPECT_EQ(n.error().rule, "cidr");
  }
}

TEST(OutboundPolicy, ParsesUrlsIntoHostPortAndTarget) {
  auto u = ParseOutboundUrl("https://[::1]:8443/a?b=1#frag", "url");
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->host_header, "[::1]:8443");
  EXPECT_EQ(u->target, "/a?b=1");
  auto plain = ParseOutboundUrl("http://h.example?x", "url");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/?x");
  for (const char* bad : {"ftp://h/", "HTTP://h/", "http://h:0/", "http://h:65536/", "http://h:/",
                          "http://u@h/", "http://[::1/", "http://h/a b", "no-scheme"}) {
    auto r = ParseOutboundUrl(bad, "url");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().rule, "format") << bad;
  }
  EXPECT_EQ(ParseOutboundUrl("http:///x", "url").error().rule, "host_required");
  const std::string at_limit = "https://h/" + std::string(kOutboundUrlBytesMax - 10, 'p');
  EXPECT_TRUE(ParseOutboundUrl(at_limit, "url").ok());
  EXPECT_EQ(ParseOutboundUrl(at_limit + "p", "url").error().rule, "format");
}

TEST(OutboundPolicy, ZoneIdsAndJunkIPv6HostsAreMalformed) {
  const Status st = OutboundPolicy().CheckUrl("https://[fe80::1%25eth0]/", "url");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().rule, "format");
}

}  // namespace
}  // namespace opsbox::integrations
