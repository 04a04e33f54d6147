// The outbound request policy (issue #17): where the server's HTTP clients may send requests.
// Every outbound client (webhook outbox, channel reply senders, and every provider client added
// later) goes through one integrations::HttpClient whose concrete implementation
// (server/beast_http_client.cpp) enforces this policy; tenant-supplied URLs are checked with it
// when they are saved. docs/security.md "Outbound requests" is the operator's view.
//
// The rules, with the default configuration:
//   - only https:// (http:// when the operator sets outbound.allow_http);
//   - the destination address, after DNS resolution and again for the socket actually
//     connected, must be a public unicast address: loopback, unspecified, link-local (incl.
//     169.254.169.254, fe80::/10), private (RFC 1918, 100.64.0.0/10 shared, fc00::/7),
//     multicast and reserved ranges are refused, as are their IPv4-mapped (::ffff:0:0/96),
//     NAT64 (64:ff9b::/96) and 6to4 (2002::/16) IPv6 forms;
//   - outbound.allow_loopback lets loopback through (tests, single-host setups);
//     outbound.allow_networks lists CIDR networks let through whatever their class, except
//     unspecified and multicast addresses, which are never a destination.
// Operators set these in the TOML config; tenants cannot change them.
//
// Everything here except SystemResolver is pure. Thread safety: OutboundPolicy is immutable
// after construction and safe to share; SystemResolver is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace opsbox::integrations {

// The rule named in errors for a destination the policy refuses (422 at save time; the
// dead-letter reason at delivery).
inline constexpr std::string_view kForbiddenDestination = "forbidden_destination";
// The rule named when a URL uses http:// and outbound.allow_http is off.
inline constexpr std::string_view kHttpsRequired = "https_required";

// An IPv4 or IPv6 address. IPv4 is held in its IPv4-mapped form ::ffff:a.b.c.d with v4 set.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;

  static IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  std::string ToString() const;  // dotted quad or RFC 5952 text
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// A literal address: dotted IPv4 in every form the system resolver accepts ("127.1",
// "0x7f.0.0.1", "2130706433": inet_aton), or IPv6 text with or without [brackets]. Returns
// nothing for a name.
std::optional<IpAddress> ParseIpLiteral(std::string_view host);

struct IpNetwork {
  IpAddress base;       // host bits cleared
  int prefix_bits = 0;  // 0..32 for IPv4, 0..128 for IPv6
  bool Contains(const IpAddress& address) const;
  std::string ToString() const;
};

// "10.20.0.0/16", "fd00::/8"; a bare address is a /32 or /128. Host bits must be zero.
// Error: field `field`, rule "cidr".
Result<IpNetwork> ParseIpNetwork(std::string_view text, std::string_view field);

enum class AddressClass {
  kPublic,
  kUnspecified,
  kLoopback,
  kLinkLocal,
  kPrivate,
  kMulticast,
  kReserved,
};

struct Classification {
  AddressClass address_class = AddressClass::kPublic;
  std::string_view range;  // e.g. "169.254.0.0/16 link-local (RFC 3927)"; empty when public
};

// Pure: which special-purpose range (IANA registries) the address is in. IPv6 forms that embed
// an IPv4 address are classified by the embedded address.
Classification Classify(const IpAddress& address);

// A URL the policy understands: http(s)://host[:port][/path][?query], no user info.
struct OutboundUrl {
  bool https = false;
  std::string host;         // without brackets
  uint16_t port = 0;        // the explicit port or the scheme's default
  std::string host_header;  // the authority as written, sent as Host
  std::string target;       // path and query, "/" at least (no fragment)
};

inline constexpr size_t kOutboundUrlBytesMax = 8192;

// Errors name `field` with rule "format" (scheme, characters, port, user info, length) or
// "host_required".
Result<OutboundUrl> ParseOutboundUrl(std::string_view url, std::string_view field);

struct OutboundPolicyOptions {
  bool allow_http = false;                  // outbound.allow_http
  bool allow_loopback = false;              // outbound.allow_loopback
  std::vector<IpNetwork> allow_networks{};  // outbound.allow_networks
};

class OutboundPolicy {
 public:
  OutboundPolicy() = default;  // the default: https only, public addresses only
  explicit OutboundPolicy(OutboundPolicyOptions options) : options_(std::move(options)) {}

  const OutboundPolicyOptions& options() const { return options_; }

  // https, or http when allowed. Error: field `field`, rule kHttpsRequired.
  Status CheckScheme(bool https, std::string_view field) const;
  // Error: field `field`, rule kForbiddenDestination, the message names the address and range.
  Status CheckAddress(const IpAddress& address, std::string_view field) const;
  // What can be decided when a URL is saved: its form, scheme, and a host that is a literal
  // address or a name reserved for loopback ("localhost", "*.localhost", RFC 6761). Names are
  // checked again after resolution, at delivery.
  Status CheckUrl(std::string_view url, std::string_view field) const;

 private:
  OutboundPolicyOptions options_;
};

// Name resolution behind an interface, so tests control what a name resolves to (rebinding,
// names of forbidden addresses). Thread-safe.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // Every address of `host` (A and AAAA). A failed lookup is kUnavailable.
  virtual Result<std::vector<IpAddress>> Resolve(const std::string& host) = 0;
};

// getaddrinfo(3). A lookup cannot be interrupted: a slow DNS server holds the caller.
class SystemResolver final : public Resolver {
 public:
  Result<std::vector<IpAddress>> Resolve(const std::string& host) override;
};

}  // namespace opsbox::integrations
