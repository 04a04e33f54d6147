// Channel adapters: pure parsers and signature checks for what providers send, turning each
// delivery into normalised inbound items for the receive_inbound command (intake.hpp). No I/O,
// no clock reads, no recursion on input; thread-safe. Errors name the field at fault (a dotted
// path into the provider's payload such as "entry[0].changes[0].value.messages[1].id") and the
// rule ("required", "type", "format", "max_bytes", "max_items").
//
// Item JSON (the receive_inbound payload's items[]):
//   message: {kind:"message", provider_message_id, from:{phone?, email?, wa_id?, external_id?,
//             name?}, text, content:{type, …provider metadata}, sent_at_us, language?,
//             thread?:{message_id, in_reply_to, references[]}}      (e-mail threading)
//   status:  {kind:"status", provider_message_id, status, at_us, sequence?, errors?}
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace opsbox::intake {

inline constexpr size_t kWebhookBodyBytesMax = 1024 * 1024;  // provider bodies we parse
inline constexpr size_t kFormFieldsMax = 200;                // form-encoded fields
inline constexpr size_t kEmailPartsMax = 100;                // MIME parts we look at

// --- Text encoding ---

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF). Events are JSON: a string that is not UTF-8 cannot be encoded into one.
bool IsUtf8(std::string_view s);
// Every string and object key in `value` is well-formed UTF-8; else the error names a bad one
// by its path below `path` ("items[0].content.subject"), rule "utf8". Iterative; visits
// at most kUtf8CheckNodesMax values (more is an error on `path`, rule "max_items").
inline constexpr size_t kUtf8CheckNodesMax = 100000;
Status CheckUtf8(const Json& value, std::string_view path);

// --- WhatsApp Cloud API ---

// Parses a webhook POST body (object "whatsapp_business_account" → entry[] → changes[] →
// value.messages[] / value.statuses[]). Text, media (image, audio, video, document, sticker),
// interactive (button_reply, list_reply), button, location and contacts messages; unknown types
// are kept with their type and no text. Returns {items:[…], phone_number_id}.
Result<Json> ParseWhatsAppWebhook(std::string_view body);
// X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(app_secret, raw body); constant-time.
bool VerifyWhatsAppSignature(std::string_view app_secret, std::string_view header,
                             std::string_view body);
std::string WhatsAppSignature(std::string_view app_secret, std::string_view body);

// --- Twilio voice ---

using FormFields = std::vector<std::pair<std::string, std::string>>;
// application/x-www-form-urlencoded ('+' is a space). Errors: field "body", rule "format" or
// "max_items" (kFormFieldsMax).
Result<FormFields> ParseForm(std::string_view body);
// X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + each key and value concatenated in key
// order)). `url` is the full URL Twilio called (public base URL + path + query).
std::string TwilioSignature(std::string_view auth_token, std::string_view url,
                            const FormFields& fields);
bool VerifyTwilioSignature(std::string_view auth_token, std::string_view header,
                           std::string_view url, const FormFields& fields);
// Both Twilio parsers first require every form field name and value to be UTF-8 (field: the
// form key, or "body" for a bad key; rule "utf8"), since providers' bytes end up in events.
// An incoming call (CallSid, From, To required): a "message" item with content
// {type:"call", call_status, direction, to}.
Result<Json> ParseTwilioIncomingCall(const FormFields& fields);
// A status callback (CallSid, CallStatus required): a "status" item; `sequence` from
// SequenceNumber; terminal statuses close the call's conversation.
Result<Json> ParseTwilioStatusCallback(const FormFields& fields);
bool IsTerminalCallStatus(std::string_view status);
// The TwiML answer to an incoming call: say the greeting (XML-escaped) and enqueue the call.
std::string IncomingCallTwiml(std::string_view greeting);

// --- SMS (issue #14), Twilio's Messaging webhooks ---

inline constexpr int kSmsGsm7SingleMax = 160;        // septets in a one-part GSM-7 message
inline constexpr int kSmsGsm7ConcatenatedMax = 153;  // per part of a multi-part one (UDH)
inline constexpr int kSmsUcs2SingleMax = 70;         // UTF-16 units in a one-part UCS-2 message
inline constexpr int kSmsUcs2ConcatenatedMax = 67;   // per part of a multi-part one
inline constexpr size_t kSmsKeywordBytesMax = 32;    // longer texts are never keywords
inline constexpr size_t kSmsOptOutKeywordsMax = 20;  // a tenant's own opt-out keywords

struct SmsSegments {
  std::string encoding;  // "gsm7" when every character is in the GSM 7-bit alphabet or its
                         // extension table (3GPP TS 23.038), else "ucs2"
  int64_t units = 0;     // septets (extension characters count 2) or UTF-16 code units
  int64_t segments = 0;  // 0 for an empty text
};
// Segments of `text` (UTF-8): one part up to 160 septets / 70 units, else parts of 153 / 67,
// an escape pair or a surrogate pair never split across two parts.
SmsSegments CountSmsSegments(std::string_view text);

// An inbound SMS (MessageSid or SmsSid, From, To, Body, NumMedia) as a message item with
// from.phone and content {type:"sms", to, num_media?}. Errors name the form field.
Result<Json> ParseTwilioSms(const FormFields& fields);
// A status callback (MessageSid, MessageStatus: accepted, scheduled, queued, sending, sent,
// delivered, undelivered, failed, read, canceled; ErrorCode) as a status item; "undelivered"
// becomes status "failed" and both failures carry errors [{code: ErrorCode, title: status}].
Result<Json> ParseTwilioSmsStatus(const FormFields& fields);
// "stop" when the whole text (trimmed, any case) is STOP, UNSUBSCRIBE or one of the tenant's
// own keywords; "start" for START; else "".
std::string SmsKeyword(std::string_view text, const std::vector<std::string>& opt_out_extra);

// --- E-mail ---

// Parses a raw RFC 5322 message with GMime: From (required), Subject, Date, Message-ID,
// In-Reply-To, References; the first text/plain part as text, else the first text/html part
// converted with HtmlToText; attachments' metadata {filename, content_type, size_bytes}. The
// item's provider_message_id is the Message-ID (required, rule "required" on field
// "Message-ID"). Decoded headers and text that are not UTF-8 fail with rule "utf8" on the
// header's name ("From", "Subject", "Message-ID", "In-Reply-To", "References") or on "text"
// or "attachments[i].filename".
Result<Json> ParseEmail(std::string_view raw);
// Visible text of an HTML document: tags dropped, script/style/head content skipped, block
// elements and <br> as line breaks, the common named and numeric entities decoded, runs of
// blank space collapsed. Never fails; bounded by the input size.
std::string HtmlToText(std::string_view html);

// --- Generic chat JSON API (contracts §6) ---

// {provider_message_id, from:{external_id?, phone?, email?, name?}, text, sent_at?, language?}
// with at least one identifier in from; sent_at at most 5 minutes after `now`.
Result<Json> ParseChatMessage(const Json& body, Instant now);

}  // namespace opsbox::intake
