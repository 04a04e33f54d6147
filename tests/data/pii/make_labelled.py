#!/usr/bin/env python3
"""Writes labelled.jsonl (text + gold PII spans, byte offsets; the part tuned on), holdout.jsonl
(the held-out part: other phrasings and values, reported separately, not tuned on) and
clean.txt (PII-free lines) for the PII tests and bench/pii. Deterministic (seed 3); run from anywhere:

    python3 tests/data/pii/make_labelled.py

Values are made valid the way real ones are (Luhn, Verhoeff, IBAN mod-97, SSN ranges, Indian
mobile ranges) and sit in chat, e-mail, call-note and transcript phrasing from Indian and US
banking contact centres; hard negatives (order numbers failing Luhn, UTR and ticket numbers,
dates without birth context, amounts, OTPs, handles) carry no spans. Gold labels are what a
person would mark, not what the scanner finds.
"""
import json
import os
import random

R = random.Random(3)
HERE = os.path.dirname(os.path.abspath(__file__))

VD = [[0,1,2,3,4,5,6,7,8,9],[1,2,3,4,0,6,7,8,9,5],[2,3,4,0,1,7,8,9,5,6],[3,4,0,1,2,8,9,5,6,7],
      [4,0,1,2,3,9,5,6,7,8],[5,9,8,7,6,0,4,3,2,1],[6,5,9,8,7,1,0,4,3,2],[7,6,5,9,8,2,1,0,4,3],
      [8,7,6,5,9,3,2,1,0,4],[9,8,7,6,5,4,3,2,1,0]]
VP = [[0,1,2,3,4,5,6,7,8,9],[1,5,7,6,2,8,3,0,9,4],[5,8,0,3,7,9,6,1,4,2],[8,9,1,6,0,4,3,5,2,7],
      [9,4,5,3,1,2,0,7,8,6],[4,2,8,6,5,7,3,9,0,1],[2,7,9,3,8,0,6,4,1,5],[7,0,4,6,9,1,3,2,5,8]]
VINV = [0,4,3,2,1,5,6,7,8,9]


def digits(n):
    return "".join(R.choice("0123456789") for _ in range(n))


def verhoeff_check(num):
    c = 0
    for i, ch in enumerate(reversed(num)):
        c = VD[c][VP[(i + 1) % 8][int(ch)]]
    return str(VINV[c])


def luhn_check(num):
    s = 0
    for i, ch in enumerate(reversed(num)):
        x = int(ch)
        if i % 2 == 0:
            x *= 2
            x -= 9 if x > 9 else 0
        s += x
    return str((10 - s % 10) % 10)


def group(s, sizes, sep):
    out, i = [], 0
    for n in sizes:
        out.append(s[i:i + n])
        i += n
    if i < len(s):
        out.append(s[i:])
    return sep.join(out)


def card(sep=None):
    kind = R.choice(["visa", "visa", "mc", "mc2", "amex", "rupay", "disc"])
    prefix, length = {"visa": ("4", 16), "mc": (R.choice(["51", "52", "53", "54", "55"]), 16),
                      "mc2": ("2221", 16), "amex": (R.choice(["34", "37"]), 15),
                      "rupay": (R.choice(["6521", "6522", "508", "60"]), 16),
                      "disc": ("6011", 16)}[kind]
    body = prefix + digits(length - len(prefix) - 1)
    num = body + luhn_check(body)
    if sep is None:
        sep = R.choice(["", " ", " ", "-"])
    if sep == "":
        return num
    return group(num, [4, 6, 5] if length == 15 else [4, 4, 4, 4], sep)


def bad_card():
    body = "4" + digits(14)
    good = luhn_check(body)
    bad = str((int(good) + R.randint(1, 9)) % 10)
    return body + bad


def aadhaar():
    body = R.choice("23456789") + digits(10)
    num = body + verhoeff_check(body)
    return R.choice([group(num, [4, 4, 4], " "), group(num, [4, 4, 4], " "), num])


def bad_twelve():
    body = R.choice("23456789") + digits(10)
    good = verhoeff_check(body)
    return body + str((int(good) + R.randint(1, 9)) % 10)


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def pan():
    return ("".join(R.choice(LETTERS) for _ in range(3)) + R.choice("PPPPCFHT") +
            R.choice(LETTERS) + digits(4) + R.choice(LETTERS))


def ifsc():
    return R.choice(["HDFC", "ICIC", "SBIN", "UTIB", "KKBK", "PUNB", "BARB", "CNRB", "YESB",
                     "IDIB", "INDB"]) + "0" + digits(6)


def account():
    n = R.choice([11, 12, 14, 15, 16])
    return R.choice("123456789") + digits(n - 1)


def iban():
    cc, bban = R.choice([("GB", lambda: "".join(R.choice(LETTERS) for _ in range(4)) + digits(14)),
                         ("DE", lambda: digits(18)), ("FR", lambda: digits(23)),
                         ("NL", lambda: "".join(R.choice(LETTERS) for _ in range(4)) + digits(10)),
                         ("ES", lambda: digits(20)), ("AE", lambda: digits(19))])
    b = bban()
    rearranged = b + cc + "00"
    num = int("".join(str(int(ch, 36)) for ch in rearranged))
    check = 98 - num % 97
    s = f"{cc}{check:02d}{b}"
    return R.choice([s, " ".join(s[i:i + 4] for i in range(0, len(s), 4))])


def ssn(sep="-"):
    while True:
        a, g, s = R.randint(1, 899), R.randint(1, 99), R.randint(1, 9999)
        if a != 666:
            break
    return f"{a:03d}{sep}{g:02d}{sep}{s:04d}"


def mobile():
    num = R.choice("6789") + digits(9)
    style = R.randint(0, 5)
    if style == 0:
        return "+91 " + num[:5] + " " + num[5:]
    if style == 1:
        return "+91-" + num
    if style == 2:
        return num[:5] + " " + num[5:]
    if style == 3:
        return "0" + num
    if style == 4:
        return "+91" + num
    return num


def us_phone():
    return R.choice(["+1 (212) 736-4000", "+1 415 867 5309", "+1-646-555-3890", "+1 (312) 924 7710",
                     "+1 617 253 1000", "+1 (213) 740 2311"])


FIRST = ["Priya", "Rahul", "Anjali", "Vikram", "Sneha", "Arjun", "Meera", "Rohan", "Kavya",
         "Aditya", "Neha", "Suresh", "John", "Emily", "Carlos", "Fatima", "Deepak", "Pooja"]
LAST = ["Sharma", "Iyer", "Patel", "Reddy", "Nair", "Gupta", "Singh", "Menon", "Das", "Khan",
        "Smith", "Johnson", "Garcia", "Mehta", "Joshi", "Kulkarni"]
DOMAINS = ["gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com", "example.in",
           "hotmail.com", "company.co.in", "icloud.com"]
PSPS = ["okicici", "oksbi", "okhdfcbank", "okaxis", "ybl", "ibl", "axl", "paytm", "upi", "apl"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def email():
    f, l = R.choice(FIRST).lower(), R.choice(LAST).lower()
    local = R.choice([f"{f}.{l}", f"{f}{l}{R.randint(1, 99)}", f"{f[0]}{l}", f"{f}_{l}"])
    return local + "@" + R.choice(DOMAINS)


def upi():
    f = R.choice(FIRST).lower()
    local = R.choice([f + str(R.randint(10, 999)), R.choice("6789") + digits(9), f + "." +
                      R.choice(LAST).lower()])
    return local + "@" + R.choice(PSPS)


def date_value():
    d, m, y = R.randint(1, 28), R.randint(1, 12), R.randint(1950, 2004)
    return R.choice([f"{d:02d}/{m:02d}/{y}", f"{d:02d}-{m:02d}-{y}", f"{y}-{m:02d}-{d:02d}",
                     f"{d} {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1][:3]} {d}, {y}",
                     f"{d:02d}.{m:02d}.{y}"])


def passport():
    return R.choice("ABCGHJKLMNPRSTUVWZ") + R.choice("123456789") + digits(6)


def voter():
    return "".join(R.choice(LETTERS) for _ in range(3)) + digits(7)


def cvv():
    return digits(R.choice([3, 3, 3, 4]))


# Issue #15: the classes an independent set found missing, written from the formats' rules.
# Card numbers from the networks' published IIN ranges and lengths (test numbers included:
# Luhn-valid numbers of a real range are cards), Luhn check digit added.
IIN = [("2200", 16), ("2201", 16), ("2202", 16), ("2204", 16), ("1", 15), ("3528", 16),
       ("3589", 16), ("36", 14), ("300", 14), ("6759", 16), ("6763", 18), ("62", 16), ("62", 19),
       ("65", 16), ("644", 16), ("81", 16), ("353", 16), ("5018", 16), ("2720", 16)]
TEST_CARDS = ["4012888888881881", "4111111111111111", "4242424242424242", "5555555555554444",
              "378282246310005", "6011111111111117", "3530111333300000", "5105105105105100"]


def card_of(prefix, length):
    body = prefix + digits(length - len(prefix) - 1)
    return body + luhn_check(body)


def spell(num, sep):
    """A card number in its usual spellings: plain, 4-4-4-4 (4-6-5 for 15, 4-6-4 for 14)."""
    if sep == "":
        return num
    sizes = {15: [4, 6, 5], 14: [4, 6, 4]}.get(len(num), [4, 4, 4, 4])
    return group(num, sizes, sep)


def network_card():
    prefix, length = R.choice(IIN)
    return spell(card_of(prefix, length), R.choice(["", " ", "-"]))


def test_card():
    return spell(R.choice(TEST_CARDS), R.choice(["", " ", "-"]))


def bad_card_spaced():
    """16 digits in 4-4-4-4 with a wrong Luhn digit: no card, and no Aadhaar in its slices."""
    n = bad_card()
    return group(n, [4, 4, 4, 4], R.choice([" ", "-"]))


def ssn_dots():
    return ssn(".")


SAMPLE_SSNS = ["078-05-1120", "219-09-9999"] + [f"987-65-432{i}" for i in range(10)]


def idn_email():
    f = R.choice(FIRST).lower()
    return f + "@" + R.choice(["xn--80ak6aa92e.com", "xn--mller-kva.de", "bücher.de",
                               "例子.广告", "xn--fsqu00a.xn--3lr804guic", "пример.рф",
                               "mañana.es", "xn--p1ai.xn--p1ai", "münchen.de"])


def israel_phone():
    return R.choice(["09-", "03-", "04-", "02-", "08-"]) + R.choice("5689") + digits(6) \
        if R.random() < 0.6 else "05" + R.choice("0234") + "-" + R.choice("2345678") + digits(6)


def china_mobile():
    n = R.choice(["138", "139", "136", "150", "186", "188"]) + digits(8)
    return R.choice([n, n[:3] + " " + n[3:7] + " " + n[7:], n[:3] + "-" + n[3:7] + "-" + n[7:]])


def us_fictional():
    area = R.choice(["212", "415", "312", "617", "202", "646", "213"])
    line = "01" + digits(2)
    return R.choice([f"({area}) 555-{line}", f"{area}-555-{line}", f"{area}.555.{line}",
                     f"{area} 555 {line}"])


def pan_lookalike():
    """PAN-shaped but in lower case (no PAN context), or in mixed case."""
    p = pan()
    return R.choice([p.lower(), p[:3].lower() + p[3:], p[0] + p[1:5].lower() + p[5:]])


class Line:
    def __init__(self):
        self.text = ""
        self.spans = []

    def t(self, s):
        self.text += s
        return self

    def p(self, s, kind):
        start = len(self.text.encode())
        self.text += s
        self.spans.append({"start": start, "end": len(self.text.encode()), "type": kind})
        return self

    def json(self):
        return json.dumps({"text": self.text, "spans": self.spans}, ensure_ascii=False)


def name():
    return R.choice(FIRST) + " " + R.choice(LAST)


# Templates: each returns a Line. Positive ones first, then hard negatives.
def positives():
    return [
        lambda: Line().t("Hi, my card number is ").p(card(), "card").t(" and it was charged twice."),
        lambda: Line().t("Customer: ").p(card(" "), "card").t(" exp 09/27 cvv ").p(cvv(), "cvv"),
        lambda: Line().t("[agent] Please do not share your CVV. [customer] ok the cvv is ")
            .p(cvv(), "cvv"),
        lambda: Line().t("Card ending 4821 blocked; replacement for ").p(card(), "card")
            .t(" dispatched."),
        lambda: Line().t("Dear team, kindly refund to my credit card ").p(card("-"), "card")
            .t(". Regards, " + name()),
        lambda: Line().t("Security code: ").p(cvv(), "cvv").t(", card ").p(card(""), "card"),
        lambda: Line().t("Aadhaar: ").p(aadhaar(), "aadhaar").t(" for KYC update please"),
        lambda: Line().t("Sir mera aadhaar number ").p(aadhaar(), "aadhaar").t(" hai, link kar do"),
        lambda: Line().t("KYC docs received. UID ").p(aadhaar(), "aadhaar").t(", PAN ")
            .p(pan(), "pan").t("."),
        lambda: Line().t("PAN card no. ").p(pan(), "pan").t(" - please update in CKYC"),
        lambda: Line().t("my pan is ").p(pan().lower(), "pan"),
        lambda: Line().t("Beneficiary IFSC ").p(ifsc(), "ifsc").t(", account no ")
            .p(account(), "bank_account"),
        lambda: Line().t("Transfer to A/c ").p(account(), "bank_account").t(" IFSC: ")
            .p(ifsc(), "ifsc").t(" (" + name() + ")"),
        lambda: Line().t("Please credit the refund to my savings account ")
            .p(account(), "bank_account").t(" at the Koramangala branch."),
        lambda: Line().t("acct# ").p(account(), "bank_account").t(" was debited Rs 4,999 twice"),
        lambda: Line().t("Wire to IBAN ").p(iban(), "iban").t(" BIC DEUTDEFF."),
        lambda: Line().t("My IBAN is ").p(iban(), "iban").t(", please send the remittance there"),
        lambda: Line().t("SSN ").p(ssn(), "ssn").t(" verified by agent."),
        lambda: Line().t("Caller gave social security number ").p(ssn(""), "ssn")
            .t(" for identity check"),
        lambda: Line().t("Applicant " + name() + ", SSN: ").p(ssn(), "ssn").t(", DOB: ")
            .p(date_value(), "dob"),
        lambda: Line().t("Call me on ").p(mobile(), "phone").t(" after 6 pm."),
        lambda: Line().t("Customer callback number ").p(mobile(), "phone").t(", prefers Hindi."),
        lambda: Line().t("whatsapp pe msg karo ").p(mobile(), "phone"),
        lambda: Line().t("Alternate contact: ").p(mobile(), "phone").t(" / ").p(email(), "email"),
        lambda: Line().t("US office: ").p(us_phone(), "phone").t(" (9am-5pm ET)."),
        lambda: Line().t("Please write to ").p(email(), "email").t(" with the statement."),
        lambda: Line().t("From: " + name() + " <").p(email(), "email").t(">"),
        lambda: Line().t("email id change to ").p(email(), "email").t(" pls"),
        lambda: Line().t("Pay via UPI to ").p(upi(), "upi").t(" and share the UTR."),
        lambda: Line().t("my upi id is ").p(upi(), "upi").t(", refund there"),
        lambda: Line().t("Sent Rs 500 from ").p(upi(), "upi").t(" but not reflected"),
        lambda: Line().t("DOB ").p(date_value(), "dob").t(", name " + name()),
        lambda: Line().t("Date of birth: ").p(date_value(), "dob").t(". Mother's maiden name on file."),
        lambda: Line().t("I was born on ").p(date_value(), "dob").t(" so I am a senior citizen"),
        lambda: Line().t("Passport number ").p(passport(), "passport").t(" expires next year."),
        lambda: Line().t("passport: ").p(passport(), "passport").t(", voter ID ")
            .p(voter(), "voter_id"),
        lambda: Line().t("Voter ID card (EPIC) ").p(voter(), "voter_id").t(" submitted as address proof"),
        lambda: Line().t("Name: " + name() + "\nMobile: ").p(mobile(), "phone").t("\nEmail: ")
            .p(email(), "email").t("\nPAN: ").p(pan(), "pan"),
        lambda: Line().t("Agent note: cust verified with DOB ").p(date_value(), "dob")
            .t(" and last 4 of card; callback on ").p(mobile(), "phone"),
        lambda: Line().t("Transcript: my account number is ").p(account(), "bank_account")
            .t(" and IFSC ").p(ifsc(), "ifsc").t(" thank you"),
        lambda: Line().t("Hello, ").p(aadhaar(), "aadhaar").t(" is my Aadhaar and ")
            .p(mobile(), "phone").t(" my number."),
        lambda: Line().t("Card ").p(card(), "card").t(" cvv2 ").p(cvv(), "cvv")
            .t(" expiry 11/28 - please process"),
        lambda: Line().t("मेरा कार्ड नंबर ").p(card(), "card").t(" है"),
        lambda: Line().t("Kindly update my e-mail to ").p(email(), "email").t(" and mobile to ")
            .p(mobile(), "phone").t("."),
        lambda: Line().t("NRI customer, IBAN ").p(iban(), "iban").t(", UK mobile ")
            .p(R.choice(["+44 20 7946 0018", "+44 7911 123456", "+44 161 496 0000"]), "phone"),
        lambda: Line().t("Card on file: ").p(network_card(), "card").t(", please update the limit."),
        lambda: Line().t("The tester used ").p(test_card(), "card").t(" at checkout."),
        lambda: Line().t("Refund the Mir card ").p(spell(card_of(R.choice(["2200", "2203"]), 16),
                                                        R.choice(["", " "])), "card"),
        lambda: Line().t("Airline UATP account ").p(spell(card_of("1", 15), R.choice(["", " "])),
                                                     "card").t(" charged for the ticket."),
        lambda: Line().t("Please verify ").p(aadhaar(), "aadhaar").t(" for the customer."),
        lambda: Line().t("Number given was ").p(aadhaar(), "aadhaar").t(", matches the form"),
        lambda: Line().t("His SSN is ").p(ssn_dots(), "ssn").t(" per the application."),
        lambda: Line().t("Caller read out ").p(ssn_dots(), "ssn").t(" as his social security number"),
        lambda: Line().t("New e-mail: ").p(idn_email(), "email").t(" (confirmed by OTP)."),
        lambda: Line().t("Send the statement to ").p(idn_email(), "email"),
        lambda: Line().t("Her Israeli number is ").p(israel_phone(), "phone").t(", call after 9."),
        lambda: Line().t("Customer is in Israel now, reachable on ").p(israel_phone(), "phone"),
        lambda: Line().t("Chinese mobile ").p(china_mobile(), "phone").t(" for the remittance query"),
        lambda: Line().t("He moved to China; new number ").p(china_mobile(), "phone").t("."),
        lambda: Line().t("US contact ").p(us_fictional(), "phone").t(" during New York hours."),
        lambda: Line().t("Call my US number ").p(us_fictional(), "phone").t(" instead."),
    ]


def negatives():
    return [
        lambda: Line().t(f"Order #{bad_card()} has been shipped."),
        lambda: Line().t(f"UTR {bad_twelve()} for your NEFT of Rs 25,000 is generated."),
        lambda: Line().t(f"Your OTP is {digits(6)}. Do not share it with anyone."),
        lambda: Line().t(f"Ticket INC{digits(7)} raised; SLA 48 hours."),
        lambda: Line().t(f"Invoice INV{digits(7)} dated 12/03/2024 is attached."),
        lambda: Line().t(f"EMI of Rs {R.randint(1, 99)},{digits(3)} due on {R.randint(1, 28)}/0{R.randint(1, 9)}/2025."),
        lambda: Line().t("Meeting moved to 2024-03-12 at 10:30 IST."),
        lambda: Line().t("Please never share your CVV or OTP with anyone, including bank staff."),
        lambda: Line().t("Follow us @paytm and @hdfcbank for offers."),
        lambda: Line().t(f"Complaint ref CMP/{digits(4)}/{digits(5)} registered."),
        lambda: Line().t(f"Branch pin code {R.choice('1234567')}{digits(5)}, open 10 to 4."),
        lambda: Line().t(f"Loan account closed; NOC number NOC{digits(8)} issued."),
        lambda: Line().t("Your card ending with 1234 was used at AMAZON for Rs 1,299.00."),
        lambda: Line().t(f"Transaction id {digits(20)} failed, amount will be reversed."),
        lambda: Line().t("Contact us at support@localhost for test mails."),
        lambda: Line().t("Hi, I want to know the status of my credit card application."),
        lambda: Line().t(f"Tracking number 1Z{digits(16)} via courier."),
        lambda: Line().t("Interest rate revised to 8.75% from 1 April 2024."),
        lambda: Line().t(f"Your request SR{digits(9)} is resolved. Rate us 1-5."),
        lambda: Line().t(f"Version 3.14.159 released; build {digits(5)}."),
        lambda: Line().t(f"Policy no. {R.choice('1234')}{digits(3)}/{digits(4)}/{digits(2)} renewed."),
        lambda: Line().t("The agent asked about the security code on the back of the card."),
        lambda: Line().t(f"Balance Rs {R.randint(1, 9)},{digits(2)},{digits(3)}.{digits(2)} as on today."),
        lambda: Line().t("Please visit https://bank.example.in/help for more."),
        lambda: Line().t(f"Case {digits(4)}-{digits(4)}-{digits(4)}-{digits(4)}-{digits(4)} escalated."),
        lambda: Line().t(f"Reference {bad_card_spaced()} does not match any card."),
        lambda: Line().t(f"Voucher code {pan_lookalike()} applied to the order."),
        lambda: Line().t(f"The SSA's sample number {R.choice(SAMPLE_SSNS)} appears in old ads."),
        lambda: Line().t(f"Training deck: use {R.choice(SAMPLE_SSNS)} as the example SSN."),
        lambda: Line().t(f"Upgraded the app to version 1.{digits(3)}.{digits(2)}.{digits(4)} today."),
        lambda: Line().t(f"Luhn fails: {bad_card()} is not a card number."),
    ]


CLEAN = [
    "Hi, how can I help you today?",
    "Thank you for contacting customer care. Your request has been noted.",
    "I have raised a complaint about the failed transaction yesterday evening.",
    "Could you please check why my statement shows a late fee this month?",
    "The app keeps logging me out after the last update, please fix it.",
    "Sure, I will transfer this chat to the cards team. Please hold on.",
    "As per RBI guidelines the refund will be processed within 7 working days.",
    "Dear Customer, your feedback is important to us. Please rate this conversation.",
    "I want to close my fixed deposit before maturity, what is the penalty?",
    "Our branch timings are 10 am to 4 pm, Monday to Friday, except bank holidays.",
    "mujhe apna loan foreclose karna hai, process kya hai?",
    "Kindly note that the EMI will be debited on the 5th of every month.",
    "We regret the inconvenience caused. The issue has been escalated to the concerned team.",
    "The reward points will be credited in the next billing cycle.",
    "Please confirm if you would like to convert this purchase into EMI.",
    "Your complaint has been resolved. If you are not satisfied, you may reply within 10 days.",
    "Agent note: customer upset about repeated calls, requested a supervisor callback.",
    "Is there any charge for issuing a duplicate statement for last year?",
    "The ATM did not dispense cash but the amount was debited from my account.",
    "Hello team, attaching the documents requested for the home loan top-up.",
    "Thanks, that solved my problem. Have a nice day!",
    "Can I increase my credit limit? I have been a customer for five years.",
    "Supervisor approved the waiver of the annual fee for this year.",
    "Please share the reason for the rejection of my personal loan application.",
    "The debit card was blocked after three wrong PIN attempts, how do I unblock it?",
    "We are experiencing high call volumes; expected wait time is 4 minutes.",
    "Customer wants to update nominee details for the savings account.",
    "Please note that the bank never asks for your PIN, password or OTP.",
    "I travelled abroad last month and my card was declined at a hotel in Dubai.",
    "The cheque book request will be dispatched to your registered address.",
    "Kal tak refund nahi aaya toh main complaint escalate karunga.",
    "Transcript: agent greeted, customer asked about gold loan interest rates.",
    "Please find the revised schedule attached. Let me know if the dates work.",
    "We have waived the late payment charges as a one-time goodwill gesture.",
    "My net banking password expired, the reset link does not open.",
    "Call centre hours changed to 8 am - 8 pm from next Monday.",
]


# The held-out part (holdout.jsonl): other phrasings of every class, other values.
# Tuning looks only at labelled.jsonl; bench/pii reports holdout.jsonl separately.
def holdout_positives():
    return [
        lambda: Line().t("pls charge ").p(card(), "card").t(" for the annual fee"),
        lambda: Line().t("QA replay: customer typed ").p(test_card(), "card").t(" into the chat"),
        lambda: Line().t("Mir card number ").p(spell(card_of(R.choice(["2201", "2204"]), 16), " "),
                                               "card").t(" was declined abroad."),
        lambda: Line().t("Travel desk paid with ").p(card_of("1", 15), "card"),
        lambda: Line().t("").p(network_card(), "card").t(" is the card I want to close"),
        lambda: Line().t("JCB ").p(spell(card_of("3566", 16), "-"), "card").t(" charged twice"),
        lambda: Line().t("I gave ").p(aadhaar(), "aadhaar").t(" at the branch yesterday"),
        lambda: Line().t("").p(aadhaar(), "aadhaar").t(" - please link to my account"),
        lambda: Line().t("aadhar no ").p(aadhaar(), "aadhaar"),
        lambda: Line().t("PAN: ").p(pan(), "pan").t(" / GST pending"),
        lambda: Line().t("my pan number is ").p(pan().lower(), "pan"),
        lambda: Line().t("IFSC code ").p(ifsc(), "ifsc").t(" for the NEFT"),
        lambda: Line().t("savings a/c ").p(account(), "bank_account").t(" please check"),
        lambda: Line().t("IBAN: ").p(iban(), "iban"),
        lambda: Line().t("ssn ").p(ssn(), "ssn").t(" confirmed"),
        lambda: Line().t("SSN on the W-2 is ").p(ssn_dots(), "ssn"),
        lambda: Line().t("Applicant wrote ").p(ssn_dots(), "ssn").t(" in the social security box"),
        lambda: Line().t("reach me at ").p(mobile(), "phone"),
        lambda: Line().t("Israel office line ").p(israel_phone(), "phone"),
        lambda: Line().t("I live in China, my phone is ").p(china_mobile(), "phone"),
        lambda: Line().t("For the US branch dial ").p(us_fictional(), "phone"),
        lambda: Line().t("mail ").p(email(), "email").t(" thx"),
        lambda: Line().t("IDN address ").p(idn_email(), "email").t(" bounced once"),
        lambda: Line().t("upi: ").p(upi(), "upi"),
        lambda: Line().t("D.O.B ").p(date_value(), "dob"),
        lambda: Line().t("passport no. ").p(passport(), "passport"),
        lambda: Line().t("EPIC no ").p(voter(), "voter_id"),
        lambda: Line().t("cvv ").p(cvv(), "cvv").t(" and card ").p(card(), "card"),
        # Second round (the first round's figures are in docs/benchmarks.md): new phrasings.
        lambda: Line().t("Kindly update Aadhaar ").p(aadhaar(), "aadhaar").t(" in my savings account"),
        lambda: Line().t("Customer dictated ").p(network_card(), "card").t(" slowly; masked in CRM"),
        lambda: Line().t("While in Israel use ").p(israel_phone(), "phone").t(" for OTP calls"),
        lambda: Line().t("Beijing office (China): ").p(china_mobile(), "phone"),
        lambda: Line().t("Backup e-mail ").p(idn_email(), "email").t("; primary unchanged"),
        lambda: Line().t("Form 1040 shows SSN ").p(ssn_dots(), "ssn"),
        lambda: Line().t("Mir debit ").p(card_of("2202", 16), "card").t(" blocked after travel"),
        lambda: Line().t("Dial the U.S. desk on ").p(us_fictional(), "phone"),
    ]


def holdout_negatives():
    return [
        lambda: Line().t(f"Ref no {bad_card_spaced()} invalid."),
        lambda: Line().t(f"Promo {pan_lookalike()} expired"),
        lambda: Line().t(f"Example SSN {R.choice(SAMPLE_SSNS)} from an SSA sample card"),
        lambda: Line().t(f"Order {bad_card()} delayed"),
        lambda: Line().t(f"UTR {bad_twelve()} credited"),
        lambda: Line().t(f"Build 2.{digits(3)}.{digits(2)}.{digits(4)} deployed"),
        lambda: Line().t(f"OTP {digits(6)} valid for 5 minutes"),
        lambda: Line().t(f"Ticket #{digits(8)} closed"),
        lambda: Line().t("write to noreply@invalid for nothing"),
        lambda: Line().t(f"amount Rs {R.randint(1, 99)},{digits(3)}.00 debited on 12/03/2024"),
        lambda: Line().t(f"Batch {bad_card_spaced()} rejected by the switch"),
        lambda: Line().t(f"coupon {pan_lookalike()} not valid"),
        lambda: Line().t(f"Ad copy must show {R.choice(SAMPLE_SSNS)}, the SSA sample"),
    ]


def write(path, pos, neg, n_pos, n_neg):
    lines = [pos[i % len(pos)]() for i in range(n_pos)] + [neg[i % len(neg)]() for i in range(n_neg)]
    R.shuffle(lines)
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line.json() + "\n")


def main():
    write(os.path.join(HERE, "labelled.jsonl"), positives(), negatives(), 400, 150)
    R.seed(1502)  # second round: fresh values (round one, seed 15, was looked at once)
    write(os.path.join(HERE, "holdout.jsonl"), holdout_positives(), holdout_negatives(), 288, 104)
    with open(os.path.join(HERE, "clean.txt"), "w", encoding="utf-8") as f:
        for c in CLEAN:
            f.write(c + "\n")


if __name__ == "__main__":
    main()
