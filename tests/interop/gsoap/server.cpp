// The interop contract (wsdl/interop.wsdl) served by gSOAP, for soapbridge's interop tests.
//
// Built by the gsoap_server fixture (tests/interop/conftest.py) from the WSDL, WSDL-first:
//   wsdl2h -o interop.h wsdl/interop.wsdl
//   soapcpp2 -j -S -x -L -I/usr/share/gsoap/import interop.h
//   g++ -O0 -o interop-server server.cpp soapC.cpp soapInteropSoapBindingService.cpp -lgsoap++
// then run as `interop-server PORT`: SOAP 1.1 and 1.2 on every path (the version is the request's
// envelope namespace), GET /health answers "ok".
//
// gSOAP quirks handled here:
// - wsdl2h collects both bindings into one service class: the SOAP 1.2 binding's operations get
//   a trailing underscore (Add_) and share the request elements, so both names run the same code;
// - the WSDL has a SOAP 1.2 binding, so the generated namespace table makes SOAP 1.2 the primary
//   version. gSOAP reads each request's version from its envelope, but the generated dispatch()
//   then re-installs the table, which sets the version back to 1.2: a SOAP 1.1 request got a 1.1
//   envelope holding a 1.2-layout fault (Code/Reason), as application/soap+xml. The class below
//   overrides the per-request init so the request's version stands;
// - a std::string holds Latin-1 unless the context has SOAP_C_UTFSTRING: "日本" arrived as "å,"
//   (each character cut to 8 bits), "zoë" survived; main() sets the mode;
// - xsd:decimal is a std::string holding the lexical form: parsed and written here.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "soapInteropSoapBindingService.h"
#include "InteropSoapBinding.nsmap"  // the global table libgsoap++ links against


namespace {

const long long INT_MIN_ = -2147483648LL;
const long long INT_MAX_ = 2147483647LL;
const size_t TALLY_LIMIT = 20;

// A double as an xsd:decimal: no exponent, at most 15 significant digits, no trailing zeros
// (as tests/interop/php/lib.php's xsd_decimal does).
std::string decimal_text(double value) {
    if (value == 0.0) return "0";
    int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value)))) + 1;
    int fraction = magnitude >= 15 ? 0 : 15 - magnitude;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", fraction, value);
    std::string text(buf);
    if (text.find('.') != std::string::npos) {
        text.erase(text.find_last_not_of('0') + 1);
        if (text.back() == '.') text.pop_back();
    }
    return text == "-0" ? "0" : text;
}

// The fault's Detail, in the place the request's SOAP version uses (detail / SOAP-ENV:Detail).
SOAP_ENV__Detail *fault_detail(struct soap *soap) {
    soap_faultdetail(soap);  // creates it
    return soap->version == 2 ? soap->fault->SOAP_ENV__Detail : soap->fault->detail;
}

class Interop : public InteropSoapBindingService {
  public:
    // The generated dispatch() calls this before every request, and the base version installs the
    // generated namespace table again, which puts SOAP 1.2 back as the version after gSOAP has read
    // the request's (see the quirks). The constructor installed the table once; keep the modes only.
    void InteropSoapBindingService_init(soap_mode imode, soap_mode omode) override {
        soap_imode(soap, imode);
        soap_omode(soap, omode);
    }

    int Add(_ns1__Add *in, _ns1__AddResponse &out) override {
        long long sum = static_cast<long long>(in->a) + in->b;
        if (sum < INT_MIN_ || sum > INT_MAX_) {
            return soap_receiverfault("result out of range for xs:int", nullptr);
        }
        out.result = static_cast<int>(sum);
        return SOAP_OK;
    }

    int Divide(_ns1__Divide *in, _ns1__DivideResponse &out) override {
        double dividend = std::strtod(in->dividend.c_str(), nullptr);
        double divisor = std::strtod(in->divisor.c_str(), nullptr);
        if (divisor == 0.0) {
            std::string text = decimal_text(dividend);
            soap_senderfault("division by zero", nullptr);
            auto *detail = soap_new__ns1__DivisionByZeroFault(soap);
            detail->dividend = text;
            detail->message = "cannot divide " + text + " by zero";
            fault_detail(soap)->ns1__DivisionByZeroFault = detail;
            return SOAP_FAULT;
        }
        out.quotient = decimal_text(dividend / divisor);
        return SOAP_OK;
    }

    int Tally(_ns1__Tally *in, _ns1__TallyResponse &out) override {
        if (in->word.size() > TALLY_LIMIT) {
            soap_senderfault("too many words", nullptr);
            auto *detail = soap_new__ns1__TooManyWordsFault(soap);
            detail->limit = static_cast<int>(TALLY_LIMIT);
            detail->received = static_cast<int>(in->word.size());
            fault_detail(soap)->ns1__TooManyWordsFault = detail;
            return SOAP_FAULT;
        }
        std::vector<std::pair<std::string, int>> counts;  // first appearance first
        for (const std::string &w : in->word) {
            auto it = counts.begin();
            while (it != counts.end() && it->first != w) ++it;
            if (it == counts.end()) counts.emplace_back(w, 1); else ++it->second;
        }
        out.total = static_cast<int>(in->word.size());
        for (const auto &c : counts) {
            auto *entry = soap_new_ns1__WordCount(soap);
            entry->word = c.first;
            entry->count = c.second;
            out.entry.push_back(entry);
        }
        return SOAP_OK;
    }

    // the SOAP 1.2 binding's names for the same operations
    int Add_(_ns1__Add *in, _ns1__AddResponse &out) override { return Add(in, out); }
    int Divide_(_ns1__Divide *in, _ns1__DivideResponse &out) override { return Divide(in, out); }
    int Tally_(_ns1__Tally *in, _ns1__TallyResponse &out) override { return Tally(in, out); }

    InteropSoapBindingService *copy() override { return nullptr; }
};

int health(struct soap *soap) {
    soap->http_content = "text/plain";
    if (soap_response(soap, SOAP_FILE) || soap_send(soap, "ok\n") || soap_end_send(soap)) return soap->error;
    return SOAP_OK;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    Interop service;
    service.soap->fget = health;
    soap_set_mode(service.soap, SOAP_C_UTFSTRING);  // std::string holds UTF-8, not Latin-1
    service.soap->bind_flags = SO_REUSEADDR;
    if (!soap_valid_socket(service.bind("127.0.0.1", std::atoi(argv[1]), 16))) {
        service.soap_stream_fault(std::cerr);
        return 1;
    }
    std::printf("listening %s\n", argv[1]);
    std::fflush(stdout);
    for (;;) {
        if (!soap_valid_socket(service.accept())) {
            service.soap_stream_fault(std::cerr);
            continue;
        }
        if (service.serve() != SOAP_OK && service.soap->error != SOAP_STOP) {
            service.soap_stream_fault(std::cerr);
        }
        service.destroy();
    }
}
