#include "integrations/outbound_policy.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/assert.hpp"

namespace opsbox::integrations {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
constexpr std::array<uint8_t, 12> kNat64Prefix = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

bool HasPrefix12(const IpAddress& a, const std::array<uint8_t, 12>& prefix) {
  return std::equal(prefix.begin(), prefix.end(), a.bytes.begin());
}

struct Range {
  IpNetwork network;
  Classification classification;
};

// The special-purpose ranges, from the IANA IPv4 and IPv6 Special-Purpose Address Registries.
// Parses a table of CIDR literals (all valid: they are constants) into ranges.
template <size_t N>
std::vector<Range> CompileRanges(const std::pair<const char*, Classification> (&table)[N]) {
  std::vector<Range> out;
  for (const auto& [cidr, c] : table) {
    auto n = ParseIpNetwork(cidr, "range");
    OPSBOX_ASSERT(n.ok());
    out.push_back({*n, c});
  }
  return out;
}

const std::vector<Range>& V4Ranges() {
  static const std::vector<Range> kRanges = [] {
    const std::pair<const char*, Classification> table[] = {
        {"0.0.0.0/8", {AddressClass::kUnspecified, "0.0.0.0/8 \"this network\" (RFC 791)"}},
        {"10.0.0.0/8", {AddressClass::kPrivate, "10.0.0.0/8 private (RFC 1918)"}},
        {"100.64.0.0/10",
         {AddressClass::kPrivate, "100.64.0.0/10 shared address space (RFC 6598)"}},
        {"127.0.0.0/8", {AddressClass::kLoopback, "127.0.0.0/8 loopback"}},
        {"169.254.0.0/16",
         {AddressClass::kLinkLocal, "169.254.0.0/16 link-local, cloud metadata (RFC 3927)"}},
        {"172.16.0.0/12", {AddressClass::kPrivate, "172.16.0.0/12 private (RFC 1918)"}},
        {"192.0.0.0/24",
         {AddressClass::kReserved, "192.0.0.0/24 IETF protocol assignments (RFC 6890)"}},
        {"192.0.2.0/24", {AddressClass::kReserved, "192.0.2.0/24 documentation (RFC 5737)"}},
        {"192.88.99.0/24", {AddressClass::kReserved, "192.88.99.0/24 6to4 relay (RFC 7526)"}},
        {"192.168.0.0/16", {AddressClass::kPrivate, "192.168.0.0/16 private (RFC 1918)"}},
        {"198.18.0.0/15", {AddressClass::kReserved, "198.18.0.0/15 benchmarking (RFC 2544)"}},
        {"198.51.100.0/24", {AddressClass::kReserved, "198.51.100.0/24 documentation (RFC 5737)"}},
        {"203.0.113.0/24", {AddressClass::kReserved, "203.0.113.0/24 documentation (RFC 5737)"}},
        {"224.0.0.0/4", {AddressClass::kMulticast, "224.0.0.0/4 multicast"}},
        {"240.0.0.0/4", {AddressClass::kReserved, "240.0.0.0/4 reserved, broadcast (RFC 1112)"}},
    };
    return CompileRanges(table);
  }();
  return kRanges;
}

// IPv6 ranges inside 2000::/3 (global unicast) that are not public, then the rest of the space.
const std::vector<Range>& V6Ranges() {
  static const std::vector<Range> kRanges = [] {
    const std::pair<const char*, Classification> table[] = {
        {"::/128", {AddressClass::kUnspecified, "::/128 unspecified"}},
        {"::1/128", {AddressClass::kLoopback, "::1/128 loopback"}},
        {"fe80::/10", {AddressClass::kLinkLocal, "fe80::/10 link-local"}},
        {"fc00::/7", {AddressClass::kPrivate, "fc00::/7 unique local (RFC 4193)"}},
        {"ff00::/8", {AddressClass::kMulticast, "ff00::/8 multicast"}},
        {"2001:db8::/32", {AddressClass::kReserved, "2001:db8::/32 documentation (RFC 3849)"}},
        {"2001::/23",
         {AddressClass::kReserved, "2001::/23 IETF protocol assignments, Teredo (RFC 2928)"}},
        {"3fff::/20", {AddressClass::kReserved, "3fff::/20 documentation (RFC 9637)"}},
    };
    return CompileRanges(table);
  }();
  return kRanges;
}

Classification ClassifyV4(const IpAddress& a) {
  for (const auto& r : V4Ranges()) {
    if (r.network.Contains(a)) return r.classification;
  }
  return {};
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// RFC 6761: "localhost" and names under it resolve to loopback.
bool IsLocalhostName(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  constexpr std::string_view kSuffix = ".localhost";
  return IEquals(host, "localhost") ||
         (host.size() > kSuffix.size() &&
          IEquals(host.substr(host.size() - kSuffix.size()), kSuffix));
}

}  // namespace

IpAddress IpAddress::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress out;
  std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), out.bytes.begin());
  out.bytes[12] = a;
  out.bytes[13] = b;
  out.bytes[14] = c;
  out.bytes[15] = d;
  out.v4 = true;
  return out;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (v4) {
    inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  }
  return text;
}

std::optional<IpAddress> ParseIpLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() >= 64) return std::nullopt;
  const std::string text(host);
  IpAddress out;
  if (text.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, text.c_str(), out.bytes.data()) != 1) return std::nullopt;
    return out;
  }
  in_addr v4{};
  // inet_aton, not inet_pton: getaddrinfo accepts "127.1" and "0x7f000001" as addresses too.
  if (inet_aton(text.c_str(), &v4) == 0) return std::nullopt;
  uint8_t b[4];
  std::memcpy(b, &v4.s_addr, 4);
  return IpAddress::V4(b[0], b[1], b[2], b[3]);
}

bool IpNetwork::Contains(const IpAddress& address) const {
  const int bits = base.v4 ? 96 + prefix_bits : prefix_bits;
  for (int i = 0; i < 16; ++i) {
    const int take = std::clamp(bits - i * 8, 0, 8);
    const auto mask = static_cast<uint8_t>(0xff00 >> take);
    if ((address.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

std::string IpNetwork::ToString() const {
  return base.ToString() + "/" + std::to_string(prefix_bits);
}

Result<IpNetwork> ParseIpNetwork(std::string_view text, std::string_view field) {
  auto bad = [&](std::string why) {
    return Error::Invalid(
        std::string(field), "cidr",
        std::string(field) + ": \"" + std::string(text.substr(0, 64)) + "\" " + why);
  };
  const size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  IpNetwork n;
  in_addr v4{};
  if (address.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, address.c_str(), n.base.bytes.data()) != 1) {
      return bad("is not an IPv6 network");
    }
  } else if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    uint8_t b[4];
    std::memcpy(b, &v4.s_addr, 4);
    n.base = IpAddress::V4(b[0], b[1], b[2], b[3]);
  } else {
    return bad("is not an IPv4 or IPv6 network (ADDRESS/PREFIX)");
  }
  const int max_bits = n.base.v4 ? 32 : 128;
  n.prefix_bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int bits = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || bits < 0 ||
        bits > max_bits) {
      return bad("needs a prefix length from 0 to " + std::to_string(max_bits));
    }
    n.prefix_bits = bits;
  }
  IpNetwork masked = n;
  const int bits = n.base.v4 ? 96 + n.prefix_bits : n.prefix_bits;
  for (int i = 0; i < 16; ++i) {
    const int take = std::clamp(bits - i * 8, 0, 8);
    masked.base.bytes[i] &= static_cast<uint8_t>(0xff00 >> take);
  }
  if (masked.base.bytes != n.base.bytes) return bad("has bits set after the prefix");
  return n;
}

Classification Classify(const IpAddress& a) {
  if (HasPrefix12(a, kMappedPrefix)) return ClassifyV4(a);
  if (HasPrefix12(a, kNat64Prefix)) {
    return ClassifyV4(IpAddress::V4(a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]));
  }
  if (a.bytes[0] == 0x20 && a.bytes[1] == 0x02) {  // 2002::/16 6to4 embeds an IPv4 address
    return ClassifyV4(IpAddress::V4(a.bytes[2], a.bytes[3], a.bytes[4], a.bytes[5]));
  }
  for (const auto& r : V6Ranges()) {
    if (r.network.Contains(a)) return r.classification;
  }
  if ((a.bytes[0] & 0xe0) != 0x20) {
    return {AddressClass::kReserved, "outside 2000::/3 global unicast (reserved)"};
  }
  return {};
}

Status OutboundPolicy::CheckScheme(bool https, std::string_view field) const {
  if (https || options_.allow_http) return Ok();
  return Error::Invalid(std::string(field), std::string(kHttpsRequired),
                        std::string(field) +
                            " must use https:// (plain http:// only where the operator sets "
                            "outbound.allow_http)");
}

Status OutboundPolicy::CheckAddress(const IpAddress& address, std::string_view field) const {
  const Classification c = Classify(address);
  const bool never =
      c.address_class == AddressClass::kUnspecified || c.address_class == AddressClass::kMulticast;
  if (!never) {
    if (c.address_class == AddressClass::kPublic) return Ok();
    if (c.address_class == AddressClass::kLoopback && options_.allow_loopback) return Ok();
    for (const auto& n : options_.allow_networks) {
      if (n.Contains(address)) return Ok();
    }
  }
  return Error::Invalid(
      std::string(field), std::string(kForbiddenDestination),
      std::string(field) + ": destination " + address.ToString() + " is in " +
          std::string(c.range) +
          (never ? ", which is never a destination"
                 : ", which the outbound policy forbids (the operator may allow it with "
                   "outbound.allow_networks)"));
}

Status OutboundPolicy::CheckUrl(std::string_view url, std::string_view field) const {
  OPSBOX_ASSIGN_OR_RETURN(OutboundUrl parsed, ParseOutboundUrl(url, field));
  OPSBOX_TRY(CheckScheme(parsed.https, field));
  if (auto literal = ParseIpLiteral(parsed.host)) return CheckAddress(*literal, field);
  if (parsed.host.find(':') != std::string::npos) {
    return Error::Invalid(std::string(field), "format", std::string(field) + ": bad IPv6 host");
  }
  if (IsLocalhostName(parsed.host) && !options_.allow_loopback) {
    return Error::Invalid(std::string(field), std::string(kForbiddenDestination),
                          std::string(field) + ": " + parsed.host +
                              " names the loopback network (RFC 6761), which the outbound "
                              "policy forbids");
  }
  return Ok();
}

Result<OutboundUrl> ParseOutboundUrl(std::string_view url, std::string_view field) {
  const std::string f(field);
  auto bad = [&](std::string why) { return Error::Invalid(f, "format", f + " " + why); };
  if (url.size() > kOutboundUrlBytesMax) {
    return bad("is longer than " + std::to_string(kOutboundUrlBytesMax) + " bytes");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) {
      return bad("must be printable ASCII without spaces (percent-encode the rest)");
    }
  }
  OutboundUrl out;
  size_t rest = 0;
  if (url.starts_with("https://")) {
    out.https = true;
    rest = 8;
  } else if (url.starts_with("http://")) {
    rest = 7;
  } else {
    return bad("must start with http:// or https://");
  }
  const size_t authority_end = url.find_first_of("/?#", rest);
  const std::string_view authority = url.substr(rest, authority_end - rest);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : url.substr(authority_end);
  target = target.substr(0, target.find('#'));
  if (authority.find('@') != std::string_view::npos) return bad("must not carry user:password@");
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("has a bad IPv6 host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return bad("has a bad IPv6 host");
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return Error::Invalid(f, "host_required", f + " must name a host");
  out.port = out.https ? 443 : 80;
  if (has_port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      return bad("port must be 1..65535");
    }
    out.port = static_cast<uint16_t>(value);
  }
  out.host.assign(host);
  out.host_header.assign(authority);
  out.target.assign(target.empty() || target.front() != '/' ? "/" : "");
  out.target.append(target);
  return out;
}

Result<std::vector<IpAddress>> SystemResolver::Resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    return Error::Unavailable("resolve " + host + ": " + gai_strerror(rc));
  }
  std::vector<IpAddress> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    IpAddress a;
    if (ai->ai_family == AF_INET) {
      uint8_t b[4];
      std::memcpy(b, &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
      a = IpAddress::V4(b[0], b[1], b[2], b[3]);
    } else if (ai->ai_family == AF_INET6) {
      std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr,
                  16);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  freeaddrinfo(list);
  if (out.empty()) return Error::Unavailable("resolve " + host + ": no address");
  return out;
}

}  // namespace opsbox::integrations
