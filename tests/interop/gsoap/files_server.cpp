// wsdl/files.wsdl served by gSOAP with MTOM, for soapbridge's MTOM interop tests
// (tests/interop/test_mtom_gsoap.py).
//
// Built by the gsoap_files_server fixture (tests/interop/conftest.py), WSDL-first:
//   wsdl2h -o files.h files.wsdl
//   soapcpp2 -j -S -x -L -I/usr/share/gsoap/import files.h
//   g++ -O0 -DWITH_PURE_VIRTUAL -o files-server files_server.cpp soapC.cpp soapFileSoapService.cpp -lgsoap++ -lcrypto
// then run as `files-server PORT`: SOAP 1.1 and 1.2 on every path (the version is the request's),
//   GET /health         "ok"
//   GET /last-request   how the last Upload arrived: its HTTP Content-Type, a newline, and "xop"
//                       if gSOAP took the content from an xop:Include (an MTOM part), else "inline"
// Upload answers the size and SHA-256 (OpenSSL) of the bytes gSOAP decoded: the oracle the tests
// compare with. Download of the name "counter:N" answers N bytes, byte i being i mod 251, as an
// MTOM attachment (SOAP_ENC_MTOM); on a path ending in /stream, in gSOAP's streaming form: the
// bytes come from the MIME read callbacks as they are sent, chunked, with no Content-Length.
//
// gSOAP quirks handled here: as in server.cpp, the generated dispatch() re-installs the namespace
// table (forcing SOAP 1.2) before each request, so the per-request init is overridden; the SOAP 1.2
// binding's operations get a trailing underscore (Upload_), sharing the request elements; once
// set, the MIME read callbacks (streaming) take every outgoing attachment's __ptr as their handle,
// so they are set for a streamed download only and cleared before the next request.
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "soapFileSoapService.h"
#include "FileSoap.nsmap"  // the global table libgsoap++ links against

namespace {

std::string last_content_type;  // of the request being read
std::string last_upload = "none";

int (*parse_header)(struct soap *, const char *, const char *) = nullptr;

// gSOAP's HTTP header hook: notes the Content-Type, then lets gSOAP read the header as usual.
int note_header(struct soap *soap, const char *key, const char *val) {
    if (!soap_tag_cmp(key, "Content-Type")) last_content_type = val;
    return parse_header(soap, key, val);
}

std::string sha256_hex(const unsigned char *data, size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr);
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

// The path /stream asks for gSOAP's streaming MTOM.
bool streaming(struct soap *soap) {
    size_t len = soap->path ? std::strlen(soap->path) : 0;
    return len >= 7 && !std::strcmp(soap->path + len - 7, "/stream");
}

struct Counter {
    long long size, sent;
};

void *mime_open(struct soap *, void *handle, const char *, const char *, const char *) { return handle; }

size_t mime_read(struct soap *, void *handle, char *buf, size_t len) {
    auto *c = static_cast<Counter *>(handle);
    size_t n = 0;
    for (; n < len && c->sent < c->size; ++n, ++c->sent) buf[n] = static_cast<char>(c->sent % 251);
    return n;
}

void mime_close(struct soap *, void *) {}

class Files : public FileSoapService {
  public:
    // keep the request's SOAP version (see server.cpp): the table was installed once, by the constructor
    void FileSoapService_init(soap_mode imode, soap_mode omode) override {
        soap_imode(soap, imode);
        soap_omode(soap, omode);
    }

    int Upload(_ns1__Upload *in, _ns1__UploadResponse &out) override {
        const xsd__base64Binary &c = in->content;
        last_upload = last_content_type + "\n" + (c.id ? "xop" : "inline");
        out.size = c.__size;
        out.sha256 = sha256_hex(c.__ptr, c.__ptr ? static_cast<size_t>(c.__size) : 0);
        return SOAP_OK;
    }

    int Download(_ns1__Download *in, _ns1__DownloadResponse &out) override {
        const std::string prefix = "counter:";
        char *end = nullptr;
        long long n = -1;
        if (in->name.compare(0, prefix.size(), prefix) == 0) n = std::strtoll(in->name.c_str() + prefix.size(), &end, 10);
        if (n < 0 || n > 200000000 || end == nullptr || *end != '\0') {
            return soap_senderfault("no such file (names are counter:N, N bytes of i mod 251)", nullptr);
        }
        out.content.type = const_cast<char *>("application/octet-stream");  // a type: gSOAP sends it as an MTOM part
        if (streaming(soap)) {
            // gSOAP's streaming MTOM: __ptr is a handle for the fmimeread callbacks, no size: chunked HTTP
            auto *counter = static_cast<Counter *>(soap_malloc(soap, sizeof(Counter)));
            *counter = Counter{n, 0};
            out.content.__ptr = reinterpret_cast<unsigned char *>(counter);
            out.content.__size = 0;
            soap->fmimereadopen = mime_open;
            soap->fmimeread = mime_read;
            soap->fmimereadclose = mime_close;
            soap_set_omode(soap, SOAP_IO_CHUNK);
            return SOAP_OK;
        }
        auto *data = static_cast<unsigned char *>(soap_malloc(soap, n ? n : 1));
        for (long long i = 0; i < n; ++i) data[i] = static_cast<unsigned char>(i % 251);
        out.content.__ptr = data;
        out.content.__size = static_cast<int>(n);
        return SOAP_OK;
    }

    int Upload_(_ns1__Upload *in, _ns1__UploadResponse &out) override { return Upload(in, out); }
    int Download_(_ns1__Download *in, _ns1__DownloadResponse &out) override { return Download(in, out); }

    FileSoapService *copy() override { return nullptr; }
};

int get(struct soap *soap) {
    std::string body = "ok\n";
    if (soap->path && !std::strcmp(soap->path, "/last-request")) body = last_upload;
    soap->http_content = "text/plain";
    if (soap_response(soap, SOAP_FILE) || soap_send(soap, body.c_str()) || soap_end_send(soap)) return soap->error;
    return SOAP_OK;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    Files service;
    service.soap->fget = get;
    parse_header = service.soap->fparsehdr;
    service.soap->fparsehdr = note_header;
    soap_set_mode(service.soap, SOAP_C_UTFSTRING);
    soap_set_omode(service.soap, SOAP_ENC_MTOM);  // replies as MTOM
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
        last_content_type.clear();
        // one request per connection (no keep-alive): undo a streamed download's settings, as the
        // callbacks, when set, read every attachment's __ptr as their handle
        soap_clr_omode(service.soap, SOAP_IO);
        service.soap->fmimereadopen = nullptr;
        service.soap->fmimeread = nullptr;
        service.soap->fmimereadclose = nullptr;
        if (service.serve() != SOAP_OK && service.soap->error != SOAP_STOP) {
            service.soap_stream_fault(std::cerr);
        }
        service.destroy();
    }
}
