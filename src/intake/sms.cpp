// SMS (issue #14), pure: segment counting (3GPP TS 23.038 GSM 7-bit default alphabet and its
// extension table, else UCS-2) and the opt-out keywords. Twilio's SMS forms are parsed in
// adapters.cpp beside the voice ones.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "intake/adapters.hpp"
#include "intake/intake.hpp"

namespace opsbox::intake {
namespace {

// The GSM 7-bit default alphabet (one septet each), as Unicode code points.
constexpr char32_t kGsmBasic[] = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò',  U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å',
    U'å', U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ',  U'Σ', U'Θ',  U'Ξ', U'Æ', U'æ',  U'ß',
    U'É', U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')',  U'*', U'+', U',',  U'-',
    U'.', U'/', U'0', U'1', U'2', U'3', U'4', U'5', U'6',  U'7', U'8',  U'9', U':', U';',  U'<',
    U'=', U'>', U'?', U'¡', U'A', U'B', U'C', U'D', U'E',  U'F', U'G',  U'H', U'I', U'J',  U'K',
    U'L', U'M', U'N', U'O', U'P', U'Q', U'R', U'S', U'T',  U'U', U'V',  U'W', U'X', U'Y',  U'Z',
    U'Ä', U'Ö', U'Ñ', U'Ü', U'§', U'¿', U'a', U'b', U'c',  U'd', U'e',  U'f', U'g', U'h',  U'i',
    U'j', U'k', U'l', U'm', U'n', U'o', U'p', U'q', U'r',  U's', U't',  U'u', U'v', U'w',  U'x',
    U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à'};
// The extension table: an escape septet plus one, so two septets each.
constexpr char32_t kGsmExtension[] = {U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

// Decodes UTF-8 (already checked well-formed by the caller's IsUtf8) into code points.
std::u32string CodePoints(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + n > s.size()) n = s.size() - i;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

bool In(const char32_t* begin, const char32_t* end, char32_t c) {
  return std::find(begin, end, c) != end;
}

// Fills segments of `per_segment` units with items of 1 or 2 units, never splitting an item
// (an escape pair, a surrogate pair) across two segments.
int64_t Pack(const std::vector<int>& units, int single, int per_segment) {
  int64_t total = 0;
  for (int u : units) total += u;
  if (total == 0) return 0;
  if (total <= single) return 1;
  int64_t segments = 1, used = 0;
  for (int u : units) {
    if (used + u > per_segment) {
      ++segments;
      used = 0;
    }
    used += u;
  }
  return segments;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

}  // namespace

SmsSegments CountSmsSegments(std::string_view text) {
  const std::u32string cps = CodePoints(text);
  bool gsm = true;
  for (char32_t c : cps) {
    if (!In(std::begin(kGsmBasic), std::end(kGsmBasic), c) &&
        !In(std::begin(kGsmExtension), std::end(kGsmExtension), c)) {
      gsm = false;
      break;
    }
  }
  std::vector<int> units;
  units.reserve(cps.size());
  SmsSegments out;
  if (gsm) {
    for (char32_t c : cps)
      units.push_back(In(std::begin(kGsmBasic), std::end(kGsmBasic), c) ? 1 : 2);
    out.encoding = "gsm7";
    out.segments = Pack(units, kSmsGsm7SingleMax, kSmsGsm7ConcatenatedMax);
  } else {
    for (char32_t c : cps) units.push_back(c > 0xFFFF ? 2 : 1);
    out.encoding = "ucs2";
    out.segments = Pack(units, kSmsUcs2SingleMax, kSmsUcs2ConcatenatedMax);
  }
  for (int u : units) out.units += u;
  return out;
}

std::string SmsKeyword(std::string_view text, const std::vector<std::string>& opt_out_extra) {
  const std::string word = Upper(Trim(text));
  if (word.empty() || word.size() > kSmsKeywordBytesMax) return "";
  if (word == "STOP" || word == "UNSUBSCRIBE") return "stop";
  for (const auto& k : opt_out_extra) {
    if (word == Upper(Trim(k))) return "stop";
  }
  if (word == "START") return "start";
  return "";
}

}  // namespace opsbox::intake
